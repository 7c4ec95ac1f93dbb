"""The recorded market's book as the matching engine's external liquidity.

The same rule as `ttxt_kafka.matching.ExternalBook` — what our orders took from a level
stays
taken until the feed next changes that level (then the feed's quantity wins again: the market
has moved on) — but over the platform's `Book`, whose sides are kept sorted: reading the best
levels costs O(levels read), not a sort of the whole side per order (recorded books hold a
thousand levels or more). The same `Book` gives the mids that positions are marked to.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from ttxt_kafka.book import Book
from ttxt_kafka.events import OrderBook, Side


class BookLiquidity:
    def __init__(self, book: Book) -> None:
        self.book = book
        self._taken: dict[Side, dict[Decimal, Decimal]] = {Side.BUY: {}, Side.SELL: {}}

    def apply(self, event: OrderBook) -> bool:
        """Feed a book event; False for a delta before any snapshot (nothing changes)."""
        if not self.book.update(event):
            return False
        if event.is_snapshot:
            self._taken[Side.BUY].clear()
            self._taken[Side.SELL].clear()
            return True
        for side, levels in ((Side.BUY, event.bids), (Side.SELL, event.asks)):
            taken = self._taken[side]
            if taken:
                for price, _ in levels:
                    taken.pop(Decimal(price), None)
        return True

    def levels(self, side: Side) -> Iterator[tuple[Decimal, Decimal]]:
        """(price, qty) resting on `side` (BUY = bids), best first, minus what we took."""
        taken = self._taken[side]
        for price, text in self.book.iter_levels("bid" if side is Side.BUY else "ask"):
            qty = Decimal(text) - taken.get(price, Decimal(0)) if taken else Decimal(text)
            if qty > 0:
                yield price, qty

    def take(self, side: Side, price: Decimal, qty: Decimal) -> None:
        taken = self._taken[side]
        taken[price] = taken.get(price, Decimal(0)) + qty
