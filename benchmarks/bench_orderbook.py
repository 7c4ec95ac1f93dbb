"""Order book maintenance: apply the same N 10-level deltas to a 400-level book.

Every library gets the same input (``benchmarks/data.py``): a 400-level snapshot per side and
``BENCH_DELTAS`` (default 20,000) deltas of 10 levels each, mixing updates, inserts and deletes.
Each adapter converts it to its native objects outside the timed region; the timed region is
only the loop applying the deltas. Reported: µs per delta, median of ``BENCH_ROUNDS`` rounds.

Before timing, each library's final book is compared with the generator's reference book, so a
fast but wrong book cannot win.

Run: ``make bench`` (all benchmarks) or ``.bench-venv/bin/python -m benchmarks.bench_orderbook``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from types import ModuleType
from typing import Any

from benchmarks.common import (
    Case,
    Report,
    Unavailable,
    gc_in_timed_region,
    int_from_env,
    measure_all,
    print_report,
    rounds_from_env,
    write_json,
)
from benchmarks.data import BookData, Level, make_book_data

BENCH = "orderbook"
BASELINE = "seed"

DecLevels = list[tuple[Decimal, Decimal]]


@dataclass(frozen=True)
class Contender:
    """A library in the race: an adapter module exposing three plain functions.

    - ``prepare(data: BookData) -> state``: untimed; native objects + the starting book
      (built from ``data.snapshot_bids`` / ``data.snapshot_asks``) + the native deltas;
    - ``<apply>(state) -> None``: timed; applies every delta in order;
    - ``levels(state) -> (bids, asks)``: the book, best first, as ``(Decimal, Decimal)`` pairs.
    """

    name: str
    module: str
    apply: str = "apply"
    exact: bool = True  # final book must equal the reference; else only be a subset of it
    note: str = ""


CONTENDERS: list[Contender] = [
    Contender("seed", "benchmarks.peers.seed_book"),
    Contender(
        "seed, update()",
        "benchmarks.peers.seed_book",
        apply="apply_public",
        exact=False,
        note="public path, truncates to 50 levels",
    ),
    Contender("cryptofeed", "benchmarks.peers.cryptofeed_book"),
    # >>> OURS ------------------------------------------------------------------------------
    # Add ``benchmarks/ours_book.py`` (about 10 lines) once ttxt_kafka.book and .events exist:
    #
    #     from benchmarks.data import BookData
    #
    #     def prepare(data: BookData):
    #         from ttxt_kafka.book import Book
    #         from ttxt_kafka.events import OrderBook
    #         book = Book()
    #         book.update(OrderBook(..., bids=data.snapshot_bids, asks=data.snapshot_asks))
    #         return book, [OrderBook(..., bids=d.bids, asks=d.asks) for d in data.deltas]
    #
    #     def apply(state):
    #         book, deltas = state
    #         for delta in deltas:
    #             book.update(delta)
    #
    #     def levels(state): ...  # (bids, asks) best first, as (Decimal, Decimal) pairs
    #
    # Until that module imports, the table omits "ours" and says why.
    Contender("ours", "benchmarks.ours_book"),
    # <<< OURS ------------------------------------------------------------------------------
]


def _as_decimal(levels: list[Level]) -> DecLevels:
    return [(Decimal(p), Decimal(q)) for p, q in levels]


def check(c: Contender, got: tuple[DecLevels, DecLevels], data: BookData) -> str | None:
    """None if the book is right, else what is wrong (short)."""
    for side, have, want in (
        ("bids", got[0], _as_decimal(data.final_bids)),
        ("asks", got[1], _as_decimal(data.final_asks)),
    ):
        if c.exact:
            if have != want:
                bad = next(
                    (i for i, (a, b) in enumerate(zip(have, want, strict=False)) if a != b),
                    min(len(have), len(want)),
                )
                n = f"{len(have)} vs {len(want)} levels"
                return f"{side} differ from the reference at level {bad} ({n})"
        else:
            # Truncating books lose depth, but every level they keep must be right and in order.
            ref = dict(want)
            if any(ref.get(p) != q for p, q in have) or have != sorted(
                have, key=lambda pq: pq[0], reverse=side == "bids"
            ):
                return f"{side} hold a price or quantity the reference does not"
    return None


def _load(c: Contender) -> tuple[ModuleType, Callable[[Any], object]]:
    module = importlib.import_module(c.module)
    return module, getattr(module, c.apply)


def run(data: BookData | None = None, rounds: int | None = None) -> Report:
    n_deltas = int_from_env("BENCH_DELTAS", 20_000)
    data = data or make_book_data(n_deltas=n_deltas)
    rounds = rounds or rounds_from_env()
    report = Report(
        bench=BENCH,
        baseline=BASELINE,
        params={
            "deltas": len(data.deltas),
            "levels_per_delta": round(data.levels_per_delta, 2),
            "depth": f"{len(data.snapshot_bids)}+{len(data.snapshot_asks)}",
            "rounds": rounds,
            "gc": "on" if gc_in_timed_region() else "off",
        },
    )
    cases: list[Case[Any]] = []
    for c in CONTENDERS:
        try:
            module, apply = _load(c)
            state = module.prepare(data)  # the peer itself is imported here, lazily
        except ImportError as exc:
            report.unavailable.append(Unavailable(c.name, f"import failed: {exc}"))
            continue
        except Exception as exc:  # a broken adapter costs its row, not the whole table
            report.unavailable.append(Unavailable(c.name, f"prepare failed: {exc!r}"))
            continue
        try:
            apply(state)
            problem = check(c, module.levels(state), data)
        except Exception as exc:
            problem = f"raised {type(exc).__name__}: {exc}"
        if problem:
            report.unavailable.append(Unavailable(c.name, f"failed the check: {problem}"))
            continue
        del state
        prepare: Callable[[BookData], Any] = module.prepare
        cases.append(
            Case(
                name=c.name,
                metric="per 10-level delta",
                run=apply,
                setup=partial(prepare, data),  # fresh native input every round
                ops=len(data.deltas),
                note=c.note,
            )
        )
    report.results = measure_all(cases, rounds=rounds)
    return report


def main() -> None:
    report = run()
    print_report(report, "Order book: apply 10-level deltas to a 400-level book")
    path = write_json(report)
    print(f"\n(results: {path})")


if __name__ == "__main__":
    main()
