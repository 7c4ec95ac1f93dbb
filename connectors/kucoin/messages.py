"""KuCoin spot public messages, as typed msgspec Structs (see `connectors/base/normalizer`).

Pushes are `{"type": "message", "topic": T, "subject": S, "data": {...}}`. Only the fields the
normalizer uses are declared; prices and sizes must be JSON strings (a number is refused, never
turned into a float), sequences integers (the REST snapshot's `sequence` is a string of digits).
"""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, Struct, field

Level = Annotated[list[str], Meta(min_length=2, max_length=2)]
Change = Annotated[list[str], Meta(min_length=3, max_length=3)]  # [price, size, sequence]


class Changes(Struct, gc=False):
    asks: list[Change] = field(default_factory=list)
    bids: list[Change] = field(default_factory=list)


class L2Data(Struct, gc=False):
    sequence_start: int = field(name="sequenceStart")
    sequence_end: int = field(name="sequenceEnd")
    symbol: str
    changes: Changes
    time: int | None = None  # ms (absent in 2021 pushes)


class L2Message(Struct, gc=False):
    data: L2Data


class MatchData(Struct, gc=False):
    """Decoded in lax mode: `sequence` and `time` (ns) come as digit strings and are read as
    integers; prices stay strings (a number there is still refused)."""

    sequence: int
    symbol: str
    side: Literal["buy", "sell"]  # the taker's
    price: str
    size: str
    trade_id: str = field(name="tradeId")
    time: int  # ns


class MatchMessage(Struct, gc=False):
    data: MatchData


# [start s, open, close, high, low, volume (base), turnover (quote)]
CandleRow = Annotated[list[str], Meta(min_length=7, max_length=7)]


class CandleData(Struct, gc=False):
    symbol: str
    candles: CandleRow
    time: int  # ns


class CandleMessage(Struct, gc=False):
    topic: str
    subject: str
    data: CandleData


class TickerData(Struct, gc=False):
    sequence: int  # a digit string, read in lax mode
    best_bid: str = field(name="bestBid")
    best_bid_size: str = field(name="bestBidSize")
    best_ask: str = field(name="bestAsk")
    best_ask_size: str = field(name="bestAskSize")
    time: int  # ms


class TickerMessage(Struct, gc=False):
    topic: str
    subject: str
    data: TickerData


class Depth5Data(Struct, gc=False):
    asks: list[Level]
    bids: list[Level]
    timestamp: int  # ms


class Depth5Message(Struct, gc=False):
    topic: str
    data: Depth5Data


class BookSnapshot(Struct, gc=False):
    """`data` of GET /api/v1/market/orderbook/level2_100 and /api/v3/market/orderbook/level2."""

    sequence: str
    bids: list[Level]
    asks: list[Level]
    time: int | None = None  # ms


class Symbol(Struct, gc=False):
    """One entry of GET /api/v2/symbols (v1: no `minFunds`)."""

    symbol: str
    base: str = field(name="baseCurrency")
    quote: str = field(name="quoteCurrency")
    base_min: str = field(name="baseMinSize")
    base_max: str = field(name="baseMaxSize")
    base_increment: str = field(name="baseIncrement")
    price_increment: str = field(name="priceIncrement")
    enable_trading: bool = field(name="enableTrading")
    quote_min: str | None = field(name="quoteMinSize", default=None)
    min_funds: str | None = field(name="minFunds", default=None)
