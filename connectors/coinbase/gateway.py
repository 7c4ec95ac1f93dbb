"""Coinbase Advanced Trade trading over REST (spot): orders, queries, open orders, accounts.

Every request carries a fresh JWT (`auth.Signer`), its `uri` claim naming the request's method,
host and path. Order requests are never retried blindly: a transport failure is an unknown
outcome, and the executor asks by client order id before sending again.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ttxt_kafka.credentials import Credentials
from ttxt_kafka.events import Event, OrderStatus, OrderUpdate, now_us
from ttxt_kafka.orders.errors import ErrorKind, ExchangeFailure
from ttxt_kafka.orders.normalize import PARSE_ERRORS
from ttxt_kafka.orders.requests import RestCall
from ttxt_kafka.orders.state import KnownOrder
from ttxt_kafka.orders.validation import ValidAmend, ValidCancel, ValidCancelAll, ValidCreate

from ..base.errors import ExchangeError, ExchangeMessageError, MalformedMessage, RateLimitedError
from ..base.ratelimit import WeightLimiter
from ..base.rest import RestClient, RestRequest
from ..base.symbols import SymbolMap
from ..trading.gateway import Gateway, Placed, Result, transport_failure
from . import orders as rq
from .auth import Signer
from .connector import coinbase_error
from .normalizer_private import CoinbasePrivateNormalizer, orders_from_rest, wallet_from_rest
from .order_errors import failure

OPEN = (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)
PRIVATE_REQUESTS_PER_S = 30  # Advanced Trade's private REST limit


def as_failure(exc: ExchangeError) -> ExchangeFailure:
    if isinstance(exc, RateLimitedError):
        return ExchangeFailure(exc.code or "429", exc.message, ErrorKind.RATE_LIMIT, exc.status)
    if exc.code:
        return failure(exc.code, exc.message, exc.status)
    if exc.status is None or exc.status >= 500:
        return transport_failure(str(exc))
    return ExchangeFailure(str(exc.status), exc.message, ErrorKind.OTHER, exc.status)


class CoinbaseGateway(Gateway):
    exchange = "coinbase"

    def __init__(self, *, venue: str, credentials: Credentials, rest_base: str,
                 symbols: SymbolMap, timeout: float = 10.0) -> None:
        self.venue = venue
        self.signer = Signer.of(credentials)
        self.host = urlsplit(rest_base).netloc
        self.symbols = symbols
        self.rest = RestClient("coinbase", rest_base,
                               limiter=WeightLimiter(PRIVATE_REQUESTS_PER_S, 1.0),
                               sign=self._sign, error_parser=coinbase_error, timeout=timeout,
                               retries=0)
        self.normalizer = CoinbasePrivateNormalizer(symbols, account_venue=venue)

    async def close(self) -> None:
        await self.rest.close()

    def _sign(self, req: RestRequest) -> RestRequest:
        headers = self.signer.rest_headers(req.method, req.path, self.host)
        return req.with_(headers={**req.headers, **headers, "Content-Type": "application/json"})

    async def _call(self, call: RestCall) -> Any:
        """The parsed body, or an ExchangeFailure."""
        import json

        body = json.dumps(call.body, separators=(",", ":")) if call.body is not None else None
        try:
            return await self.rest.request(call.method, call.path, dict(call.params), body=body,
                                           weight=call.weight, signed=True)
        except ExchangeError as exc:
            return as_failure(exc)

    # ------------------------------------------------------------------ orders

    async def create(self, order: ValidCreate) -> Result:
        answer = await self._call(rq.create_call(order))
        if isinstance(answer, ExchangeFailure):
            return answer
        result = rq.parse_create(answer)
        if isinstance(result, ExchangeFailure):
            return result
        return Placed(result.order_id, result.client_order_id or order.client_order_id)

    async def _order_id(self, native: str, order_id: str | None,
                        client_order_id: str | None) -> OrderUpdate | ExchangeFailure:
        found = await self.query(native, client_order_id=client_order_id, order_id=order_id)
        if found is None:
            return failure("UNKNOWN_CANCEL_ORDER", "order not found")
        return found

    async def cancel(self, cancel: ValidCancel) -> Result:
        order_id = cancel.order_id
        if not order_id:  # Coinbase cancels by order id: find it by the client id
            found = await self._order_id(cancel.native_symbol, None, cancel.client_order_id)
            if isinstance(found, ExchangeFailure):
                return found
            order_id = found.order_id
        [call] = rq.cancel_calls([order_id])
        answer = await self._call(call)
        if isinstance(answer, ExchangeFailure):
            return answer
        results = rq.parse_cancel(answer)
        if not results:
            return transport_failure("batch_cancel answered no result")
        if isinstance(results[0], ExchangeFailure):
            return results[0]
        return Placed(order_id, cancel.client_order_id)

    async def amend(self, amend: ValidAmend, current: KnownOrder | None) -> Result:
        """`orders/edit` needs the order id and both fields: the unchanged one is the order's."""
        found = await self._order_id(amend.native_symbol, amend.order_id, amend.client_order_id)
        if isinstance(found, ExchangeFailure):
            return found
        if found.price is None or found.order_type.value != "LIMIT":
            return failure("INVALID_ARGUMENT", "only resting limit GTC orders can be edited")
        from decimal import Decimal

        price = amend.new_price if amend.new_price is not None else Decimal(found.price)
        size = amend.new_qty if amend.new_qty is not None else Decimal(found.qty)
        answer = await self._call(rq.edit_call(found.order_id, price, size))
        if isinstance(answer, ExchangeFailure):
            return answer
        refused = rq.parse_edit(answer)
        return refused or Placed(found.order_id, found.client_order_id or None)

    async def cancel_all(self, cancel: ValidCancelAll, open_symbols: list[str]) -> Result:
        """List the open orders (of a product, or all), then batch_cancel their ids."""
        ids: list[str] = []
        cursor = ""
        while True:
            body = await self._call(rq.list_call(cancel.native_symbol, open_only=True,
                                                 cursor=cursor))
            if isinstance(body, ExchangeFailure):
                return body
            ids += [str(o["order_id"]) for o in body.get("orders") or []]
            cursor = body.get("cursor") or ""
            if not body.get("has_next") or not cursor:
                break
        for call in rq.cancel_calls(ids):
            answer = await self._call(call)
            if isinstance(answer, ExchangeFailure):
                return answer
            refused = [r for r in rq.parse_cancel(answer) if isinstance(r, ExchangeFailure)
                       and r.kind is not ErrorKind.UNKNOWN_ORDER]  # done meanwhile: fine
            if refused:
                return refused[0]
        return Placed()

    # ------------------------------------------------------------------ queries

    async def query(self, native_symbol: str, *, client_order_id: str | None = None,
                    order_id: str | None = None) -> OrderUpdate | None | ExchangeFailure:
        try:
            if order_id:
                body = await self._call(rq.get_call(order_id))
                if isinstance(body, ExchangeFailure):
                    return None if body.kind is ErrorKind.UNKNOWN_ORDER else body
                found = orders_from_rest(body, self.normalizer, now_us())
                return found[0] if found else None
            cursor = ""
            for _ in range(rq.LIST_PAGES):  # the product's recent orders, newest first
                body = await self._call(rq.list_call(native_symbol, cursor=cursor))
                if isinstance(body, ExchangeFailure):
                    return body
                for o in body.get("orders") or []:
                    if o.get("client_order_id") == client_order_id:
                        return self.normalizer.rest_order(o, now_us())
                cursor = body.get("cursor") or ""
                if not body.get("has_next") or not cursor:
                    break
            return None
        except (*PARSE_ERRORS, MalformedMessage, ExchangeMessageError) as exc:
            return transport_failure(f"unreadable order: {exc}")

    async def open_orders(self) -> list[OrderUpdate] | ExchangeFailure:
        out: list[OrderUpdate] = []
        cursor = ""
        try:
            while True:
                body = await self._call(rq.list_call(open_only=True, cursor=cursor))
                if isinstance(body, ExchangeFailure):
                    return body
                out += [o for o in orders_from_rest(body, self.normalizer, now_us())
                        if o.status in OPEN]
                cursor = body.get("cursor") or ""
                if not body.get("has_next") or not cursor:
                    return out
        except (*PARSE_ERRORS, MalformedMessage, ExchangeMessageError) as exc:
            return transport_failure(f"unreadable open orders: {exc}")

    async def account(self) -> list[Event] | ExchangeFailure:
        accounts: list[dict[str, Any]] = []
        cursor = ""
        while True:
            body = await self._call(rq.accounts_call(cursor))
            if isinstance(body, ExchangeFailure):
                return body
            try:
                accounts += list(body["accounts"])
            except PARSE_ERRORS as exc:
                return transport_failure(f"unreadable accounts: {exc}")
            cursor = body.get("cursor") or ""
            if not body.get("has_next") or not cursor:
                break
        try:
            return [wallet_from_rest(accounts, now_us(), self.venue)]
        except (MalformedMessage, ExchangeMessageError) as exc:
            return transport_failure(f"unreadable accounts: {exc}")
