"""Bybit v5 public market-data messages (spot and linear share them), as typed msgspec Structs.

They mirror the documented pushes `{"topic": ..., "type": ..., "ts": ..., "data": ...}` (field
comments give the wire names) and double as the description of the wire format. Only the fields
the normalizers use are declared; msgspec skips the rest (`cts`, `seq` of book data, trade `L`
tick direction, `BT`, `RPI`, kline `timestamp`, ...). Types are checked while parsing: prices
and quantities must be JSON strings (a JSON number is refused, never turned into a float), ids
and times integers, sides and message types one of the documented values.

Bybit has no event-type field to tag a union with (the topic names the symbol too), so the
normalizer picks the message class from the topic before decoding (see `normalizer_spot`).

`gc=False`: these objects never hold reference cycles, so the garbage collector need not
track them (they are built per frame and dropped at once).
"""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, Struct, field

# A book level: [price, quantity], both decimal strings.
Level = Annotated[list[str], Meta(min_length=2, max_length=2)]


class BookData(Struct, gc=False):
    """`data` of `orderbook.{depth}.{symbol}`."""

    symbol: str = field(name="s")
    bids: list[Level] = field(name="b")  # best first; qty "0" in a delta: remove the level
    asks: list[Level] = field(name="a")
    update_id: int = field(name="u")  # 1: a snapshot after a service restart


class BookMessage(Struct, gc=False):
    """`orderbook.{depth}.{symbol}`: a snapshot, then deltas (depth 1: always snapshots)."""

    topic: str
    kind: Literal["snapshot", "delta"] = field(name="type")
    ts: int  # ms, when the system generated the data
    data: BookData


class PublicTrade(Struct, gc=False):
    """One trade of `publicTrade.{symbol}`."""

    trade_time: int = field(name="T")  # ms
    symbol: str = field(name="s")
    side: Literal["Buy", "Sell"] = field(name="S")  # the taker's
    size: str = field(name="v")
    price: str = field(name="p")
    trade_id: str = field(name="i")
    seq: int | None = None  # cross sequence


class TradeMessage(Struct, gc=False):
    """`publicTrade.{symbol}`: a batch of trades."""

    topic: str
    ts: int  # ms
    data: list[PublicTrade]


class KlineBar(Struct, gc=False):
    """One bar of `kline.{interval}.{symbol}`."""

    start: int  # ms
    end: int  # ms
    interval: str  # Bybit's: 1 3 5 15 30 60 120 240 360 720 D W M
    open: str
    close: str
    high: str
    low: str
    volume: str
    turnover: str  # quote volume
    confirm: bool  # the bar is closed


class KlineMessage(Struct, gc=False):
    """`kline.{interval}.{symbol}`."""

    topic: str
    ts: int  # ms
    data: list[KlineBar]


class BookResult(Struct, gc=False):
    """`result` of GET /v5/market/orderbook."""

    symbol: str = field(name="s")
    bids: list[Level] = field(name="b")
    asks: list[Level] = field(name="a")
    ts: int  # ms
    update_id: int = field(name="u")


class BookResponse(Struct, gc=False):
    """GET /v5/market/orderbook."""

    result: BookResult
