"""Bitget v2 public market-data messages, as typed msgspec Structs.

Every push is `{"action": "snapshot"|"update", "arg": {"instType", "channel", "instId"},
"data": [...], "ts": <ms>}`; control frames are `{"event": "subscribe"|"unsubscribe"|"error",
"arg": ..., "code": .., "msg": ..}` and the text `pong`. The envelope is decoded first with
`data` kept raw (`msgspec.Raw`), then `data` with the channel's own struct: two C passes, no
intermediate dicts. Prices and quantities must be JSON strings (a number is refused).
"""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, Raw, Struct, field

Level = Annotated[list[str], Meta(min_length=2, max_length=2)]


class Arg(Struct, gc=False):
    inst_type: str = field(name="instType")
    channel: str
    inst_id: str = field(name="instId")


class Push(Struct, gc=False):
    """Any JSON frame of the public WS: a data push or a control event."""

    action: Literal["snapshot", "update"] | None = None
    arg: Arg | None = None
    data: Raw = Raw()  # empty when absent (control frames)
    ts: int | None = None  # ms, when the push was sent
    event: str | None = None  # subscribe | unsubscribe | error | login
    code: int | str | None = None
    msg: str | None = None


class BookData(Struct, gc=False):
    """One item of `books` / `books1` / `books5` / `books15`."""

    asks: list[Level]  # best first; qty "0" in an update: remove the level
    bids: list[Level]
    ts: str  # ms
    seq: int  # increases with each update of the symbol's book
    checksum: int | None = None  # CRC32 (signed) of the top 25 levels after this push


class TradeData(Struct, gc=False):
    """One item of `trade`. Decoded with `strict=False`: Bitget's string `ts` becomes an int
    in the decoder (cheaper than `int()` per trade); the prices stay strings."""

    ts: int  # ms
    price: str
    size: str
    side: str  # the taker's: "buy" or "sell" (checked by the normalizer's lookup)
    trade_id: str = field(name="tradeId")


# `candle*`: each item [start ms, open, high, low, close, base volume, quote volume, USDT volume]
Candle = Annotated[list[str], Meta(min_length=6)]


class BooksPush(Struct, gc=False):
    """A `books` / `books1` push, decoded in one pass (the hot path)."""

    action: Literal["snapshot", "update"]
    arg: Arg
    data: list[BookData]
    ts: int | None = None


class TradePush(Struct, gc=False):
    """A `trade` push, decoded in one pass (the hot path)."""

    action: Literal["snapshot", "update"]
    arg: Arg
    data: list[TradeData]
    ts: int | None = None
