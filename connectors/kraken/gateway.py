"""Kraken spot trading: orders over the authenticated WS v2 (`trade_socket.py`, requests in
`orders.py`), queries and the account over signed private REST (`auth.py`).

The exactly-once check (`query` by client order id) asks REST `OpenOrders` then `ClosedOrders`,
both filtered by `cl_ord_id`: REST sees every order the account has, closed ones included, at
the moment of the question. The executions snapshot was the other choice and is not used for
this: it holds the open orders (and the last 50 fills) only, so an order that was placed and
already canceled or expired would look unplaced; it also needs a new subscription per question.
A request sent but not answered is an unknown outcome, never resent blindly.

Cancel-all of one symbol is a `cancel_order` of that symbol's open orders (Kraken's
`cancel_all` takes no symbol); of the whole venue, `cancel_all`. Amend is Kraken's own
`amend_order` (in place: order_qty is the new total).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ttxt_kafka.credentials import Credentials
from ttxt_kafka.events import Event, OrderStatus, OrderUpdate, now_us
from ttxt_kafka.orders.errors import ErrorKind, ExchangeFailure
from ttxt_kafka.orders.normalize import PARSE_ERRORS
from ttxt_kafka.orders.state import KnownOrder
from ttxt_kafka.orders.validation import (
    InvalidCommand,
    ValidAmend,
    ValidCancel,
    ValidCancelAll,
    ValidCreate,
)

from ..base.errors import ExchangeError, ExchangeMessageError, MalformedMessage
from ..base.ratelimit import WeightLimiter
from ..base.rest import RestClient, RestRequest
from ..base.symbols import SymbolMap
from ..trading.gateway import Gateway, Placed, Result, failure_from, transport_failure
from . import auth
from . import endpoints as ep
from . import orders as rq
from .connector import kraken_error
from .normalizer_private import KrakenPrivateNormalizer, orders_from_rest, wallet_from_rest
from .normalizer_spot import places_of
from .order_errors import rest_failure
from .trade_socket import TradeSocket

OPEN = (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)
_UNREADABLE = (*PARSE_ERRORS, MalformedMessage, ExchangeMessageError)


def _classify(code: str, message: str, status: int | None) -> ExchangeFailure:
    return rest_failure(code, message, status)


def not_sent(why: str) -> ExchangeFailure:
    """Nothing left this process (no connection, no token): safe to send again later."""
    return ExchangeFailure("NOT_SENT", why[:300], ErrorKind.SERVER_BUSY, None)


class KrakenGateway(Gateway):
    exchange = "kraken"

    def __init__(self, *, venue: str, credentials: Credentials, rest_base: str, trade_ws: str,
                 symbols: SymbolMap, natives: Callable[[], list[str]], timeout: float = 10.0,
                 limiter: WeightLimiter | None = None, heartbeat: float = 30.0) -> None:
        auth.check_secret(credentials)  # a secret that is not base64: a config error, now
        self.venue = venue
        self.credentials = credentials
        self.symbols = symbols
        self.natives = natives
        self.nonces = auth.Nonces()
        # retries=0: the executor decides what is retried (and asks before resending)
        self.rest = RestClient("kraken", rest_base, limiter=limiter, sign=self._sign,
                               error_parser=kraken_error, timeout=timeout, retries=0)
        self.trade = TradeSocket(trade_ws, self.token, timeout=timeout, heartbeat=heartbeat)
        self.normalizer = KrakenPrivateNormalizer(symbols)

    async def close(self) -> None:
        await self.trade.close()
        await self.rest.close()

    def _sign(self, req: RestRequest) -> RestRequest:
        nonce = self.nonces.next()
        body = auth.form_body(dict(req.params), nonce)
        return req.with_(params={}, body=body,
                         headers={**req.headers,
                                  **auth.headers(self.credentials, req.path, nonce, body)})

    async def _post(self, path: str, params: dict[str, str] | None = None) -> Any:
        """A private REST call's `result`, or an ExchangeFailure."""
        try:
            return await self.rest.request("POST", path, params or {}, signed=True)
        except ExchangeError as exc:
            return failure_from(exc, _classify)

    async def token(self) -> str | ExchangeFailure:
        body = await self._post(ep.TOKEN_PATH)
        if isinstance(body, ExchangeFailure):
            return body
        token = (body.get("result") or {}).get("token") if isinstance(body, dict) else None
        return str(token) if token else transport_failure("no token in the answer")

    def _places(self, native: str) -> rq.Places:
        for info in self.symbols.instruments.values():
            if info.native_symbol == native:
                return places_of(info.tick_size), places_of(info.lot_size)
        raise InvalidCommand(f"{native} is not in the instrument list")

    async def _op(self, method: str, params: dict[str, Any]) -> Result:
        answer = await self.trade.request(method, params)
        if answer is None:
            refusal = self.trade.refusal
            return refusal if refusal is not None else not_sent("order WS not connected")
        if isinstance(answer, ExchangeFailure):
            return answer
        result = rq.parse_answer(answer)
        if isinstance(result, ExchangeFailure):
            return result
        return Placed(result.order_id, result.client_order_id, result.exchange_ts)

    @staticmethod
    def _invalid(exc: InvalidCommand) -> ExchangeFailure:
        return ExchangeFailure("EGeneral:Invalid arguments", str(exc), ErrorKind.INVALID_REQUEST)

    # ------------------------------------------------------------------ orders

    async def create(self, order: ValidCreate) -> Result:
        try:
            params = rq.create_params(order, self._places(order.native_symbol))
        except InvalidCommand as exc:
            return self._invalid(exc)
        placed = await self._op(rq.ADD, params)
        if isinstance(placed, Placed) and not placed.client_order_id:
            return Placed(placed.order_id, order.client_order_id, placed.exchange_ts)
        return placed

    async def cancel(self, cancel: ValidCancel) -> Result:
        return await self._op(rq.CANCEL, rq.cancel_params(cancel))

    async def amend(self, amend: ValidAmend, current: KnownOrder | None) -> Result:
        try:
            params = rq.amend_params(amend, self._places(amend.native_symbol))
        except InvalidCommand as exc:
            return self._invalid(exc)
        return await self._op(rq.AMEND, params)

    async def cancel_all(self, cancel: ValidCancelAll, open_symbols: list[str]) -> Result:
        if not cancel.native_symbol:
            return await self._op(rq.CANCEL_ALL, {})
        open_orders = await self.open_orders()
        if isinstance(open_orders, ExchangeFailure):
            return open_orders
        ids = [o.order_id for o in open_orders if o.native_symbol == cancel.native_symbol]
        if not ids:
            return Placed(note="nothing open")
        return await self._op(rq.CANCEL, rq.cancel_ids_params(ids))

    # ------------------------------------------------------------------ queries

    async def _orders(self, path: str, params: dict[str, str]
                      ) -> list[OrderUpdate] | ExchangeFailure:
        body = await self._post(path, params)
        if isinstance(body, ExchangeFailure):
            return body
        try:
            return orders_from_rest(body, self.normalizer, now_us())
        except _UNREADABLE as exc:
            return transport_failure(f"unreadable orders: {exc}")

    async def query(self, native_symbol: str, *, client_order_id: str | None = None,
                    order_id: str | None = None) -> OrderUpdate | None | ExchangeFailure:
        for path in (ep.OPEN_ORDERS_PATH, ep.CLOSED_ORDERS_PATH):
            params = {"cl_ord_id": client_order_id} if client_order_id else {}
            found = await self._orders(path, params)
            if isinstance(found, ExchangeFailure):
                return found
            found = [o for o in found if (not order_id or o.order_id == order_id)
                     and (not client_order_id or o.client_order_id == client_order_id)]
            if found:
                return found[0]
        return None

    async def open_orders(self) -> list[OrderUpdate] | ExchangeFailure:
        found = await self._orders(ep.OPEN_ORDERS_PATH, {})
        if isinstance(found, ExchangeFailure):
            return found
        return [o for o in found if o.status in OPEN]

    async def account(self) -> list[Event] | ExchangeFailure:
        body = await self._post(ep.BALANCE_EX_PATH)
        if isinstance(body, ExchangeFailure):
            return body
        try:
            return [wallet_from_rest(body, now_us(), self.venue)]
        except _UNREADABLE as exc:
            return transport_failure(f"unreadable balances: {exc}")

