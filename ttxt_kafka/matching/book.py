"""The resting orders of one symbol, in price-time priority.

Each side maps an exact price to its level, an insertion-ordered dict of orders (FIFO: the
first inserted trades first; removal is O(1)), plus the prices kept sorted by bisection, so
the best price is O(1) and inserting a new level O(log levels).
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterator
from decimal import Decimal

from ttxt_kafka.events import Side

from .model import Order


class BookSide:
    __slots__ = ("is_bid", "levels", "prices")

    def __init__(self, is_bid: bool) -> None:
        self.is_bid = is_bid
        self.levels: dict[Decimal, dict[int, Order]] = {}
        self.prices: list[Decimal] = []  # ascending on both sides

    def __len__(self) -> int:
        return sum(len(level) for level in self.levels.values())

    def best(self) -> Decimal | None:
        if not self.prices:
            return None
        return self.prices[-1] if self.is_bid else self.prices[0]

    def add(self, order: Order) -> None:
        """Put `order` at the back of its price level."""
        price = order.price
        assert price is not None, "only priced orders rest"
        level = self.levels.get(price)
        if level is None:
            level = self.levels[price] = {}
            insort(self.prices, price)
        level[order.order_id] = order

    def remove(self, order: Order) -> None:
        price = order.price
        assert price is not None
        level = self.levels[price]
        del level[order.order_id]
        if not level:
            del self.levels[price]
            del self.prices[bisect_left(self.prices, price)]

    def orders(self) -> Iterator[Order]:
        """Every resting order, best price first, oldest first within a price."""
        prices = reversed(self.prices) if self.is_bid else iter(self.prices)
        for price in list(prices):
            yield from list(self.levels[price].values())

    def depth(self, limit: int | None = None) -> list[tuple[Decimal, Decimal]]:
        """Aggregated (price, remaining qty) levels, best first."""
        prices = self.prices[::-1] if self.is_bid else self.prices
        if limit is not None:
            prices = prices[:limit]
        return [(p, sum((o.remaining for o in self.levels[p].values()), Decimal(0)))
                for p in prices]


class RestingBook:
    __slots__ = ("bids", "asks")

    def __init__(self) -> None:
        self.bids = BookSide(is_bid=True)
        self.asks = BookSide(is_bid=False)

    def side(self, side: Side) -> BookSide:
        """The side where orders of `side` rest (BUY -> bids)."""
        return self.bids if side is Side.BUY else self.asks

    def crossed(self) -> bool:
        bid, ask = self.bids.best(), self.asks.best()
        return bid is not None and ask is not None and bid >= ask
