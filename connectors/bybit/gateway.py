"""Bybit v5 trading: orders over the WebSocket trade API (lowest latency), REST when the socket
is not there; queries, open orders, wallet and positions over signed REST.

REST is signed by `auth.sign_rest` over exactly what is sent: the encoded query string of a
GET, the JSON body of a POST. A trade-API request that was sent but got no answer is an
unknown outcome, never resent over REST blindly (the executor asks by orderLinkId first).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ttxt_kafka.credentials import Credentials
from ttxt_kafka.events import Event, OrderUpdate, PositionUpdate, now_us
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
from . import auth
from . import orders as rq
from .connector import bybit_error
from .normalizer_private import BybitPrivateNormalizer, wallet_from_rest
from .order_errors import failure
from .trade_socket import TradeSocket


def as_failure(exc: ExchangeError) -> ExchangeFailure:
    code = exc.code or ""
    if code.isdigit():
        return failure(int(code), exc.message, exc.status)
    if isinstance(exc, RateLimitedError):
        return ExchangeFailure(str(exc.status), exc.message, ErrorKind.RATE_LIMIT, exc.status)
    if exc.status is None or exc.status >= 500:
        return transport_failure(str(exc))
    return ExchangeFailure(str(exc.status), exc.message, ErrorKind.OTHER, exc.status)


class BybitGateway(Gateway):
    exchange = "bybit"

    def __init__(self, *, venue: str, credentials: Credentials, rest_base: str,
                 trade_ws: str | None, symbols: SymbolMap, clock_ms: Callable[[], int],
                 recv_window_ms: int = 5000, timeout: float = 10.0,
                 limiter: WeightLimiter | None = None) -> None:
        self.venue = venue
        self.category = rq.category_of(venue)
        self.credentials = credentials
        self.symbols = symbols
        self.clock_ms = clock_ms
        self.recv_window_ms = recv_window_ms
        self.rest = RestClient("bybit", rest_base, limiter=limiter, sign=self._sign,
                               error_parser=bybit_error, timeout=timeout, retries=0)
        self.trade = (TradeSocket(trade_ws, credentials, clock_ms, recv_window_ms=recv_window_ms,
                                  timeout=timeout) if trade_ws else None)
        self.normalizer = BybitPrivateNormalizer(symbols, account_venue=venue)
        self.rest_orders = 0  # order requests that went over REST

    async def close(self) -> None:
        if self.trade is not None:
            await self.trade.close()
        await self.rest.close()

    def _sign(self, req: RestRequest) -> RestRequest:
        if req.method == "GET":
            query = auth.encode_query(list(req.params.items()))
            headers = auth.sign_rest(self.credentials, query, timestamp_ms=self.clock_ms(),
                                     recv_window_ms=self.recv_window_ms)
            return req.with_(params={}, query=query, headers={**req.headers, **headers})
        headers = auth.sign_rest(self.credentials, req.body or "", timestamp_ms=self.clock_ms(),
                                 recv_window_ms=self.recv_window_ms)
        return req.with_(headers={**req.headers, **headers, "Content-Type": "application/json"})

    async def _call(self, call: RestCall) -> Any:
        """The parsed body, or an ExchangeFailure."""
        body = auth.json_body(call.body) if call.body is not None else None
        try:
            return await self.rest.request(call.method, call.path, dict(call.params), body=body,
                                           weight=call.weight, signed=True)
        except ExchangeError as exc:
            return as_failure(exc)

    async def _op(self, op: str, args: dict[str, Any]) -> Result:
        answer: Any = None
        if self.trade is not None:
            answer = await self.trade.request(op, args)
        if answer is None:  # no trade socket: REST
            self.rest_orders += 1
            answer = await self._call(rq.rest_call(op, args))
        if isinstance(answer, ExchangeFailure):
            return answer
        result = rq.parse_response(answer)
        if isinstance(result, ExchangeFailure):
            return result
        return Placed(result.order_id, result.client_order_id, result.exchange_ts)

    # ------------------------------------------------------------------ orders

    async def create(self, order: ValidCreate) -> Result:
        return await self._op("order.create", rq.create_args(order, self.category))

    async def cancel(self, cancel: ValidCancel) -> Result:
        return await self._op("order.cancel", rq.cancel_args(cancel, self.category))

    async def amend(self, amend: ValidAmend, current: KnownOrder | None) -> Result:
        return await self._op("order.amend", rq.amend_args(amend, self.category))

    async def cancel_all(self, cancel: ValidCancelAll, open_symbols: list[str]) -> Result:
        for call in rq.cancel_all_calls(cancel, self.category):
            body = await self._call(call)
            if isinstance(body, ExchangeFailure):
                return body
        return Placed()

    # ------------------------------------------------------------------ queries

    def _orders(self, body: Any) -> list[OrderUpdate]:
        now = now_us()
        items = (body.get("result") or {}).get("list") or []
        return [self.normalizer.order(dict(item, category=self.category), now)
                for item in items]

    async def query(self, native_symbol: str, *, client_order_id: str | None = None,
                    order_id: str | None = None) -> OrderUpdate | None | ExchangeFailure:
        body = await self._call(rq.query_order(self.category, client_order_id=client_order_id,
                                               order_id=order_id, native_symbol=native_symbol))
        if isinstance(body, ExchangeFailure):
            return None if body.kind is ErrorKind.UNKNOWN_ORDER else body
        try:
            found = self._orders(body)
        except (*PARSE_ERRORS, MalformedMessage) as exc:
            return transport_failure(f"unreadable order: {exc}")
        return found[0] if found else None

    async def open_orders(self) -> list[OrderUpdate] | ExchangeFailure:
        body = await self._call(rq.open_orders(self.category))
        if isinstance(body, ExchangeFailure):
            return body
        try:
            return [o for o in self._orders(body)
                    if o.status.value in ("NEW", "PARTIALLY_FILLED")]
        except (*PARSE_ERRORS, MalformedMessage) as exc:
            return transport_failure(f"unreadable open orders: {exc}")

    async def account(self) -> list[Event] | ExchangeFailure:
        body = await self._call(rq.wallet_balance())
        if isinstance(body, ExchangeFailure):
            return body
        now = now_us()
        try:
            events: list[Event] = list(wallet_from_rest(body, now, self.venue))
        except (MalformedMessage, ExchangeMessageError) as exc:
            return transport_failure(f"unreadable wallet: {exc}")
        if self.category != "linear":
            return events
        positions = await self._call(rq.positions())
        if isinstance(positions, ExchangeFailure):
            return positions
        try:
            events += [self._position(p, now)
                       for p in (positions.get("result") or {}).get("list") or []]
        except (*PARSE_ERRORS, MalformedMessage) as exc:
            return transport_failure(f"unreadable positions: {exc}")
        return events

    def _position(self, item: dict[str, Any], now: int) -> PositionUpdate:
        return self.normalizer.position(dict(item, category=self.category), now, now)
