"""Spread/mid monitor: prints each book's mid and spread whenever its top of book changes."""

from decimal import Decimal

from ttxt_kafka.events import OrderBook
from ttxt_kafka.strategies import Strategy


class SpreadMonitor(Strategy):
    venues = ["binance"]
    channels = ["book"]

    def on_start(self) -> None:
        self.tops: dict[str, object] = {}

    def on_orderbook(self, event: OrderBook) -> None:
        book = self.ctx.book(event.symbol, event.venue)
        top = (book.best_bid(), book.best_ask())
        mid, spread = book.mid(), book.spread()
        if top != self.tops.get(event.symbol) and mid and spread is not None:
            self.tops[event.symbol] = top
            bps = (spread / mid * 10_000).quantize(Decimal("0.01"))
            print(f"{event.venue} {event.symbol} mid {mid} spread {spread} ({bps} bps)")
