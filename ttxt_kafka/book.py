"""A local order book, kept from `OrderBook` snapshot and delta events.

`Book.update(event)` applies a snapshot (replaces the book) or a delta (sets each listed level;
qty 0 removes it) — the seed's one-call update. Queries: best bid/ask, spread, mid, VWAP to a
depth, volume within a percentage of the mid, the top N levels.

Exactness: a level's price and quantity are kept as the exchange's own strings (checksum
exchanges hash them verbatim); ordering and arithmetic use `Decimal`, never float. Each side is
a dict (exact price -> level) plus a sorted list of prices maintained by bisection, so a delta
costs O(levels in the delta × log depth) and best bid/ask is O(1).
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation

from .events import Event, Level, OrderBook, UpdateType, now_us


class BookError(ValueError):
    """An update that cannot be applied (wrong symbol, unparsable level)."""


# Price strings seen recently -> their Decimal. Parsing is cheap, but a fresh Decimal must hash
# its value on every dict lookup while a cached one keeps its hash: this halves a delta's cost.
_PRICE_CACHE_LIMIT = 1 << 16


def _apply(
    levels: dict[Decimal, tuple[str, str]],
    prices: list[Decimal],
    changes: list[Level],
    cache: dict[str, Decimal],
) -> None:
    """Set each (price, qty) on one side; `prices` stays sorted ascending."""
    for price, qty in changes:
        key = cache.get(price)
        if key is None:
            if len(cache) >= _PRICE_CACHE_LIMIT:
                cache.clear()
            key = cache[price] = Decimal(price)
        # qty "0", "0.0", "0.00000000" (all digits zero) removes; cheaper than Decimal(qty) == 0
        if not qty.strip("0."):
            if levels.pop(key, None) is not None:
                del prices[bisect_left(prices, key)]
        else:
            if key not in levels:
                insort(prices, key)
            levels[key] = (price, qty)


class Book:
    """The order book of one symbol on one venue."""

    __slots__ = (
        "venue", "symbol", "native_symbol", "sequence", "exchange_ts", "max_depth",
        "_bids", "_bid_prices", "_asks", "_ask_prices", "_has_snapshot", "_cache",
    )

    def __init__(self, venue: str = "", symbol: str = "", max_depth: int | None = None) -> None:
        self.venue = venue
        self.symbol = symbol
        self.native_symbol = ""
        self.sequence: int | None = None
        self.exchange_ts = 0
        self.max_depth = max_depth  # keep only this many levels per side (None = all)
        self._bids: dict[Decimal, tuple[str, str]] = {}
        self._bid_prices: list[Decimal] = []  # ascending: best bid is the last
        self._asks: dict[Decimal, tuple[str, str]] = {}
        self._ask_prices: list[Decimal] = []  # ascending: best ask is the first
        self._has_snapshot = False
        self._cache: dict[str, Decimal] = {}

    # ------------------------------------------------------------------ updating

    @property
    def ready(self) -> bool:
        """True once a snapshot has been applied (a book starts at a snapshot)."""
        return self._has_snapshot

    def update(self, event: OrderBook) -> bool:
        """Apply a snapshot or a delta. Returns False (and changes nothing) for a delta that
        arrives before any snapshot, since it cannot give a correct book on its own."""
        if self.symbol and event.symbol != self.symbol:
            raise BookError(f"{event.symbol} update applied to the {self.symbol} book")
        try:
            if event.update_type is UpdateType.SNAPSHOT:
                self.clear()
                self._has_snapshot = True
                self.symbol = event.symbol
                self.venue = event.venue
                self.native_symbol = event.native_symbol
            elif not self._has_snapshot:
                return False
            _apply(self._bids, self._bid_prices, event.bids, self._cache)
            _apply(self._asks, self._ask_prices, event.asks, self._cache)
        except (InvalidOperation, ValueError, TypeError) as exc:
            raise BookError(f"bad level in {event.symbol} {event.update_type}: {exc}") from exc
        self.sequence = event.sequence
        self.exchange_ts = event.exchange_ts
        if self.max_depth is not None:
            self._trim(self.max_depth)
        return True

    def set_level(self, side: str, price: str, qty: str) -> None:
        """Set one level directly ('bid' or 'ask'); qty 0 removes it."""
        if side == "bid":
            _apply(self._bids, self._bid_prices, [(price, qty)], self._cache)
        else:
            _apply(self._asks, self._ask_prices, [(price, qty)], self._cache)

    def clear(self) -> None:
        self._bids.clear()
        self._bid_prices.clear()
        self._asks.clear()
        self._ask_prices.clear()
        self._has_snapshot = False

    def _trim(self, depth: int) -> None:
        while len(self._bid_prices) > depth:
            del self._bids[self._bid_prices.pop(0)]
        while len(self._ask_prices) > depth:
            del self._asks[self._ask_prices.pop()]

    # ------------------------------------------------------------------ queries

    def best_bid(self) -> tuple[str, str] | None:
        """(price, qty) of the best bid, as the exchange's strings; None if the side is empty."""
        return self._bids[self._bid_prices[-1]] if self._bid_prices else None

    def best_ask(self) -> tuple[str, str] | None:
        return self._asks[self._ask_prices[0]] if self._ask_prices else None

    def bids(self, n: int | None = None) -> list[tuple[str, str]]:
        """The top n bid levels, best first (all when n is None)."""
        prices = self._bid_prices if n is None else self._bid_prices[-n:] if n > 0 else []
        return [self._bids[p] for p in reversed(prices)]

    def asks(self, n: int | None = None) -> list[tuple[str, str]]:
        prices = self._ask_prices if n is None else self._ask_prices[:n]
        return [self._asks[p] for p in prices]

    def iter_levels(self, side: str) -> Iterator[tuple[Decimal, str]]:
        """(price, qty string) of one side ('bid' or 'ask'), best first, lazily: reading the
        top few levels costs only those. The book must not change during the iteration."""
        if side == "bid":
            bids = self._bids
            return ((p, bids[p][1]) for p in reversed(self._bid_prices))
        asks = self._asks
        return ((p, asks[p][1]) for p in self._ask_prices)

    def depth(self) -> tuple[int, int]:
        """Number of (bid, ask) levels."""
        return len(self._bid_prices), len(self._ask_prices)

    def is_crossed(self) -> bool:
        """True if best bid >= best ask: a book in this state is wrong."""
        return bool(self._bid_prices and self._ask_prices
                    and self._bid_prices[-1] >= self._ask_prices[0])

    def spread(self) -> Decimal | None:
        if not (self._bid_prices and self._ask_prices):
            return None
        return self._ask_prices[0] - self._bid_prices[-1]

    def mid(self) -> Decimal | None:
        if not (self._bid_prices and self._ask_prices):
            return None
        return (self._bid_prices[-1] + self._ask_prices[0]) / 2

    def vwap(self, depth: int = 10) -> tuple[Decimal | None, Decimal | None]:
        """Volume-weighted average price of the top `depth` levels of (bids, asks)."""
        return _vwap(self.bids(depth)), _vwap(self.asks(depth))

    def volume_within(self, percent: Decimal | str | int) -> tuple[Decimal, Decimal]:
        """Total (bid, ask) quantity priced within `percent` % of the mid."""
        mid = self.mid()
        if mid is None:
            return Decimal(0), Decimal(0)
        band = mid * Decimal(percent) / 100
        low, high = mid - band, mid + band
        bid_start = bisect_left(self._bid_prices, low)
        bid_vol = sum((Decimal(self._bids[p][1]) for p in self._bid_prices[bid_start:]), Decimal(0))
        ask_end = bisect_left(self._ask_prices, high)
        if ask_end < len(self._ask_prices) and self._ask_prices[ask_end] == high:
            ask_end += 1
        ask_vol = sum((Decimal(self._asks[p][1]) for p in self._ask_prices[:ask_end]), Decimal(0))
        return bid_vol, ask_vol

    def snapshot(self, depth: int | None = None, receive_ts: int | None = None) -> OrderBook:
        """The book as an OrderBook SNAPSHOT event (for periodic snapshots, late joiners)."""
        bids: list[Level] = [list(x) for x in self.bids(depth)]
        asks: list[Level] = [list(x) for x in self.asks(depth)]
        return OrderBook(
            venue=self.venue, symbol=self.symbol, native_symbol=self.native_symbol,
            exchange_ts=self.exchange_ts, receive_ts=receive_ts or now_us(),
            sequence=self.sequence, update_type=UpdateType.SNAPSHOT, bids=bids, asks=asks,
            depth=depth or 0,
        )

    def __eq__(self, other: object) -> bool:
        """Same levels (exact strings), regardless of sequence and time."""
        if not isinstance(other, Book):
            return NotImplemented
        return self.bids() == other.bids() and self.asks() == other.asks()

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return (f"Book({self.venue} {self.symbol} seq={self.sequence} "
                f"bid={self.best_bid()} ask={self.best_ask()} depth={self.depth()})")


def _vwap(levels: list[tuple[str, str]]) -> Decimal | None:
    total_qty = Decimal(0)
    notional = Decimal(0)
    for price, qty in levels:
        q = Decimal(qty)
        total_qty += q
        notional += Decimal(price) * q
    return notional / total_qty if total_qty else None


def book_from(event: Event) -> Book:
    """A new Book started from a snapshot event."""
    if not isinstance(event, OrderBook) or not event.is_snapshot:
        raise BookError("a book starts from an OrderBook SNAPSHOT")
    book = Book(event.venue, event.symbol)
    book.update(event)
    return book
