"""Bitget v2 trading over signed REST (spot and USDT-M): orders, queries, open orders, account.

Every request is signed by `auth.sign_rest` over exactly what is sent: the encoded query string
of a GET, the JSON body of a POST. Order requests are never retried blindly: a transport failure
is an unknown outcome, and the executor asks by clientOid before sending again.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

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
from .connector import bitget_error
from .normalizer_private import (
    BitgetPrivateNormalizer,
    orders_from_rest,
    positions_from_rest,
    wallet_from_rest,
)
from .order_errors import failure

OPEN = (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)


class BitgetGateway(PrehashRestGateway):
    exchange = "bitget"
    sign_rest = staticmethod(auth.sign_rest)
    parse_response = staticmethod(rq.parse_response)
    failure = staticmethod(failure)

    def __init__(self, *, venue: str, spot: bool, credentials: Credentials, rest_base: str,
                 symbols: SymbolMap, clock_ms: Callable[[], int], timeout: float = 10.0,
                 limiter: WeightLimiter | None = None) -> None:
        credentials.require_passphrase("Bitget")
        self.venue = venue
        self.spot = spot
        self.credentials = credentials
        self.symbols = symbols
        self.clock_ms = clock_ms
        self.rest = self._rest_client("bitget", rest_base, bitget_error, timeout, limiter)
        self.normalizer = BitgetPrivateNormalizer(symbols, account_venue=venue)

    # ------------------------------------------------------------------ orders

    async def create(self, order: ValidCreate) -> Result:
        return await self._order_call(rq.create_call(order, self.spot))

    async def cancel(self, cancel: ValidCancel) -> Result:
        return await self._order_call(rq.cancel_call(cancel, self.spot))

    async def amend(self, amend: ValidAmend, current: KnownOrder | None) -> Result:
        qty = price = None
        if self.spot and (amend.new_qty is None or amend.new_price is None):
            found = await self.query(amend.native_symbol, client_order_id=amend.client_order_id,
                                     order_id=amend.order_id)
            if isinstance(found, ExchangeFailure):
                return found
            if found is None:
                return failure("43001", "The order does not exist")
            qty = Decimal(found.qty)
            price = Decimal(found.price) if found.price else None
        return await self._order_call(rq.amend_call(amend, self.spot, qty, price))

    async def cancel_all(self, cancel: ValidCancelAll, open_symbols: list[str]) -> Result:
        for call in rq.cancel_all_calls(cancel, self.spot, open_symbols):
            body = await self._call(call)
            if isinstance(body, ExchangeFailure):
                return body
        return Placed()

    # ------------------------------------------------------------------ queries

    async def query(self, native_symbol: str, *, client_order_id: str | None = None,
                    order_id: str | None = None) -> OrderUpdate | None | ExchangeFailure:
        body = await self._call(rq.query_call(native_symbol, self.spot,
                                              client_order_id=client_order_id,
                                              order_id=order_id))
        if isinstance(body, ExchangeFailure):
            return None if body.kind is ErrorKind.UNKNOWN_ORDER else body
        try:
            found = orders_from_rest(body, self.normalizer, now_us())
        except (*PARSE_ERRORS, MalformedMessage, ExchangeMessageError) as exc:
            return transport_failure(f"unreadable order: {exc}")
        return found[0] if found else None

    async def open_orders(self) -> list[OrderUpdate] | ExchangeFailure:
        body = await self._call(rq.open_orders_call(self.spot))
        if isinstance(body, ExchangeFailure):
            return body
        try:
            return [o for o in orders_from_rest(body, self.normalizer, now_us())
                    if o.status in OPEN]
        except (*PARSE_ERRORS, MalformedMessage, ExchangeMessageError) as exc:
            return transport_failure(f"unreadable open orders: {exc}")

    async def account(self) -> list[Event] | ExchangeFailure:
        calls = rq.account_calls(self.spot)
        body = await self._call(calls[0])
        if isinstance(body, ExchangeFailure):
            return body
        now = now_us()
        try:
            events: list[Event] = list(wallet_from_rest(body, now, self.venue))
        except (MalformedMessage, ExchangeMessageError) as exc:
            return transport_failure(f"unreadable account: {exc}")
        for call in calls[1:]:
            positions = await self._call(call)
            if isinstance(positions, ExchangeFailure):
                return positions
            try:
                events += positions_from_rest(positions, self.normalizer, now)
            except (MalformedMessage, ExchangeMessageError) as exc:
                return transport_failure(f"unreadable positions: {exc}")
        return events
