"""The simulator's own market as external liquidity for the matching engine.

`FeedLiquidity` reads the feed's current book (the synthetic market's book, or the venue's REST
snapshot body of a capture) on `refresh()`. What an order took from a level stays taken until
the feed changes that level's quantity: then the feed's number wins again (`ExternalBook`'s
rule), so one visible lot cannot be sold twice while the market stands still.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from simulator.feeds import Feed
from simulator.matching import ExternalBook
from simulator.synthetic import SyntheticFeed
from ttxt_kafka.events import Side

Levels = dict[Decimal, Decimal]
Reader = Callable[[], tuple[Levels, Levels]]

DEPTH = 100  # levels per side offered as liquidity


class FeedLiquidity:
    def __init__(self, read: Reader) -> None:
        self._read = read
        self._book = ExternalBook()
        self._seen: tuple[Levels, Levels] = ({}, {})

    def refresh(self) -> None:
        """Take the feed's book; levels whose quantity changed forget what was taken there."""
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


def reader_for(feed: Feed, symbol: str) -> Reader:
    """How to read `symbol`'s current book from this feed."""
    if isinstance(feed, SyntheticFeed):
        market = feed.markets[symbol]
        inst, book = market.inst, market.flow.book

        def read_synthetic() -> tuple[Levels, Levels]:
            return tuple(  # type: ignore[return-value]
                {Decimal(inst.price(p)): Decimal(inst.qty(q)) for p, q in side.top(DEPTH)}
                for side in (book.bids, book.asks))

        return read_synthetic

    def read_snapshot() -> tuple[Levels, Levels]:
        return _parse_depth(feed.depth_body(symbol, 1000, None))

    return read_snapshot


def _parse_depth(body: str) -> tuple[Levels, Levels]:
    """A Binance (`bids`/`asks`) or Bybit (`result.b`/`result.a`) REST depth body."""
    d: Any = json.loads(body)
    if "result" in d:
        d = d["result"]
        bids, asks = d["b"], d["a"]
    else:
        bids, asks = d["bids"], d["asks"]
    return ({Decimal(p): Decimal(q) for p, q in bids[:DEPTH]},
            {Decimal(p): Decimal(q) for p, q in asks[:DEPTH]})
