"""Gate.io v4 spot trading over signed REST: orders, queries, open orders, account.

Every request is signed by `auth.sign_rest` over exactly what is sent: the encoded query string,
the JSON body. Order requests are never retried blindly: a transport failure is an unknown
outcome, and the executor asks by client id (`text`) before sending again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ttxt_kafka.credentials import Credentials
from ttxt_kafka.events import Event, OrderStatus, OrderUpdate, now_us
from ttxt_kafka.orders.errors import ErrorKind, ExchangeFailure
from ttxt_kafka.orders.normalize import PARSE_ERRORS
from ttxt_kafka.orders.requests import RestCall
from ttxt_kafka.orders.state import KnownOrder
from ttxt_kafka.orders.validation import ValidAmend, ValidCancel, ValidCancelAll, ValidCreate

from ..base.errors import ExchangeMessageError, MalformedMessage
from ..base.ratelimit import WeightLimiter
from ..base.rest import RestClient, RestRequest
from ..base.symbols import SymbolMap
from ..trading.gateway import Gateway, Placed, Result, send_signed, transport_failure
from . import auth
from . import orders as rq
from .connector import gate_error
from .normalizer_private import GatePrivateNormalizer, orders_from_rest, wallet_from_rest
from .order_errors import failure

OPEN = (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)
READ_ERRORS = (*PARSE_ERRORS, MalformedMessage, ExchangeMessageError)


class GateGateway(Gateway):
    exchange = "gateio"

    def __init__(self, *, venue: str, credentials: Credentials, rest_base: str,
                 symbols: SymbolMap, clock_ms: Callable[[], int], timeout: float = 10.0,
                 limiter: WeightLimiter | None = None) -> None:
        self.venue = venue
        self.credentials = credentials
        self.symbols = symbols
        self.clock_ms = clock_ms
        self.rest = RestClient("gateio", rest_base, limiter=limiter, sign=self._sign,
                               error_parser=gate_error, timeout=timeout, retries=0)
        self.normalizer = GatePrivateNormalizer(symbols, account_venue=venue)

    async def close(self) -> None:
        await self.rest.close()

    def _sign(self, req: RestRequest) -> RestRequest:
        query = auth.encode_query(list(req.params.items())) if req.params else ""
        headers = auth.sign_rest(self.credentials, req.method, req.path, query, req.body or "",
                                 timestamp_s=self.clock_ms() // 1000)
        return req.with_(params={}, query=query, headers={**req.headers, **headers})

    async def _call(self, call: RestCall) -> Any:
        """The parsed body, or an ExchangeFailure."""
        return await send_signed(self.rest, call, failure)

    async def _order_call(self, call: RestCall) -> Result:
        answer = await self._call(call)
        if isinstance(answer, ExchangeFailure):
            return answer
        result = rq.parse_response(answer)
        if isinstance(result, ExchangeFailure):
            return result
        return Placed(result.order_id, result.client_order_id, result.exchange_ts)

    # ------------------------------------------------------------------ orders

    async def create(self, order: ValidCreate) -> Result:
        return await self._order_call(rq.create_call(order))

    async def cancel(self, cancel: ValidCancel) -> Result:
        return await self._order_call(rq.cancel_call(cancel))

    async def amend(self, amend: ValidAmend, current: KnownOrder | None) -> Result:
        return await self._order_call(rq.amend_call(amend))

    async def cancel_all(self, cancel: ValidCancelAll, open_symbols: list[str]) -> Result:
        for call in rq.cancel_all_calls(cancel, open_symbols):
            body = await self._call(call)
            if isinstance(body, ExchangeFailure):
                return body
        return Placed()

    # ------------------------------------------------------------------ queries

    async def query(self, native_symbol: str, *, client_order_id: str | None = None,
                    order_id: str | None = None) -> OrderUpdate | None | ExchangeFailure:
        body = await self._call(rq.query_call(native_symbol, client_order_id=client_order_id,
                                              order_id=order_id))
        if isinstance(body, ExchangeFailure):
            if body.kind is not ErrorKind.UNKNOWN_ORDER:
                return body
            if order_id or not client_order_id:
                return None
            # Gate finds a finished order by text only for a short while: look among the
            # pair's recent finished orders before saying it does not exist.
            body = await self._call(rq.finished_call(native_symbol))
            if isinstance(body, ExchangeFailure):
                return body
        try:
            found = orders_from_rest(body, self.normalizer, now_us())
        except READ_ERRORS as exc:
            return transport_failure(f"unreadable order: {exc}")
        matching = [o for o in found if order_id is None or o.order_id == order_id]
        if client_order_id and not order_id:
            matching = [o for o in matching if o.client_order_id == client_order_id]
        return matching[0] if matching else None

    async def open_orders(self) -> list[OrderUpdate] | ExchangeFailure:
        body = await self._call(rq.open_orders_call())
        if isinstance(body, ExchangeFailure):
            return body
        try:
            return [o for o in orders_from_rest(body, self.normalizer, now_us())
                    if o.status in OPEN]
        except READ_ERRORS as exc:
            return transport_failure(f"unreadable open orders: {exc}")

    async def account(self) -> list[Event] | ExchangeFailure:
        body = await self._call(rq.account_call())
        if isinstance(body, ExchangeFailure):
            return body
        try:
            return list(wallet_from_rest(body, now_us(), self.venue))
        except READ_ERRORS as exc:
            return transport_failure(f"unreadable account: {exc}")
