"""The local order book: seed conveniences, exactness, and agreement with a naive reference."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from ttxt_kafka.book import Book, BookError, book_from
from ttxt_kafka.events import OrderBook, UpdateType


def ob(kind: UpdateType, bids: list[list[str]], asks: list[list[str]], seq: int = 0,
       symbol: str = "BTC/USDT") -> OrderBook:
    return OrderBook(venue="binance", symbol=symbol, exchange_ts=seq, receive_ts=seq,
                     sequence=seq, update_type=kind, bids=bids, asks=asks)  # type: ignore[arg-type]


SNAP = ob(UpdateType.SNAPSHOT,
          bids=[["100.00", "1"], ["99.50", "2"], ["99.00", "3"]],
          asks=[["100.50", "1.5"], ["101.00", "2.5"], ["102.00", "4"]], seq=10)


def test_snapshot_then_delta_in_one_update_call() -> None:
    book = Book()
    assert book.update(SNAP)
    assert book.best_bid() == ("100.00", "1") and book.best_ask() == ("100.50", "1.5")
    book.update(ob(UpdateType.DELTA, bids=[["100.00", "0"], ["99.75", "5"]],
                   asks=[["100.25", "0.1"], ["102.00", "0.00000000"]], seq=11))
    assert book.bids() == [("99.75", "5"), ("99.50", "2"), ("99.00", "3")]
    assert book.asks() == [("100.25", "0.1"), ("100.50", "1.5"), ("101.00", "2.5")]
    assert book.sequence == 11 and book.depth() == (3, 3)
    # A new snapshot replaces everything.
    book.update(ob(UpdateType.SNAPSHOT, bids=[["1", "1"]], asks=[["2", "1"]], seq=20))
    assert book.bids() == [("1", "1")] and book.asks() == [("2", "1")]


def test_levels_keep_exact_strings_and_equal_prices_are_one_level() -> None:
    book = book_from(SNAP)
    book.update(ob(UpdateType.DELTA, bids=[["99.5", "7.000"]], asks=[]))  # "99.50" == "99.5"
    assert book.depth() == (3, 3)
    assert book.bids(2) == [("100.00", "1"), ("99.5", "7.000")]


def test_queries() -> None:
    book = book_from(SNAP)
    assert book.mid() == Decimal("100.25")
    assert book.spread() == Decimal("0.50")
    vb, va = book.vwap(2)
    assert vb == (Decimal("100.00") * 1 + Decimal("99.50") * 2) / 3
    assert va == (Decimal("100.50") * Decimal("1.5") + Decimal("101.00") * Decimal("2.5")) / 4
    # within 0.5% of 100.25: bids >= 99.74875, asks <= 100.75125
    assert book.volume_within("0.5") == (Decimal("1"), Decimal("1.5"))
    assert book.volume_within(2) == (Decimal("6"), Decimal("8"))
    assert not book.is_crossed()
    assert book.bids(0) == [] and book.asks(1) == [("100.50", "1.5")]


def test_empty_book_queries_are_none() -> None:
    book = Book()
    assert book.best_bid() is None and book.mid() is None and book.spread() is None
    assert book.vwap() == (None, None)
    assert book.volume_within(1) == (Decimal(0), Decimal(0))


def test_delta_before_snapshot_is_not_applied() -> None:
    book = Book()
    assert not book.update(ob(UpdateType.DELTA, bids=[["1", "1"]], asks=[]))
    assert not book.ready and book.depth() == (0, 0)


def test_wrong_symbol_and_bad_levels_raise() -> None:
    book = book_from(SNAP)
    with pytest.raises(BookError, match="ETH/USDT update applied to the BTC/USDT book"):
        book.update(ob(UpdateType.DELTA, [], [], symbol="ETH/USDT"))
    with pytest.raises(BookError, match="bad level"):
        book.update(ob(UpdateType.DELTA, bids=[["not-a-price", "1"]], asks=[]))


def test_crossed_book_is_detected() -> None:
    book = book_from(SNAP)
    book.update(ob(UpdateType.DELTA, bids=[["100.75", "1"]], asks=[]))
    assert book.is_crossed()


def test_snapshot_event_round_trip_and_max_depth() -> None:
    book = book_from(SNAP)
    snap = book.snapshot(depth=2)
    assert snap.update_type is UpdateType.SNAPSHOT and snap.depth == 2
    assert snap.bids == [["100.00", "1"], ["99.50", "2"]]
    assert book_from(book.snapshot()) == book
    trimmed = Book(max_depth=1)
    trimmed.update(SNAP)
    assert trimmed.depth() == (1, 1) and trimmed.best_bid() == ("100.00", "1")


def test_random_deltas_agree_with_a_naive_reference_book() -> None:
    """20k random deltas: inserts, updates, deletes (also of absent levels), re-spelled prices."""
    rng = random.Random(11)
    ref: dict[str, dict[Decimal, tuple[str, str]]] = {"bid": {}, "ask": {}}

    def spell(ticks: int) -> str:
        s = f"{ticks // 100}.{ticks % 100:02d}"
        return s + "0" * rng.randint(0, 2)  # same price, different spellings

    def level(side: str) -> list[str]:
        ticks = rng.randint(9000, 10000) if side == "bid" else rng.randint(10001, 11000)
        qty = "0" if rng.random() < 0.3 else f"{rng.randint(1, 10**6)}e-3"
        qty = qty if qty == "0" else str(Decimal(qty))
        return [spell(ticks), qty]

    def ref_apply(side: str, levels: list[list[str]]) -> None:
        for p, q in levels:
            if Decimal(q) == 0:
                ref[side].pop(Decimal(p), None)
            else:
                ref[side][Decimal(p)] = (p, q)

    book = Book()
    snap = ob(UpdateType.SNAPSHOT, [level("bid") for _ in range(300)],
              [level("ask") for _ in range(300)])
    snap.bids = [x for x in snap.bids if x[1] != "0"]
    snap.asks = [x for x in snap.asks if x[1] != "0"]
    book.update(snap)
    ref_apply("bid", snap.bids)  # type: ignore[arg-type]
    ref_apply("ask", snap.asks)  # type: ignore[arg-type]
    for i in range(20_000):
        bids = [level("bid") for _ in range(rng.randint(0, 10))]
        asks = [level("ask") for _ in range(rng.randint(0, 10))]
        book.update(ob(UpdateType.DELTA, bids, asks, seq=i))
        ref_apply("bid", bids)
        ref_apply("ask", asks)
        if i % 997 == 0:
            assert book.bids() == [ref["bid"][k] for k in sorted(ref["bid"], reverse=True)]
            assert book.asks() == [ref["ask"][k] for k in sorted(ref["ask"])]
    assert book.bids() == [ref["bid"][k] for k in sorted(ref["bid"], reverse=True)]
    assert book.asks() == [ref["ask"][k] for k in sorted(ref["ask"])]
