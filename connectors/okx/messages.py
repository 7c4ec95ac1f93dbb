"""OKX v5 public market-data messages, as typed msgspec Structs.

Every push is `{"arg": {"channel", "instId"}, "action": "snapshot"|"update" (books only),
"data": [...]}`; control frames are `{"event": "subscribe"|"unsubscribe"|"error"|"notice",
"arg": .., "code": .., "msg": .., "connId": ..}` and the text `pong`. Prices and quantities must
be JSON strings (a number is refused); `seqId`, `prevSeqId` and `checksum` are JSON integers.
"""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, Raw, Struct, field

# [price, size, "0" (deprecated liquidated orders), number of orders]
Level = Annotated[list[str], Meta(min_length=2, max_length=4)]


class Arg(Struct, gc=False):
    channel: str
    inst_id: str = field(name="instId", default="")


class Push(Struct, gc=False):
    """Any JSON frame of the public WS: a data push or a control event."""

    arg: Arg | None = None
    action: Literal["snapshot", "update"] | None = None
    data: Raw = Raw()  # empty when absent (control frames)
    event: str | None = None  # subscribe | unsubscribe | error | notice | login
    code: str | None = None
    msg: str | None = None


class BookData(Struct, gc=False):
    """One item of `books` (400 levels) / `books5` / `bbo-tbt`."""

    asks: list[Level]  # best first; size "0" in an update: remove the level
    bids: list[Level]
    ts: str  # ms
    checksum: int | None = None  # CRC32 (signed) of the top 25 levels; 0 = not sent (2026)
    seq_id: int | None = field(name="seqId", default=None)
    prev_seq_id: int | None = field(name="prevSeqId", default=None)  # -1 on a snapshot


class TradeData(Struct, gc=False):
    """One item of `trades`. Decoded with `strict=False`: the string `ts` becomes an int."""

    ts: int  # ms
    px: str
    sz: str
    side: str  # the taker's: "buy" or "sell"
    trade_id: str = field(name="tradeId")
    inst_id: str = field(name="instId", default="")  # every item names its instrument


class TickerData(Struct, gc=False):
    """One item of `tickers` (the best bid/offer part; 24 h statistics are not read)."""

    ts: str
    bid_px: str = field(name="bidPx")
    bid_sz: str = field(name="bidSz")
    ask_px: str = field(name="askPx")
    ask_sz: str = field(name="askSz")


# `candle*`: [start ms, o, h, l, c, vol, volCcy, volCcyQuote, confirm ("0" open, "1" closed)]
Candle = Annotated[list[str], Meta(min_length=6)]


class BooksPush(Struct, gc=False):
    """A `books` push, decoded in one pass (the hot path)."""

    arg: Arg
    action: Literal["snapshot", "update"]
    data: list[BookData]


class TradePush(Struct, gc=False):
    """A `trades` push, decoded in one pass (the hot path): the items name their instrument,
    so the `arg` object is skipped, not built."""

    data: list[TradeData]
