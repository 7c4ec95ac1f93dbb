"""Gate.io v4 spot public messages, as typed msgspec Structs (see `connectors/base/normalizer`).

Pushes are `{"time": s, "time_ms": ms, "channel": C, "event": "update", "result": {...}}`;
the high-rate ones are tagged by their channel, so one decoder reads any of them (`Push`).
Only the fields the normalizer uses are declared; prices and quantities must be JSON strings (a
number is refused, never turned into a float), ids and times integers.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import Meta, Struct, field

Level = Annotated[list[str], Meta(min_length=2, max_length=2)]


class ObuResult(Struct, gc=False):
    """`spot.obu` result: `full` replaces the book; otherwise U..u continue it."""

    ts: int = field(name="t")  # ms
    stream: str = field(name="s")  # ob.<PAIR>.<depth>
    last_id: int = field(name="u")
    first_id: int | None = field(name="U", default=None)
    full: bool = False
    bids: list[Level] = field(name="b", default_factory=list)
    asks: list[Level] = field(name="a", default_factory=list)


class ObuMessage(Struct, gc=False, tag_field="channel", tag="spot.obu"):
    result: ObuResult
    event: str = "update"  # the typed fast path checks these (answers carry others)
    error: Any = None


class LegacyBookResult(Struct, gc=False):
    """`spot.order_book_update` result (the captures' channel): U..u over a REST snapshot."""

    ts: int = field(name="t")  # ms
    pair: str = field(name="s")
    first_id: int = field(name="U")
    last_id: int = field(name="u")
    bids: list[Level] = field(name="b", default_factory=list)
    asks: list[Level] = field(name="a", default_factory=list)


class LegacyBookMessage(Struct, gc=False, tag_field="channel", tag="spot.order_book_update"):
    result: LegacyBookResult
    event: str = "update"  # the typed fast path checks these (answers carry others)
    error: Any = None


class TradeResult(Struct, gc=False):
    trade_id: int = field(name="id")
    create_time_ms: str  # "1606292218213.4578": ms with a fraction
    side: Literal["buy", "sell"]  # the taker's
    pair: str = field(name="currency_pair")
    amount: str
    price: str


class TradeMessage(Struct, gc=False, tag_field="channel", tag="spot.trades"):
    result: TradeResult
    event: str = "update"  # the typed fast path checks these (answers carry others)
    error: Any = None


class CandleResult(Struct, gc=False):
    """`n` = "<interval>_<PAIR>". Since 2022 `a` is the base volume and `v` the quote volume;
    older pushes (the captures) have only `v`, the volume in base units."""

    open_time_s: str = field(name="t")
    name: str = field(name="n")
    open: str = field(name="o")
    high: str = field(name="h")
    low: str = field(name="l")
    close: str = field(name="c")
    v: str
    a: str | None = None
    closed: bool = field(name="w", default=False)


class CandleMessage(Struct, gc=False):
    channel: Literal["spot.candlesticks"]
    result: CandleResult


class BookTickerResult(Struct, gc=False):
    ts: int = field(name="t")  # ms
    update_id: int = field(name="u")
    pair: str = field(name="s")
    bid: str = field(name="b")
    bid_qty: str = field(name="B")
    ask: str = field(name="a")
    ask_qty: str = field(name="A")


class BookTickerMessage(Struct, gc=False):
    channel: Literal["spot.book_ticker"]
    result: BookTickerResult


class OrderBookResponse(Struct, gc=False):
    """GET /api/v4/spot/order_book?with_id=true."""

    update_id: int = field(name="id")
    bids: list[Level]
    asks: list[Level]
    current: int | None = None  # ms


class CurrencyPair(Struct, gc=False):
    """One entry of GET /api/v4/spot/currency_pairs."""

    id: str
    base: str
    quote: str
    trade_status: str
    precision: int  # price decimals
    amount_precision: int
    min_base_amount: str | None = None
    min_quote_amount: str | None = None
    max_base_amount: str | None = None


# One decode for the high-rate pushes: msgspec picks the class by the "channel" tag.
Push = ObuMessage | TradeMessage | LegacyBookMessage
