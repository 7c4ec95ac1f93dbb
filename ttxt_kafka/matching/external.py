"""External liquidity: the market's book, which is not made of our resting orders.

The simulator's synthetic market or a replayed capture holds a book of its own. An incoming
order first trades with our resting orders and then with this book, level by level; the book
is told what was taken so it can deplete (or ignore it: a capture cannot change its future).

Contract of `ExternalLiquidity.levels(side)`: the levels resting on `side` (BUY = bids,
SELL = asks), best first, quantities > 0. The engine reads them lazily, only as deep as an
order needs, and calls `take` after it has decided the fills.

`ExternalBook` is a ready implementation over a plain price -> quantity book (fed from our
`OrderBook` events, a capture or the synthetic market): what we take is subtracted from a
level until that level is next updated by the feed, when the feed's quantity wins again (the
market has moved on and its new number already reflects who traded).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from decimal import Decimal
from typing import Protocol, runtime_checkable

from ttxt_kafka.events import OrderBook, Side


@runtime_checkable
class ExternalLiquidity(Protocol):
    def levels(self, side: Side) -> Iterable[tuple[Decimal, Decimal]]:
        """(price, qty) resting on `side` (BUY = bids, SELL = asks), best first, qty > 0."""
        ...

    def take(self, side: Side, price: Decimal, qty: Decimal) -> None:
        """We traded `qty` against the level at `price` on `side`."""
        ...


class ExternalBook:
    """A depleting view of a market book. Not thread-safe; the engine is single-threaded."""

    def __init__(self) -> None:
        self._book: dict[Side, dict[Decimal, Decimal]] = {Side.BUY: {}, Side.SELL: {}}
        self._taken: dict[Side, dict[Decimal, Decimal]] = {Side.BUY: {}, Side.SELL: {}}

    def replace(self, bids: Iterable[tuple[Decimal, Decimal]],
                asks: Iterable[tuple[Decimal, Decimal]]) -> None:
        """A snapshot: the whole book, consumption forgotten."""
        for side, levels in ((Side.BUY, bids), (Side.SELL, asks)):
            self._book[side] = {p: q for p, q in levels if q > 0}
            self._taken[side].clear()

    def update(self, bids: Iterable[tuple[Decimal, Decimal]] = (),
               asks: Iterable[tuple[Decimal, Decimal]] = ()) -> None:
        """A delta: each level set to its new quantity (0 removes it)."""
        for side, levels in ((Side.BUY, bids), (Side.SELL, asks)):
            book, taken = self._book[side], self._taken[side]
            for price, qty in levels:
                taken.pop(price, None)
                if qty > 0:
                    book[price] = qty
                else:
                    book.pop(price, None)

    def apply(self, event: OrderBook) -> None:
        """Feed one of our `OrderBook` events (snapshot or delta, exact strings)."""
        bids = [(Decimal(p), Decimal(q)) for p, q in event.bids]
        asks = [(Decimal(p), Decimal(q)) for p, q in event.asks]
        if event.is_snapshot:
            self.replace(bids, asks)
        else:
            self.update(bids, asks)

    def levels(self, side: Side) -> Iterator[tuple[Decimal, Decimal]]:
        book, taken = self._book[side], self._taken[side]
        for price in sorted(book, reverse=side is Side.BUY):
            qty = book[price] - taken.get(price, Decimal(0))
            if qty > 0:
                yield price, qty

    def take(self, side: Side, price: Decimal, qty: Decimal) -> None:
        taken = self._taken[side]
        taken[price] = taken.get(price, Decimal(0)) + qty

    def best(self, side: Side) -> tuple[Decimal, Decimal] | None:
        return next(iter(self.levels(side)), None)
