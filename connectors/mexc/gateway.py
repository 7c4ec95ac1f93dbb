"""MEXC spot v3 trading over signed REST: orders (`orders.py`), signed per attempt with
`auth.signed_query` and sent exactly as signed (the pre-encoded query string), answers turned
into `Placed` / `ExchangeFailure`; and the listen key the private stream needs.

MEXC has no amend: `amend` is the documented cancel-replace (cancel, then the same client order
id placed again with the new price and the rest of the new quantity), so the executor hands it
the order's known state (`amend_needs_known_order`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from ttxt_kafka.credentials import Credentials
from ttxt_kafka.events import Event, OrderStatus, OrderUpdate, now_us
from ttxt_kafka.orders.errors import ErrorKind, ExchangeFailure
from ttxt_kafka.orders.normalize import PARSE_ERRORS
from ttxt_kafka.orders.requests import RestCall
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
from . import orders as rq
from .connector import mexc_error
from .normalizer_private import MexcPrivateNormalizer, orders_from_rest, wallet_from_rest
from .order_errors import failure

OPEN = (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)
_UNREADABLE = (*PARSE_ERRORS, MalformedMessage, ExchangeMessageError)


class MexcGateway(Gateway):
    exchange = "mexc"
    amend_needs_known_order = True

    def __init__(self, *, venue: str, credentials: Credentials, rest_base: str,
                 symbols: SymbolMap, natives: Callable[[], list[str]],
                 clock_ms: Callable[[], int],
                 recv_window_ms: int = 5000, timeout: float = 10.0,
                 limiter: WeightLimiter | None = None) -> None:
        self.venue = venue
        self.natives = natives  # the configured symbols: MEXC lists open orders per symbol
        self.credentials = credentials
        self.symbols = symbols
        self.clock_ms = clock_ms
        self.recv_window_ms = recv_window_ms
        # retries=0: the executor decides what is retried (and asks before resending)
        self.rest = RestClient("mexc", rest_base, limiter=limiter, sign=self._sign,
                               error_parser=mexc_error, timeout=timeout, retries=0)
        self.normalizer = MexcPrivateNormalizer(symbols)

    async def close(self) -> None:
        await self.rest.close()

    def _sign(self, req: RestRequest) -> RestRequest:
        query = auth.signed_query(self.credentials, dict(req.params),
                                  timestamp_ms=self.clock_ms(),
                                  recv_window_ms=self.recv_window_ms)
        return req.with_(params={}, query=query,
                         headers={**req.headers, **auth.headers(self.credentials)})

    async def _call(self, call: RestCall) -> Any:
        """The parsed body, or an ExchangeFailure."""
        try:
            return await self.rest.request(call.method, call.path, dict(call.params),
                                           weight=call.weight, signed=True)
        except ExchangeError as exc:
            return failure_from(exc, failure)

    async def _order(self, call: RestCall, client_order_id: str | None = None) -> Result:
        body = await self._call(call)
        if isinstance(body, ExchangeFailure):
            return body
        result = rq.parse_response(body)
        if isinstance(result, ExchangeFailure):
            return result
        return Placed(result.order_id, result.client_order_id or client_order_id,
                      result.exchange_ts)

    # ------------------------------------------------------------------ orders

    async def create(self, order: ValidCreate) -> Result:
        return await self._order(rq.create_call(order), order.client_order_id)

    async def cancel(self, cancel: ValidCancel) -> Result:
        return await self._order(rq.cancel_call(cancel), cancel.client_order_id)

    async def amend(self, amend: ValidAmend, current: KnownOrder | None) -> Result:
        if current is None:
            return failure("-2011", "Unknown order sent.")
        try:
            new = rq.replacement(amend, current)
        except InvalidCommand as exc:
            return ExchangeFailure("33333", str(exc), ErrorKind.INVALID_REQUEST, None)
        canceled = await self._order(rq.cancel_call(amend))
        if isinstance(canceled, ExchangeFailure):
            return canceled
        return await self._order(rq.create_call(new), new.client_order_id)

    async def cancel_all(self, cancel: ValidCancelAll, open_symbols: list[str]) -> Result:
        for call in rq.cancel_all_calls(cancel, open_symbols):
            body = await self._call(call)
            if isinstance(body, ExchangeFailure) and body.kind is not ErrorKind.UNKNOWN_ORDER:
                return body  # "unknown order": that symbol had nothing open
        return Placed()

    # ------------------------------------------------------------------ queries

    async def query(self, native_symbol: str, *, client_order_id: str | None = None,
                    order_id: str | None = None) -> OrderUpdate | None | ExchangeFailure:
        body = await self._call(rq.query_call(native_symbol, client_order_id=client_order_id,
                                              order_id=order_id))
        if isinstance(body, ExchangeFailure):
            return None if body.kind is ErrorKind.UNKNOWN_ORDER else body
        try:
            found = orders_from_rest(body, self.normalizer, now_us())
        except _UNREADABLE as exc:
            return transport_failure(f"unreadable order: {exc}")
        return found[0] if found else None

    async def open_orders(self) -> list[OrderUpdate] | ExchangeFailure:
        out: list[OrderUpdate] = []
        for native in self.natives():
            body = await self._call(rq.open_orders_call(native))
            if isinstance(body, ExchangeFailure):
                return body
            try:
                out += [o for o in orders_from_rest(body, self.normalizer, now_us())
                        if o.status in OPEN]
            except _UNREADABLE as exc:
                return transport_failure(f"unreadable open orders: {exc}")
        return out

    async def account(self) -> list[Event] | ExchangeFailure:
        body = await self._call(rq.account_call())
        if isinstance(body, ExchangeFailure):
            return body
        try:
            return [wallet_from_rest(body, now_us(), self.venue)]
        except _UNREADABLE as exc:
            return transport_failure(f"unreadable account: {exc}")

    # ------------------------------------------------------------------ listen key

    async def listen_key(self, action: Literal["create", "keepalive", "close"], key: str = ""
                         ) -> str | ExchangeFailure:
        body = await self._call(rq.listen_key_call(action, key))
        if isinstance(body, ExchangeFailure):
            return body
        return str(body.get("listenKey", "")) if isinstance(body, dict) else ""
