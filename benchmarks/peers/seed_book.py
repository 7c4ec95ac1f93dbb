"""Drive the seed's order book, ``ttxt_v2.core.api.Orderbook`` (ttxt2 0.1.4).

How the seed keeps a book (``connector_base._update_orderbooks``): the first SNAPSHOT event's
``Orderbook`` object *becomes* the book, then every later event goes through
``book.update(event)``. Its quirks, and what this adapter does about them:

- ``update()`` with a SNAPSHOT does ``self = ob``, which rebinds a local and changes nothing.
  So the starting book is built directly from the snapshot, exactly as the seed's connectors do.
- ``update()`` truncates both sides to 50 levels after every event. Benchmarked on a 400-level
  book that is less work than the peers do (bisect over 50, not 400) and it silently drops depth,
  so the headline row ("seed") calls ``_update_from_delta()`` — the same delta code without the
  truncation — and keeps all 400 levels like the others; its final book is checked exactly. The
  public path is timed too, as a second row ("seed, update()"), for reference.
- Prices and quantities are floats (parsed here, outside the timed region); levels match when
  ``abs(a - b) < 1e-8``, fine for a 0.01 tick.
- The book takes ownership of the delta's ``OrderbookEntry`` objects (inserted as-is, later
  mutated in place), so every round needs fresh delta objects: ``prepare()`` runs per round.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from benchmarks.data import BookData, Level


@dataclass
class SeedState:
    book: Any  # ttxt_v2.core.api.Orderbook
    deltas: list[Any]  # list[Orderbook] with update_type DELTA


def prepare(data: BookData) -> SeedState:
    """Untimed: parse the strings to floats and build the seed's objects."""
    from ttxt_v2.core.api import EUpdateType, Orderbook, OrderbookEntry, TradingPair

    pair = TradingPair(base="BTC", quote="USDT")

    def entries(levels: list[Level]) -> list[Any]:
        return [OrderbookEntry(price=float(p), qty=float(q)) for p, q in levels]

    book = Orderbook(
        update_type=EUpdateType.SNAPSHOT,
        trading_pair=pair,
        bids=entries(data.snapshot_bids),
        asks=entries(data.snapshot_asks),
    )
    deltas = [
        Orderbook(
            update_type=EUpdateType.DELTA,
            trading_pair=pair,
            bids=entries(d.bids),
            asks=entries(d.asks),
            timestamp=i,
            seq=i,
        )
        for i, d in enumerate(data.deltas, 1)
    ]
    return SeedState(book, deltas)


def apply(state: SeedState) -> None:
    """Timed: apply every delta keeping full depth (the seed's delta code, no truncation)."""
    update = state.book._update_from_delta
    for delta in state.deltas:
        update(delta)


def apply_public(state: SeedState) -> None:
    """Timed: the seed's public path, ``Orderbook.update()``, which truncates to 50 levels."""
    update = state.book.update
    for delta in state.deltas:
        update(delta)


def levels(state: SeedState) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
    """The book, best first, as exact decimals (repr of a float parsed from "x.yz" is "x.yz")."""

    def side(entries: list[Any]) -> list[tuple[Decimal, Decimal]]:
        return [(Decimal(repr(e.price)), Decimal(repr(e.qty))) for e in entries]

    return side(state.book.bids), side(state.book.asks)
