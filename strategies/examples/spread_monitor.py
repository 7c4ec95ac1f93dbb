"""Spread/mid monitor: prints a book's mid and spread when its top of book changes, at most
once per `every` seconds of exchange time per symbol (default 1; 0: every change), so a busy
market does not flood the terminal."""

from decimal import Decimal

from ttxt_kafka.events import OrderBook
from ttxt_kafka.strategies import Strategy


class SpreadMonitor(Strategy):
    venues = ["binance"]
    channels = ["book"]
    every: float = 1.0  # seconds of exchange time between two lines of one symbol

    def on_start(self) -> None:
        self.tops: dict[str, object] = {}
        self.printed_at: dict[str, int] = {}  # symbol -> exchange time (µs) of its last line

    def on_orderbook(self, event: OrderBook) -> None:
        book = self.ctx.book(event.symbol, event.venue)
        top = (book.best_bid(), book.best_ask())
        mid, spread = book.mid(), book.spread()
        if top == self.tops.get(event.symbol) or not mid or spread is None:
            return
        last = self.printed_at.get(event.symbol)
        if last is not None and event.exchange_ts - last < float(self.every) * 1_000_000:
            return  # changed again too soon: the next change after `every` prints
        self.tops[event.symbol] = top
        self.printed_at[event.symbol] = event.exchange_ts
        bps = (spread / mid * 10_000).quantize(Decimal("0.01"))
        print(f"{event.venue} {event.symbol} mid {mid} spread {spread} ({bps} bps)")
