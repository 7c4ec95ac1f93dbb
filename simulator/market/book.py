"""A price-level order book in integer ticks (price) and lots (quantity)."""

from __future__ import annotations

from bisect import bisect_left, insort


class Side:
    __slots__ = ("is_bid", "levels", "prices")

    def __init__(self, is_bid: bool) -> None:
        self.is_bid = is_bid
        self.levels: dict[int, int] = {}  # price -> quantity
        self.prices: list[int] = []  # ascending, for both sides

    def __len__(self) -> int:
        return len(self.prices)

    def best(self) -> int | None:
        if not self.prices:
            return None
        return self.prices[-1] if self.is_bid else self.prices[0]

    def at_rank(self, rank: int) -> int:
        """Price of the level `rank` places behind the best (0 = best)."""
        return self.prices[-1 - rank] if self.is_bid else self.prices[rank]

    def worst(self) -> int:
        return self.prices[0] if self.is_bid else self.prices[-1]

    def set(self, price: int, qty: int) -> None:
        """Absolute quantity at a price; 0 removes the level."""
        if qty <= 0:
            if self.levels.pop(price, None) is not None:
                del self.prices[bisect_left(self.prices, price)]
            return
        if price not in self.levels:
            insort(self.prices, price)
        self.levels[price] = qty

    def top_prices(self, n: int) -> list[int]:
        """The best `n` prices, best first."""
        return self.prices[: -n - 1 : -1] if self.is_bid else self.prices[:n]

    def top(self, n: int) -> list[tuple[int, int]]:
        levels = self.levels
        return [(p, levels[p]) for p in self.top_prices(n)]


class Book:
    __slots__ = ("bids", "asks")

    def __init__(self) -> None:
        self.bids = Side(True)
        self.asks = Side(False)

    def top_of_book(self) -> tuple[int, int, int, int]:
        """(bid price, bid qty, ask price, ask qty); the market keeps both sides non-empty."""
        bid, ask = self.bids.best(), self.asks.best()
        assert bid is not None and ask is not None
        return bid, self.bids.levels[bid], ask, self.asks.levels[ask]
