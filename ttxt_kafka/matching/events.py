"""What the engine emits: internal dataclasses, not our Avro events.

Each call returns its events in the order an exchange would publish them: the order's
acceptance, then per fill the maker's and the taker's trade and order update, then the final
state of the incoming order, then the balances and positions that changed (one event per
account and asset / symbol). `seq` numbers every event of an engine, `ts` is the operation's
time (microseconds, from the engine's clock).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ttxt_kafka.events import Side

from .model import Action, ExecType, OrderState, Reason


@dataclass(frozen=True, slots=True, kw_only=True)
class EngineEvent:
    seq: int
    ts: int


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderAccepted(EngineEvent):
    order: OrderState


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRejected(EngineEvent):
    """A request that changed nothing."""

    action: Action
    account: str
    symbol: str
    reason: Reason
    message: str
    client_order_id: str = ""
    order_id: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderUpdated(EngineEvent):
    order: OrderState
    exec_type: ExecType
    reason: Reason | None = None  # why it expired / was canceled by the engine


@dataclass(frozen=True, slots=True, kw_only=True)
class TradeFill(EngineEvent):
    """One side of one trade. `counterparty` is the other account, None for external liquidity."""

    trade_id: int
    account: str
    symbol: str
    order_id: int
    client_order_id: str
    side: Side
    price: Decimal
    qty: Decimal
    fee: Decimal
    fee_asset: str
    is_maker: bool
    counterparty: str | None
    realized_pnl: Decimal | None = None  # linear: PnL this fill realized (before fees)


@dataclass(frozen=True, slots=True, kw_only=True)
class BalanceChanged(EngineEvent):
    """An asset's balance after the operation. Spot: total = available + locked. Linear (quote
    margin asset): total = wallet balance, locked = position + open-order initial margin."""

    account: str
    asset: str
    total: Decimal
    available: Decimal
    locked: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class PositionChanged(EngineEvent):
    """A linear position after the operation; `size` is signed (negative = short)."""

    account: str
    symbol: str
    size: Decimal
    entry_price: Decimal | None
    entry_value: Decimal
    realized_pnl: Decimal
    unrealized_pnl: Decimal
    mark_price: Decimal | None
    leverage: Decimal
