"""The simulator's matching engine: price-time priority, exact decimals, fees, balances, positions.

    from decimal import Decimal as D
    from ttxt_kafka.matching import (ExternalBook, FeeSchedule, Instrument, MarketKind,
                                    MatchingEngine, OrderRequest)
    from ttxt_kafka.events import OrderType, Side

    engine = MatchingEngine(MarketKind.SPOT, fees=FeeSchedule(D("0.001"), D("0.001")))
    engine.add_instrument(Instrument("BTCUSDT", "BTC", "USDT", D("0.1"), D("0.001")))
    engine.deposit("alice", "USDT", D("100000"))
    market = ExternalBook()              # the synthetic/capture book, as liquidity
    engine.set_external("BTCUSDT", market)
    events = engine.submit("alice", OrderRequest(
        symbol="BTCUSDT", side=Side.BUY, order_type=OrderType.LIMIT, qty=D("0.5"),
        price=D("60000.0")))

Layout: `model` (requests, orders, reasons), `events` (what calls return), `book` (resting
orders), `plan` (a taker's fills, computed before anything changes), `external` (the market's
liquidity interface), `fees`, `spot` and `linear` (accounting), `engine` (the calls).
"""

from .engine import MatchingEngine
from .events import (
    BalanceChanged,
    EngineEvent,
    OrderAccepted,
    OrderRejected,
    OrderUpdated,
    PositionChanged,
    TradeFill,
)
from .external import ExternalBook, ExternalLiquidity
from .fees import FeeSchedule
from .instruments import instrument_from_info
from .linear import Position
from .live import LiveBook
from .model import (
    Action,
    ExecType,
    Instrument,
    MarketKind,
    OrderRequest,
    OrderState,
    Reason,
    StpMode,
)

__all__ = [
    "Action",
    "BalanceChanged",
    "EngineEvent",
    "ExecType",
    "ExternalBook",
    "ExternalLiquidity",
    "FeeSchedule",
    "Instrument",
    "LiveBook",
    "MarketKind",
    "MatchingEngine",
    "OrderAccepted",
    "OrderRejected",
    "OrderRequest",
    "OrderState",
    "OrderUpdated",
    "Position",
    "PositionChanged",
    "Reason",
    "StpMode",
    "TradeFill",
    "instrument_from_info",
]
