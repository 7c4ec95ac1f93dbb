"""Shared, seeded input for the codec benchmark: plain strings and ints, no library objects.

Three event kinds, shaped like Binance spot streams (prices and quantities as the exchange's
8-decimal strings, times in milliseconds):

- ``book``: a 10-level depth delta, 5 bid + 5 ask levels, some with qty ``"0.00000000"`` (deletes),
  with Binance's first/last update ids (``U``/``u``);
- ``trades``: a batch of 3 aggregated trades (id, price, qty, side, trade time);
- ``kline``: a 1-minute candle (OHLC, base and quote volume, trade count, closed flag).

Every adapter turns these into its own native objects outside the timed region, and reads its
decoded objects back into ``Content`` so the benchmark can check they carry the same values.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

Kind = Literal["book", "trades", "kline"]
KINDS: tuple[Kind, ...] = ("book", "trades", "kline")

T0_MS = 1_700_000_000_000
RECEIVE_LAG_MS = 3  # receive time = exchange time + a few ms


@dataclass(frozen=True)
class BookDeltaIn:
    first_id: int  # Binance U
    last_id: int  # Binance u
    event_ms: int  # Binance E
    bids: list[tuple[str, str]]  # best first
    asks: list[tuple[str, str]]


@dataclass(frozen=True)
class TradeIn:
    trade_id: str  # Binance a (aggregate trade id), as a string
    price: str
    qty: str
    side: Literal["BUY", "SELL"]  # the taker's side (Binance m = buyer is maker -> SELL)
    trade_ms: int


@dataclass(frozen=True)
class TradesIn:
    event_ms: int
    trades: list[TradeIn]


@dataclass(frozen=True)
class KlineIn:
    open_ms: int
    close_ms: int
    interval: str
    open: str
    high: str
    low: str
    close: str
    volume: str
    quote_volume: str
    trade_count: int
    closed: bool
    event_ms: int


@dataclass(frozen=True)
class CodecData:
    book: list[BookDeltaIn]
    trades: list[TradesIn]
    kline: list[KlineIn]

    def of(self, kind: Kind) -> Sequence[BookDeltaIn | TradesIn | KlineIn]:
        return getattr(self, kind)  # type: ignore[no-any-return]


# What a decoded event carries, reduced to values every library can express — book:
# (bids, asks) of (price, qty); trades: [(price, qty, side)]; kline: (o, h, l, c, v, closed).
# Numbers are whatever the library hands back (str, float, Decimal); the check compares them
# as decimals, and sides as "BUY"/"SELL".
Content = Sequence[Any]


def expected_content(kind: Kind, item: BookDeltaIn | TradesIn | KlineIn) -> Content:
    """The content every library's decoded event must carry for one input item."""
    if isinstance(item, BookDeltaIn):
        return list(item.bids), list(item.asks)
    if isinstance(item, TradesIn):
        return [(t.price, t.qty, t.side) for t in item.trades]
    return item.open, item.high, item.low, item.close, item.volume, item.closed


def _px(ticks: int) -> str:
    """A BTCUSDT price from a count of 0.01 ticks, Binance style: 8 decimals."""
    return f"{Decimal(ticks) / 100:.8f}"


def _qty(units: int) -> str:
    """A quantity from a count of 0.00001 lots (BTCUSDT lot size), Binance style: 8 decimals."""
    return f"{Decimal(units) / 100_000:.8f}"


def make_codec_data(n: int, seed: int = 11) -> CodecData:
    """``n`` events of each kind, seeded: the same input for every library, every run."""
    rng = random.Random(seed)
    mid = 6_000_000  # 60000.00 in ticks

    books: list[BookDeltaIn] = []
    last_id = 40_000_000_000
    for i in range(n):
        mid += rng.randint(-3, 3)
        bid_ticks = sorted(rng.sample(range(mid - 60, mid), 5), reverse=True)
        ask_ticks = sorted(rng.sample(range(mid + 1, mid + 61), 5))

        def level(ticks: int) -> tuple[str, str]:
            # ~20% deletes, else a quantity between 0.00001 and ~2 BTC
            units = 0 if rng.random() < 0.2 else rng.randint(1, 200_000)
            return _px(ticks), _qty(units)

        first_id = last_id + 1
        last_id = first_id + rng.randint(0, 20)
        books.append(
            BookDeltaIn(
                first_id=first_id,
                last_id=last_id,
                event_ms=T0_MS + 100 * i,
                bids=[level(t) for t in bid_ticks],
                asks=[level(t) for t in ask_ticks],
            )
        )

    trades: list[TradesIn] = []
    trade_id = 3_000_000_000
    for i in range(n):
        ms = T0_MS + 50 * i
        batch = []
        for j in range(3):
            trade_id += 1
            mid += rng.randint(-2, 2)
            batch.append(
                TradeIn(
                    trade_id=str(trade_id),
                    price=_px(mid),
                    qty=_qty(rng.randint(1, 50_000)),
                    side="BUY" if rng.random() < 0.5 else "SELL",
                    trade_ms=ms + j,
                )
            )
        trades.append(TradesIn(event_ms=ms + 3, trades=batch))

    klines: list[KlineIn] = []
    for i in range(n):
        open_ms = T0_MS + 60_000 * i
        o = mid
        prices = [o + rng.randint(-500, 500) for _ in range(3)]
        c = prices[-1]
        mid = c
        lots = rng.randint(100_000, 5_000_000)
        klines.append(
            KlineIn(
                open_ms=open_ms,
                close_ms=open_ms + 59_999,
                interval="1m",
                open=_px(o),
                high=_px(max(o, *prices)),
                low=_px(min(o, *prices)),
                close=_px(c),
                volume=_qty(lots),
                # quote volume ~ volume x price, 8 decimals like Binance's "q"
                quote_volume=f"{Decimal(lots) / 100_000 * Decimal(o) / 100:.8f}",
                trade_count=rng.randint(100, 5000),
                closed=True,
                event_ms=open_ms + 60_000,
            )
        )
    return CodecData(book=books, trades=trades, kline=klines)
