"""Binance spot / USD-M trading over signed REST: phase 1's requests (`orders.py`), signed
per attempt with `auth.sign_rest` and sent exactly as signed (the pre-encoded query string),
answers turned into `Placed` / `ExchangeFailure`.

Also the USD-M listen key (`POST|PUT /fapi/v1/listenKey`, API key header, no signature) that
the user data stream needs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from ttxt_kafka.credentials import Credentials
from ttxt_kafka.events import Event, OrderUpdate, now_us
from ttxt_kafka.orders.errors import ErrorKind, ExchangeFailure
from ttxt_kafka.orders.requests import RestCall
from ttxt_kafka.orders.state import KnownOrder
from ttxt_kafka.orders.validation import ValidAmend, ValidCancel, ValidCancelAll, ValidCreate

from ..base.errors import ExchangeError, MalformedMessage, RateLimitedError
from ..base.ratelimit import WeightLimiter
from ..base.rest import RestClient, RestRequest
from ..base.symbols import SymbolMap
from ..trading.gateway import Gateway, Placed, Result, transport_failure
from . import auth
from . import orders as rq
from .normalizer_private import spot_account_wallet
from .order_errors import failure
from .rest_private import order_update, usdm_account_wallet, usdm_position


def _order_error(status: int, body: Any) -> tuple[str, str] | None:
    """Binance's refusal, including the half of a cancel-replace that failed."""
    if status < 400 and not (isinstance(body, dict) and isinstance(body.get("code"), int)
                             and body["code"] < 0):
        return None
    result = rq.parse_response(status, body)
    return (result.code, result.message) if isinstance(result, ExchangeFailure) else None


def as_failure(exc: ExchangeError) -> ExchangeFailure:
    if isinstance(exc, RateLimitedError):
        return ExchangeFailure(exc.code or str(exc.status), exc.message, ErrorKind.RATE_LIMIT,
                               exc.status)
    code = exc.code or ""
    if code.lstrip("-").isdigit():
        return failure(int(code), exc.message, exc.status)
    if exc.status is None or exc.status >= 500:
        return transport_failure(str(exc))
    return ExchangeFailure(str(exc.status), exc.message, ErrorKind.OTHER, exc.status)


class BinanceGateway(Gateway):
    exchange = "binance"
    amend_needs_known_order = True

    def __init__(self, *, venue: str, credentials: Credentials, rest_base: str,
                 symbols: SymbolMap, clock_ms: Callable[[], int], recv_window_ms: int = 5000,
                 timeout: float = 10.0, limiter: WeightLimiter | None = None) -> None:
        self.venue = venue
        self.market = rq.market_of(venue)
        self.credentials = credentials
        self.symbols = symbols
        self.clock_ms = clock_ms
        self.recv_window_ms = recv_window_ms
        # retries=0: the executor decides what is retried (and asks before resending)
        self.rest = RestClient("binance", rest_base, limiter=limiter, sign=self._sign,
                               error_parser=_order_error, timeout=timeout, retries=0)

    async def close(self) -> None:
        await self.rest.close()

    def _sign(self, req: RestRequest) -> RestRequest:
        signed = auth.sign_rest(self.credentials, list(req.params.items()),
                                timestamp_ms=self.clock_ms(), recv_window_ms=self.recv_window_ms)
        return req.with_(params={}, query=signed.query, headers={**req.headers, **signed.headers})

    async def _call(self, call: RestCall) -> Any:
        """The parsed body, or an ExchangeFailure."""
        headers = {} if call.signed else {auth.API_KEY_HEADER: self.credentials.api_key}
        try:
            return await self.rest.request(call.method, call.path, dict(call.params),
                                           headers=headers, weight=call.weight,
                                           signed=call.signed)
        except ExchangeError as exc:
            return as_failure(exc)

    async def _order(self, call: RestCall) -> Result:
        body = await self._call(call)
        if isinstance(body, ExchangeFailure):
            return body
        result = rq.parse_response(200, body)
        if isinstance(result, ExchangeFailure):
            return result
        return Placed(result.order_id, result.client_order_id, result.exchange_ts)

    # ------------------------------------------------------------------ orders

    async def create(self, order: ValidCreate) -> Result:
        return await self._order(rq.new_order(order, self.market))

    async def cancel(self, cancel: ValidCancel) -> Result:
        return await self._order(rq.cancel_order(cancel, self.market))

    async def amend(self, amend: ValidAmend, current: KnownOrder | None) -> Result:
        return await self._order(rq.amend_order(amend, self.market, current))

    async def cancel_all(self, cancel: ValidCancelAll, open_symbols: list[str]) -> Result:
        for call in rq.cancel_all(cancel, self.market, open_symbols):
            body = await self._call(call)
            if isinstance(body, ExchangeFailure) and body.kind is not ErrorKind.UNKNOWN_ORDER:
                return body  # "unknown order": that symbol had nothing open
        return Placed()

    # ------------------------------------------------------------------ queries

    def _update(self, body: Any) -> OrderUpdate:
        return order_update(body, self.venue, self.symbols.normalized, now_us())

    async def query(self, native_symbol: str, *, client_order_id: str | None = None,
                    order_id: str | None = None) -> OrderUpdate | None | ExchangeFailure:
        body = await self._call(rq.query_order(native_symbol, self.market,
                                               client_order_id=client_order_id,
                                               order_id=order_id))
        if isinstance(body, ExchangeFailure):
            return None if body.kind is ErrorKind.UNKNOWN_ORDER else body
        try:
            return self._update(body)
        except MalformedMessage as exc:
            return transport_failure(f"unreadable order: {exc}")

    async def open_orders(self) -> list[OrderUpdate] | ExchangeFailure:
        body = await self._call(rq.open_orders(self.market))
        if isinstance(body, ExchangeFailure):
            return body
        try:
            return [self._update(o) for o in body]
        except (MalformedMessage, TypeError) as exc:
            return transport_failure(f"unreadable open orders: {exc}")

    async def account(self) -> list[Event] | ExchangeFailure:
        body = await self._call(rq.account(self.market))
        if isinstance(body, ExchangeFailure):
            return body
        now = now_us()
        try:
            if self.market == "spot":
                return [spot_account_wallet(body, now, self.venue)]
            events: list[Event] = [usdm_account_wallet(body, now, self.venue)]
            risk = await self._call(rq.positions())
            if isinstance(risk, ExchangeFailure):
                return risk
            events += [usdm_position(p, self.venue, self.symbols.normalized, now) for p in risk]
            return events
        except (MalformedMessage, TypeError) as exc:
            return transport_failure(f"unreadable account: {exc}")

    # ------------------------------------------------------------------ USD-M listen key

    async def listen_key(self, action: Literal["create", "keepalive", "close"]
                         ) -> str | ExchangeFailure:
        body = await self._call(rq.listen_key(action))
        if isinstance(body, ExchangeFailure):
            return body
        key = body.get("listenKey", "") if isinstance(body, dict) else ""
        return str(key)
