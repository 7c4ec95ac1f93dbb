"""OKX v5 trading over signed REST (spot and swaps): orders, queries, open orders, account.

Every request is signed by `auth.sign_rest` over exactly what is sent: the path with its
encoded query string for a GET, the JSON body of a POST. Order requests are never retried
blindly: a transport failure is an unknown outcome, and the executor asks by clOrdId before
sending again. Swap quantities go out in contracts and come back as base quantities (`orders`,
`normalizer_private`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ttxt_kafka.credentials import Credentials
from ttxt_kafka.events import Event, OrderStatus, OrderUpdate, now_us
from ttxt_kafka.orders.errors import ErrorKind, ExchangeFailure
from ttxt_kafka.orders.normalize import PARSE_ERRORS
from ttxt_kafka.orders.state import KnownOrder
from ttxt_kafka.orders.validation import ValidAmend, ValidCancel, ValidCancelAll, ValidCreate

from ..base.errors import ExchangeMessageError, MalformedMessage
from ..base.ratelimit import WeightLimiter
from ..base.symbols import SymbolMap
from ..trading.gateway import Placed, PrehashRestGateway, Result, transport_failure
from . import auth
from . import orders as rq
from .connector import okx_error
from .normalizer_private import (
    OkxPrivateNormalizer,
    orders_from_rest,
    positions_from_rest,
    wallet_from_rest,
)
from .order_errors import failure

OPEN = (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)


class OkxGateway(PrehashRestGateway):
    exchange = "okx"
    sign_rest = staticmethod(auth.sign_rest)
    parse_response = staticmethod(rq.parse_response)
    failure = staticmethod(failure)

    def __init__(self, *, venue: str, inst_type: str, credentials: Credentials, rest_base: str,
                 symbols: SymbolMap, clock_ms: Callable[[], int], timeout: float = 10.0,
                 limiter: WeightLimiter | None = None) -> None:
        credentials.require_passphrase("OKX")
        self.venue = venue
        self.inst_type = inst_type
        self.spot = inst_type == "SPOT"
        self.credentials = credentials
        self.symbols = symbols
        self.clock_ms = clock_ms
        self.rest = self._rest_client("okx", rest_base, okx_error, timeout, limiter)
        self.normalizer = OkxPrivateNormalizer(symbols, account_venue=venue)

    def _info(self, symbol: str) -> Any:
        return self.symbols.instruments.get(symbol)

    # ------------------------------------------------------------------ orders

    async def create(self, order: ValidCreate) -> Result:
        return await self._order_call(rq.create_call(order, self._info(order.symbol)))

    async def cancel(self, cancel: ValidCancel) -> Result:
        return await self._order_call(rq.cancel_call(cancel))

    async def amend(self, amend: ValidAmend, current: KnownOrder | None) -> Result:
        return await self._order_call(rq.amend_call(amend, self._info(amend.symbol)))

    async def cancel_all(self, cancel: ValidCancelAll, open_symbols: list[str]) -> Result:
        body = await self._call(rq.open_orders_call(self.inst_type, cancel.native_symbol))
        if isinstance(body, ExchangeFailure):
            return body
        try:
            found = orders_from_rest(body, self.normalizer, now_us())
        except (*PARSE_ERRORS, MalformedMessage, ExchangeMessageError) as exc:
            return transport_failure(f"unreadable open orders: {exc}")
        pairs = [(o.native_symbol, o.order_id) for o in found if o.status in OPEN]
        for call in rq.cancel_batch_calls(pairs):
            answer = await self._call(call)
            if isinstance(answer, ExchangeFailure):
                return answer
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
        except (*PARSE_ERRORS, MalformedMessage, ExchangeMessageError) as exc:
            return transport_failure(f"unreadable order: {exc}")
        return found[0] if found else None

    async def open_orders(self) -> list[OrderUpdate] | ExchangeFailure:
        body = await self._call(rq.open_orders_call(self.inst_type))
        if isinstance(body, ExchangeFailure):
            return body
        try:
            return [o for o in orders_from_rest(body, self.normalizer, now_us())
                    if o.status in OPEN]
        except (*PARSE_ERRORS, MalformedMessage, ExchangeMessageError) as exc:
            return transport_failure(f"unreadable open orders: {exc}")

    async def account(self) -> list[Event] | ExchangeFailure:
        calls = rq.account_calls(self.spot)
        events: list[Event] = []
        now = now_us()
        for i, call in enumerate(calls):
            body = await self._call(call)
            if isinstance(body, ExchangeFailure):
                return body
            try:
                events += (wallet_from_rest(body, self.normalizer, now) if i == 0
                           else positions_from_rest(body, self.normalizer, now))
            except (*PARSE_ERRORS, MalformedMessage, ExchangeMessageError) as exc:
                return transport_failure(f"unreadable account: {exc}")
        return events
