"""A live market book as external liquidity: a depleting view that follows the market.

`LiveBook(read)` calls `read()` on `refresh()` for the market's current levels (bids, asks:
price -> quantity). What an order took from a level stays taken until the market changes that
level's quantity: then the market's number wins again (`ExternalBook`'s rule), so one visible
lot cannot be sold twice while the market stands still. Used by the simulator (its own market)
and by the connectors' paper trading (the connector's own books).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal

from ttxt_kafka.events import Side

from .external import ExternalBook

Levels = dict[Decimal, Decimal]
Reader = Callable[[], tuple[Levels, Levels]]


class LiveBook:
    def __init__(self, read: Reader) -> None:
        self._read = read
        self._book = ExternalBook()
        self._seen: tuple[Levels, Levels] = ({}, {})

    def refresh(self) -> None:
        """Take the market's book; levels whose quantity changed forget what was taken there."""
        bids, asks = self._read()
        changes = [_changed(old, new) for old, new in zip(self._seen, (bids, asks), strict=True)]
        self._book.update(bids=changes[0], asks=changes[1])
        self._seen = (bids, asks)

    def levels(self, side: Side) -> Iterator[tuple[Decimal, Decimal]]:
        return self._book.levels(side)

    def take(self, side: Side, price: Decimal, qty: Decimal) -> None:
        self._book.take(side, price, qty)

    def best(self, side: Side) -> tuple[Decimal, Decimal] | None:
        return self._book.best(side)


def _changed(old: Levels, new: Levels) -> list[tuple[Decimal, Decimal]]:
    out = [(p, q) for p, q in new.items() if old.get(p) != q]
    out += [(p, Decimal(0)) for p in old if p not in new]
    return out
