"""What the matching engine works on: instruments, order requests, orders and their reasons.

All prices and quantities are `Decimal` (exact); the engine never sees a float. The enums for
side, order type, time in force and order status are the platform's own (`ttxt_kafka.events`),
so mapping engine output to our events is a field copy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from ttxt_kafka.events import OrderStatus, OrderType, Side, TimeInForce

ZERO = Decimal(0)


class MarketKind(StrEnum):
    """How an engine settles: spot (assets change hands) or linear perpetuals (margin in quote)."""

    SPOT = "SPOT"
    LINEAR = "LINEAR"


class StpMode(StrEnum):
    """Self-trade prevention, as Binance names it (Bybit: CancelTaker/CancelMaker/CancelBoth)."""

    NONE = "NONE"  # self-trades happen (the default on both exchanges)
    EXPIRE_TAKER = "EXPIRE_TAKER"
    EXPIRE_MAKER = "EXPIRE_MAKER"
    EXPIRE_BOTH = "EXPIRE_BOTH"


class Reason(StrEnum):
    """Why a request was rejected or an order ended without filling.

    Venue-neutral; each simulator protocol maps them to its exchange's codes and messages
    (`connectors/binance/errors.py`, `connectors/bybit/errors.py` hold those tables).
    """

    # rejections: the request changed nothing
    UNKNOWN_SYMBOL = "UNKNOWN_SYMBOL"
    INVALID_QUANTITY = "INVALID_QUANTITY"
    INVALID_PRICE = "INVALID_PRICE"
    MIN_NOTIONAL = "MIN_NOTIONAL"
    INVALID_ORDER = "INVALID_ORDER"  # a combination the venue does not take (market + post-only)
    POST_ONLY_WOULD_TAKE = "POST_ONLY_WOULD_TAKE"
    DUPLICATE_CLIENT_ORDER_ID = "DUPLICATE_CLIENT_ORDER_ID"
    INSUFFICIENT_BALANCE = "INSUFFICIENT_BALANCE"
    REDUCE_ONLY_REJECTED = "REDUCE_ONLY_REJECTED"
    UNKNOWN_ORDER = "UNKNOWN_ORDER"
    AMEND_NO_CHANGE = "AMEND_NO_CHANGE"
    AMEND_QTY_TOO_LOW = "AMEND_QTY_TOO_LOW"  # new quantity not above what is already filled
    # why an accepted order expired
    FOK_NOT_FILLED = "FOK_NOT_FILLED"
    IOC_REMAINDER = "IOC_REMAINDER"  # IOC and market orders: the unfilled rest
    NO_LIQUIDITY = "NO_LIQUIDITY"
    SELF_TRADE_PREVENTED = "SELF_TRADE_PREVENTED"
    REDUCE_ONLY_CANCELED = "REDUCE_ONLY_CANCELED"  # the position it reduced is gone or smaller


class Action(StrEnum):
    CREATE = "CREATE"
    CANCEL = "CANCEL"
    AMEND = "AMEND"
    CANCEL_ALL = "CANCEL_ALL"


class ExecType(StrEnum):
    """What happened to an order in an `OrderUpdated` (Binance's executionReport `x`)."""

    NEW = "NEW"
    TRADE = "TRADE"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"
    AMENDED = "AMENDED"


@dataclass(frozen=True, slots=True)
class Instrument:
    """A tradable symbol. Filters are optional: None means the engine does not check it."""

    symbol: str
    base: str
    quote: str
    tick_size: Decimal | None = None
    lot_size: Decimal | None = None
    min_qty: Decimal | None = None
    max_qty: Decimal | None = None
    min_notional: Decimal | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRequest:
    symbol: str
    side: Side
    order_type: OrderType
    qty: Decimal
    price: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    post_only: bool = False
    reduce_only: bool = False
    client_order_id: str = ""
    stp: StpMode | None = None  # None: the engine's default


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderState:
    """A snapshot of one order, as events and queries return it."""

    order_id: int
    account: str
    symbol: str
    client_order_id: str
    side: Side
    order_type: OrderType
    time_in_force: TimeInForce
    post_only: bool
    reduce_only: bool
    price: Decimal | None
    qty: Decimal
    filled_qty: Decimal
    cum_quote: Decimal  # sum of price * qty over the fills: avg price = cum_quote / filled_qty
    status: OrderStatus
    created_ts: int
    updated_ts: int

    @property
    def remaining(self) -> Decimal:
        return self.qty - self.filled_qty

    @property
    def is_open(self) -> bool:
        return self.status in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)


@dataclass(slots=True, kw_only=True)
class Order:
    """An order inside the engine (mutable). `priority` orders a price level: lower first."""

    order_id: int
    account: str
    symbol: str
    client_order_id: str
    side: Side
    order_type: OrderType
    time_in_force: TimeInForce
    post_only: bool
    reduce_only: bool
    price: Decimal | None
    qty: Decimal
    stp: StpMode
    created_ts: int
    updated_ts: int
    priority: int = 0
    filled_qty: Decimal = ZERO
    cum_quote: Decimal = ZERO
    status: OrderStatus = OrderStatus.NEW
    reserved: Decimal = ZERO  # spot: amount of the locked asset still held for this order
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def remaining(self) -> Decimal:
        return self.qty - self.filled_qty

    @property
    def is_open(self) -> bool:
        return self.status in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)

    def snapshot(self) -> OrderState:
        return OrderState(
            order_id=self.order_id, account=self.account, symbol=self.symbol,
            client_order_id=self.client_order_id, side=self.side, order_type=self.order_type,
            time_in_force=self.time_in_force, post_only=self.post_only,
            reduce_only=self.reduce_only, price=self.price, qty=self.qty,
            filled_qty=self.filled_qty, cum_quote=self.cum_quote, status=self.status,
            created_ts=self.created_ts, updated_ts=self.updated_ts,
        )


def opposite(side: Side) -> Side:
    return Side.SELL if side is Side.BUY else Side.BUY
