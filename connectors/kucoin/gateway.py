"""KuCoin spot trading over signed REST (HF orders): orders, queries, open orders, account.

Every request is signed by `auth.sign_rest` over exactly what is sent: the path with its
encoded query string, the JSON body of a POST. Order requests are never retried blindly: a
transport failure is an unknown outcome, and the executor asks by clientOid before sending
again.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from ttxt_kafka.credentials import Credentials
from ttxt_kafka.events import Event, OrderStatus, OrderUpdate, now_us
from ttxt_kafka.orders.errors import ExchangeFailure
from ttxt_kafka.orders.requests import RestCall
from ttxt_kafka.orders.state import KnownOrder
from ttxt_kafka.orders.validation import ValidAmend, ValidCancel, ValidCancelAll, ValidCreate

from ..base.ratelimit import WeightLimiter
from ..base.rest import RestClient
from ..base.symbols import SymbolMap
from ..trading.gateway import Placed, RestGateway, Result
from . import auth
from . import orders as rq
from .connector import kucoin_error
from .normalizer_private import KucoinPrivateNormalizer, orders_from_rest, wallet_from_rest
from .order_errors import failure

OPEN = (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)


def signing_client(credentials: Credentials, rest_base: str, clock_ms: Callable[[], int], *,
                   timeout: float = 10.0, limiter: WeightLimiter | None = None,
                   retries: int = 0) -> RestClient:
    """A REST client whose signed requests carry KuCoin's headers (timestamp: `clock_ms`)."""
    return RestClient("kucoin", rest_base, limiter=limiter,
                      sign=auth.sign_hook(credentials, clock_ms), error_parser=kucoin_error,
                      timeout=timeout, retries=retries)


class KucoinGateway(RestGateway):
    exchange = "kucoin"

    def __init__(self, *, venue: str, credentials: Credentials, rest_base: str,
                 symbols: SymbolMap, clock_ms: Callable[[], int], timeout: float = 10.0,
                 limiter: WeightLimiter | None = None) -> None:
        credentials.require_passphrase("KuCoin")
        self.venue = venue
        self.credentials = credentials
        self.symbols = symbols
        self.rest = signing_client(credentials, rest_base, clock_ms, timeout=timeout,
                                   limiter=limiter)
        self.normalizer = KucoinPrivateNormalizer(symbols)

    def classify(self, code: str, message: str, http_status: int | None) -> ExchangeFailure:
        return failure(code, message, http_status)

    async def _order_call(self, call: RestCall) -> Result:
        answer = await self._call(call)
        if isinstance(answer, ExchangeFailure):
            return answer
        result = rq.parse_response(answer)
        if isinstance(result, ExchangeFailure):
            return result
        return Placed(result.order_id, result.client_order_id)

    # ------------------------------------------------------------------ orders

    async def create(self, order: ValidCreate) -> Result:
        return await self._order_call(rq.create_call(order))

    async def cancel(self, cancel: ValidCancel) -> Result:
        return await self._order_call(rq.cancel_call(cancel))

    async def amend(self, amend: ValidAmend, current: KnownOrder | None) -> Result:
        """KuCoin's alter takes newSize and newPrice: the one not changed is the order's own
        (asked by clientOid / orderId first)."""
        qty = price = None
        if amend.new_qty is None or amend.new_price is None:
            found = await self.query(amend.native_symbol, client_order_id=amend.client_order_id,
                                     order_id=amend.order_id)
            if isinstance(found, ExchangeFailure):
                return found
            if found is None:
                return failure("400100", "order_not_exist_or_not_allow_to_cancel")
            qty = Decimal(found.qty)
            price = Decimal(found.price) if found.price else None
        return await self._order_call(rq.amend_call(amend, qty, price))

    async def cancel_all(self, cancel: ValidCancelAll, open_symbols: list[str]) -> Result:
        return await self._each(rq.cancel_all_calls(cancel, open_symbols))

    # ------------------------------------------------------------------ queries

    def _read_orders(self, body: Any) -> list[OrderUpdate]:
        return orders_from_rest(body, self.normalizer, now_us())

    async def query(self, native_symbol: str, *, client_order_id: str | None = None,
                    order_id: str | None = None) -> OrderUpdate | None | ExchangeFailure:
        return await self._query_one(rq.query_call(native_symbol, client_order_id=client_order_id,
                                                   order_id=order_id), self._read_orders)

    async def open_orders(self) -> list[OrderUpdate] | ExchangeFailure:
        """The symbols with active orders, then each symbol's active orders."""
        symbols = await self._read(rq.active_symbols_call(), rq.active_symbols, "active symbols")
        if isinstance(symbols, ExchangeFailure):
            return symbols
        out: list[OrderUpdate] = []
        for native in symbols:
            active = await self._read(rq.active_call(native), self._read_orders, "open orders")
            if isinstance(active, ExchangeFailure):
                return active
            out += [o for o in active if o.status in OPEN]
        return out

    async def account(self) -> list[Event] | ExchangeFailure:
        return await self._read(rq.account_call(),
                                lambda body: list(wallet_from_rest(body, now_us(), self.venue)),
                                "account")
