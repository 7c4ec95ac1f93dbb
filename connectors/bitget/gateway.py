"""Bitget v2 trading over signed REST (spot and USDT-M): orders, queries, open orders, account.

Every request is signed by `auth.sign_rest` over exactly what is sent: the encoded query string
of a GET, the JSON body of a POST. Order requests are never retried blindly: a transport failure
is an unknown outcome, and the executor asks by clientOid before sending again.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
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
from .connector import bitget_error
from .normalizer_private import (
    BitgetPrivateNormalizer,
    orders_from_rest,
    positions_from_rest,
    wallet_from_rest,
)
from .order_errors import failure

OPEN = (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)


class BitgetGateway(Gateway):
    exchange = "bitget"

    def __init__(self, *, venue: str, spot: bool, credentials: Credentials, rest_base: str,
                 symbols: SymbolMap, clock_ms: Callable[[], int], timeout: float = 10.0,
                 limiter: WeightLimiter | None = None) -> None:
        credentials.require_passphrase("Bitget")
        self.venue = venue
        self.spot = spot
        self.credentials = credentials
        self.symbols = symbols
        self.clock_ms = clock_ms
        self.rest = RestClient("bitget", rest_base, limiter=limiter, sign=self._sign,
                               error_parser=bitget_error, timeout=timeout, retries=0)
        self.normalizer = BitgetPrivateNormalizer(symbols, account_venue=venue)

    async def close(self) -> None:
        await self.rest.close()

    def _sign(self, req: RestRequest) -> RestRequest:
        query = auth.encode_query(list(req.params.items())) if req.params else ""
        headers = auth.sign_rest(self.credentials, req.method, req.path, query, req.body or "",
                                 timestamp_ms=self.clock_ms())
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
