"""Candles and running statistics built from the synthetic trades (exact integers)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ttxt_kafka.simulator.market.flow import Trade


@dataclass(slots=True)
class Candle:
    start_ms: int
    interval_ms: int
    open: int  # ticks
    high: int
    low: int
    close: int
    volume: int = 0  # lots
    quote_volume: int = 0  # ticks*lots
    trades: int = 0
    first_trade: int = -1
    last_trade: int = -1
    taker_buy_volume: int = 0
    taker_buy_quote: int = 0
    closed: bool = False

    @property
    def end_ms(self) -> int:
        return self.start_ms + self.interval_ms - 1


class CandleSeries:
    def __init__(self, interval_ms: int, last_price: int) -> None:
        self.interval_ms = interval_ms
        self.last_price = last_price
        self.current: Candle | None = None

    def update(self, ts_ms: int, trade: Trade | None) -> list[Candle]:
        """Apply a trade (or just the clock); returns the candles to publish, closed ones first."""
        out = []
        start = ts_ms - ts_ms % self.interval_ms
        cur = self.current
        if cur is not None and cur.start_ms != start:
            cur.closed = True
            out.append(cur)
            cur = None
        if cur is None:
            p = self.last_price
            cur = self.current = Candle(start, self.interval_ms, p, p, p, p)
        if trade is not None:
            p, q = trade.price, trade.qty
            cur.high, cur.low, cur.close = max(cur.high, p), min(cur.low, p), p
            cur.volume += q
            cur.quote_volume += p * q
            cur.trades += 1
            if cur.first_trade < 0:
                cur.first_trade = trade.number
            cur.last_trade = trade.number
            if trade.taker_buy:
                cur.taker_buy_volume += q
                cur.taker_buy_quote += p * q
            self.last_price = p
        out.append(replace(cur))  # a copy: later trades must not change what was published
        return out


@dataclass(slots=True)
class Stats:
    """Since-start statistics, standing in for the venues' rolling 24 h tickers."""

    open: int
    high: int
    low: int
    last: int
    volume: int = 0
    quote_volume: int = 0
    last_trade_up: bool = True

    @classmethod
    def starting_at(cls, price: int) -> Stats:
        return cls(price, price, price, price)

    def on_trade(self, trade: Trade) -> None:
        if trade.price != self.last:
            self.last_trade_up = trade.price > self.last
        self.last = trade.price
        self.high, self.low = max(self.high, trade.price), min(self.low, trade.price)
        self.volume += trade.qty
        self.quote_volume += trade.price * trade.qty
