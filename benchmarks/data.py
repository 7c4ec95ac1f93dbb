"""Deterministic order-book input shared by every library in a benchmark.

Everything is plain Python: prices and quantities are exact decimal strings, as exchanges send
them (``"60123.45"``, ``"12.345"``), grouped as lists of ``(price, qty)`` tuples per side. A
quantity of ``"0"`` removes a level. Each adapter converts this to its native form outside the
timed region, so all libraries get the same input and are timed on book work only.

The generator keeps its own reference book (plain ints in a dict), so the expected final state is
known and adapters can be checked for correctness, not just speed.
"""

from __future__ import annotations

import bisect
import random
from dataclasses import dataclass

Level = tuple[str, str]  # (price, qty) as exact decimal strings

TICK_DECIMALS = 2  # price tick 0.01
QTY_DECIMALS = 3  # quantity step 0.001
MID_TICKS = 6_000_000  # mid price 60000.00, fixed: bids stay below it, asks above, never cross


@dataclass(frozen=True)
class BookDelta:
    """One exchange update: the levels that changed on each side (qty "0" = remove)."""

    bids: list[Level]
    asks: list[Level]


@dataclass(frozen=True)
class BookData:
    """A snapshot, the deltas to apply on top of it, and the book expected afterwards."""

    snapshot_bids: list[Level]  # best (highest) first
    snapshot_asks: list[Level]  # best (lowest) first
    deltas: list[BookDelta]
    final_bids: list[Level]  # best first
    final_asks: list[Level]  # best first

    @property
    def levels_per_delta(self) -> float:
        n = sum(len(d.bids) + len(d.asks) for d in self.deltas)
        return n / len(self.deltas) if self.deltas else 0.0


def fmt_price(ticks: int) -> str:
    return f"{ticks // 100}.{ticks % 100:02d}"


def fmt_qty(steps: int) -> str:
    return "0" if steps == 0 else f"{steps // 1000}.{steps % 1000:03d}"


class _Side:
    """Reference book side: ticks sorted by distance from mid, so index 0 is the best level."""

    def __init__(self, is_bid: bool) -> None:
        self.is_bid = is_bid
        self.dist: list[int] = []  # distance from mid in ticks, ascending = best first
        self.qty: dict[int, int] = {}  # distance -> qty steps

    def tick(self, dist: int) -> int:
        return MID_TICKS - dist if self.is_bid else MID_TICKS + dist

    def set(self, dist: int, qty: int) -> None:
        if qty == 0:
            del self.qty[dist]
            self.dist.pop(bisect.bisect_left(self.dist, dist))
        else:
            if dist not in self.qty:
                bisect.insort(self.dist, dist)
            self.qty[dist] = qty

    def levels(self) -> list[Level]:
        return [(fmt_price(self.tick(d)), fmt_qty(self.qty[d])) for d in self.dist]


def make_book_data(
    n_deltas: int = 20_000,
    depth: int = 400,
    levels_per_delta: int = 10,
    seed: int = 20240601,
) -> BookData:
    """Build a ``depth``-level snapshot and ``n_deltas`` deltas of ``levels_per_delta`` levels.

    Per level change: a side at random, then ~60% update of an existing level, ~20% insert of a
    new price, ~20% delete; the insert/delete weights lean towards whichever brings the side back
    to ``depth``, so it hovers around it. Updates and deletes are skewed towards the top of the
    book (as on real feeds); inserts fill gaps between levels or extend the far end. A price
    appears at most once per side in one delta, as in real exchange messages.
    """
    rng = random.Random(seed)
    sides = {"bid": _Side(True), "ask": _Side(False)}

    # Snapshot: levels 1-3 ticks apart, leaving gaps for later inserts.
    for side in sides.values():
        dist = rng.randint(1, 3)
        for _ in range(depth):
            side.set(dist, rng.randint(1, 99_999))
            dist += rng.randint(1, 3)
    snap_bids, snap_asks = sides["bid"].levels(), sides["ask"].levels()

    deltas: list[BookDelta] = []
    for _ in range(n_deltas):
        changed: dict[str, dict[int, int]] = {"bid": {}, "ask": {}}
        for _ in range(levels_per_delta):
            name = "bid" if rng.random() < 0.5 else "ask"
            side, touched = sides[name], changed[name]
            n = len(side.dist)
            if n > depth + 5:
                w_insert, w_delete = 0.10, 0.30
            elif n < depth - 5:
                w_insert, w_delete = 0.30, 0.10
            else:
                w_insert, w_delete = 0.20, 0.20
            r = rng.random()
            if r < w_insert or n == 0:
                span = (side.dist[-1] if side.dist else depth * 2) + 10
                while True:  # a free price, weighted towards the top of the book
                    dist = 1 + int(span * rng.random() ** 2)
                    if dist not in side.qty and dist not in touched:
                        break
                qty = rng.randint(1, 99_999)
            else:
                while True:
                    dist = side.dist[int(n * rng.random() ** 2)]
                    if dist not in touched:
                        break
                qty = 0 if r < w_insert + w_delete else rng.randint(1, 99_999)
            side.set(dist, qty)
            touched[dist] = qty
        bid, ask = sides["bid"], sides["ask"]
        deltas.append(
            BookDelta(
                bids=[(fmt_price(bid.tick(d)), fmt_qty(q)) for d, q in changed["bid"].items()],
                asks=[(fmt_price(ask.tick(d)), fmt_qty(q)) for d, q in changed["ask"].items()],
            )
        )

    return BookData(
        snapshot_bids=snap_bids,
        snapshot_asks=snap_asks,
        deltas=deltas,
        final_bids=sides["bid"].levels(),
        final_asks=sides["ask"].levels(),
    )
