"""Candle aggregator: trades -> 1 s and 1 m klines on `ttxt.<venue>.klines_agg`.

A candle covers [open_time, open_time + interval) of exchange time. It is emitted (closed=True)
as soon as it is known to be complete: when a trade of the same symbol at or after its end
arrives, or when the exchange time of the symbol's partition (`ctx.clock`: the symbols sharing
it move it too) passes its end by `lateness_ms` — so a quiet symbol's candle does not wait for
its next trade. Wall time is never used: a replay gives the very same candles. Intervals
without trades emit nothing. A trade older than the symbol's last emitted candle is late:
counted in `late` and dropped. When the consumer group moves a symbol to another instance,
that one rebuilds the open candles from the last minute of trades (`warmup`), so each candle is
emitted once and whole (a crash, with no commit, can emit a candle twice: at-least-once).

Prices are the trades' own strings (open, high, low, close); volume and quote volume are exact
Decimal sums. `close_time` is the interval's last microsecond (the exchanges say last
millisecond, at their resolution). The derived topic is not `klines`: that one holds the
exchange's own klines, which a consumer must not confuse with ours; `klines_agg` sorts next to
it and `parse_topic` reads it as channel `klines_agg`.
"""

from __future__ import annotations

import decimal
import re
from dataclasses import dataclass, field
from decimal import Decimal

from ttxt_kafka.events import Kline, Trade, Trades, now_us
from ttxt_kafka.strategies import Strategy

# Exact arithmetic: a sum that would need rounding raises instead of losing a digit.
EXACT = decimal.Context(prec=100, traps=[decimal.Inexact, decimal.InvalidOperation])
_UNITS = {"s": 1_000_000, "m": 60_000_000, "h": 3_600_000_000}


def interval_us(name: str) -> int:
    match = re.fullmatch(r"(\d+)([smh])", name.strip())
    if not match or int(match[1]) == 0:
        raise ValueError(f"interval {name!r}: use e.g. 1s, 15s, 1m, 1h")
    return int(match[1]) * _UNITS[match[2]]


@dataclass
class Candle:
    open_time: int
    width: int
    open: str
    high: str
    low: str
    close: str
    volume: Decimal = field(default_factory=Decimal)
    quote_volume: Decimal = field(default_factory=Decimal)
    trades: int = 0

    @classmethod
    def first(cls, open_time: int, width: int, price: str, qty: str) -> Candle:
        candle = cls(open_time, width, price, price, price, price)
        candle.add(price, qty)
        return candle

    @property
    def end(self) -> int:
        return self.open_time + self.width

    def add(self, price: str, qty: str) -> None:
        p, q = Decimal(price), Decimal(qty)
        if p > Decimal(self.high):
            self.high = price
        if p < Decimal(self.low):
            self.low = price
        self.close = price
        self.volume = EXACT.add(self.volume, q)
        self.quote_volume = EXACT.add(self.quote_volume, EXACT.multiply(p, q))
        self.trades += 1


class CandleAggregator(Strategy):
    venues = ["binance"]
    channels = ["trades"]
    intervals = "1s,1m"
    out_channel = "klines_agg"
    lateness_ms = 2000  # how far past a candle's end the clock goes before it closes anyway
    timer_interval = 0.25

    def on_start(self) -> None:
        self.widths = {name.strip(): interval_us(name) for name in self.intervals.split(",")}
        # Taking a partition over, replay the longest interval (+ lateness) before it through
        # the handlers, output dropped: the candles open there are rebuilt and emitted whole.
        self.warmup = self.warmup or max(self.widths.values()) / 1e6 + self.lateness_ms / 1000
        self.candles: dict[tuple[str, str, str], Candle] = {}  # (venue, symbol, interval)
        self.closed_until: dict[tuple[str, str, str], int] = {}
        self.natives: dict[tuple[str, str], str] = {}
        self.late = 0

    def on_trades(self, event: Trades) -> None:
        self.natives[(event.venue, event.symbol)] = event.native_symbol
        for trade in event.trades:
            for name, width in self.widths.items():
                self._add((event.venue, event.symbol, name), width, trade)

    def _add(self, key: tuple[str, str, str], width: int, trade: Trade) -> None:
        candle = self.candles.get(key)
        if candle is not None and trade.exchange_ts >= candle.end:
            self._close(key)  # a trade of a later interval: this candle is complete
            candle = None
        start = trade.exchange_ts - trade.exchange_ts % width
        if start < self.closed_until.get(key, 0) or (candle and start < candle.open_time):
            self.late += 1  # its candle has been emitted already
        elif candle is None:
            self.candles[key] = Candle.first(start, width, trade.price, trade.qty)
        else:
            candle.add(trade.price, trade.qty)

    def on_timer(self, now_us: int) -> None:
        for key, candle in list(self.candles.items()):
            venue, symbol, _ = key  # the symbol's own partition clock: it is in order
            if self.ctx.clock(symbol, venue) >= candle.end + self.lateness_ms * 1000:
                self._close(key)

    def on_symbols_lost(self, symbols: list[tuple[str, str]]) -> None:
        for key in [k for k in self.candles if (k[0], k[1]) in symbols]:
            del self.candles[key]  # partial: the new owner starts the next ones

    def _close(self, key: tuple[str, str, str]) -> None:
        c = self.candles.pop(key)
        self.closed_until[key] = c.end
        venue, symbol, name = key
        self.ctx.emit(Kline(
            venue=venue, symbol=symbol, native_symbol=self.natives.get((venue, symbol), ""),
            exchange_ts=c.end, receive_ts=now_us(), interval=name, open_time=c.open_time,
            close_time=c.end - 1, open=c.open, high=c.high, low=c.low, close=c.close,
            volume=format(c.volume, "f"), quote_volume=format(c.quote_volume, "f"),
            trade_count=c.trades, closed=True), self.out_channel)
