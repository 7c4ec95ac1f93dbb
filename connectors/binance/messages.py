"""Binance public market-data messages (spot and USD-M futures), as typed msgspec Structs.

They mirror the documented payloads (field comments give the wire names) and double as the
description of the wire format. Only the fields the normalizers use are declared; msgspec skips
the others (`f`/`l` first/last trade ids, `M`, futures `T` transaction time, ...) without
building them. Types are checked while parsing: prices and quantities must be JSON strings (a
JSON number is refused, never turned into a float), ids and times integers.

Streams arrive as combined-stream frames `{"stream": "<symbol>@<stream>", "data": <payload>}`;
the payload's `e` (event type) is the tag of a tagged union, so one decoder reads any of them.
Shapes without an `e` (spot `bookTicker`, partial depth `@depth<N>`, method answers) are not
in the union: the normalizers read them on their slower path.

`gc=False`: these objects never hold reference cycles, so the garbage collector need not
track them (they are built per frame and dropped at once).
"""

from __future__ import annotations

from typing import Annotated, get_args

from msgspec import Meta, Struct, field

# A book level: [price, quantity], both decimal strings.
Level = Annotated[list[str], Meta(min_length=2, max_length=2)]


class _Payload(Struct, tag_field="e", gc=False):
    """A stream payload; `e` is the event type."""


class DepthUpdate(_Payload, tag="depthUpdate"):
    """`<symbol>@depth@100ms` (spot): the levels changed between update ids U and u."""

    event_time: int = field(name="E")  # ms
    symbol: str = field(name="s")
    first_update_id: int = field(name="U")
    final_update_id: int = field(name="u")
    bids: list[Level] = field(name="b")  # qty "0": remove the level
    asks: list[Level] = field(name="a")


class FuturesDepthUpdate(DepthUpdate, tag="depthUpdate"):
    """`<symbol>@depth@100ms` (USD-M): as spot, plus the previous event's final update id."""

    prev_final_update_id: int = field(name="pu")


class AggTrade(_Payload, tag="aggTrade"):
    """`<symbol>@aggTrade`: the fills of one taker order at one price."""

    event_time: int = field(name="E")  # ms
    symbol: str = field(name="s")
    agg_trade_id: int = field(name="a")
    price: str = field(name="p")
    qty: str = field(name="q")
    trade_time: int = field(name="T")  # ms
    buyer_is_maker: bool = field(name="m")  # true: the taker sold


class Trade(_Payload, tag="trade"):
    """`<symbol>@trade`: one raw trade."""

    event_time: int = field(name="E")
    symbol: str = field(name="s")
    trade_id: int = field(name="t")
    price: str = field(name="p")
    qty: str = field(name="q")
    trade_time: int = field(name="T")
    buyer_is_maker: bool = field(name="m")


class KlineBar(Struct, gc=False):
    """The `k` object of a kline event."""

    start_time: int = field(name="t")  # ms
    close_time: int = field(name="T")  # ms
    interval: str = field(name="i")  # 1m, 1h, 1d, ... (the catalogue's names already)
    open: str = field(name="o")
    close: str = field(name="c")
    high: str = field(name="h")
    low: str = field(name="l")
    volume: str = field(name="v")  # base asset
    trade_count: int = field(name="n")
    closed: bool = field(name="x")
    quote_volume: str = field(name="q")


class Kline(_Payload, tag="kline"):
    """`<symbol>@kline_<interval>`: the current bar, pushed on every change."""

    event_time: int = field(name="E")
    symbol: str = field(name="s")
    bar: KlineBar = field(name="k")


class BookTicker(_Payload, tag="bookTicker"):
    """`<symbol>@bookTicker`: best bid and offer. USD-M sends `e` and an event time `E`; spot
    sends neither (so it is read on the slow path, as this same Struct)."""

    update_id: int = field(name="u")
    symbol: str = field(name="s")
    bid_price: str = field(name="b")
    bid_qty: str = field(name="B")
    ask_price: str = field(name="a")
    ask_qty: str = field(name="A")
    event_time: int | None = field(name="E", default=None)  # ms; USD-M only


class DepthSnapshot(Struct, gc=False):
    """Partial depth `@depth<N>` (spot: no event type, no symbol) and the REST `depth` body."""

    last_update_id: int = field(name="lastUpdateId")
    bids: list[Level]
    asks: list[Level]
    event_time: int | None = field(name="E", default=None)  # ms; USD-M REST only


SpotPayload = DepthUpdate | AggTrade | Trade | Kline | BookTicker
UsdmPayload = FuturesDepthUpdate | AggTrade | Trade | Kline | BookTicker
# The `e` values of the unions above.
EVENT_TYPES = frozenset(t.__struct_config__.tag for t in get_args(SpotPayload | UsdmPayload))


class SpotFrame(Struct, gc=False):
    """A combined-stream frame of Binance spot (`stream` is not needed: the payload names its
    symbol)."""

    data: SpotPayload


class UsdmFrame(Struct, gc=False):
    """A combined-stream frame of Binance USD-M futures."""

    data: UsdmPayload


class TickerFrame(Struct, gc=False):
    """A combined-stream frame of spot `bookTicker`, whose payload has no `e`."""

    data: BookTicker
