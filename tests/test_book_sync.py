"""The book-sync state machines: the documented rules on captured sequences and on synthetic
gap, stale-snapshot and duplicate cases."""

from __future__ import annotations

import re

import pytest
from connector_support import (
    BINANCE_SPOT_REST,
    BINANCE_SPOT_WS,
    BINANCE_USDM_REST,
    BINANCE_USDM_WS,
    binance_reference,
    bybit_frames,
    bybit_reference,
    v1_frames,
    v1_http,
)

from ttxt_kafka.book import Book
from ttxt_kafka.connectors.base.book_sync import Action, BookSync
from ttxt_kafka.connectors.binance.book_sync import BinanceSpotBookSync, BinanceUsdmBookSync
from ttxt_kafka.connectors.binance.normalizer_spot import BinanceSpotNormalizer
from ttxt_kafka.connectors.binance.normalizer_usdm import BinanceUsdmNormalizer
from ttxt_kafka.connectors.bybit.book_sync import BybitBookSync
from ttxt_kafka.connectors.bybit.normalizer_linear import BybitLinearNormalizer
from ttxt_kafka.events import OrderBook, UpdateType


def delta(first: int | None, last: int | None, prev: int | None = None,
          bids: list[list[str]] | None = None) -> OrderBook:
    return OrderBook(venue="v", symbol="S/T", native_symbol="ST", exchange_ts=last or 0,
                     receive_ts=0, sequence=last, update_type=UpdateType.DELTA,
                     bids=bids or [["1", str(last)]], first_sequence=first, prev_sequence=prev)


def snapshot(last_update_id: int) -> OrderBook:
    return OrderBook(venue="v", symbol="S/T", native_symbol="ST", exchange_ts=0, receive_ts=0,
                     sequence=last_update_id, update_type=UpdateType.SNAPSHOT,
                     bids=[["1", "snap"]], asks=[["2", "1"]])


def seqs(events: list[OrderBook]) -> list[int | None]:
    return [e.sequence for e in events]


def apply(book: Book, sync: BookSync, action: Action, ev: OrderBook | None = None) -> None:
    if action is Action.SYNCED:
        for e in sync.take():
            book.update(e)
    elif action is Action.APPLY:
        assert ev is not None
        book.update(ev)


# ---------------------------------------------------------------- the live captures


@pytest.mark.parametrize("ws, rest, futures", [
    (BINANCE_SPOT_WS, BINANCE_SPOT_REST, False), (BINANCE_USDM_WS, BINANCE_USDM_REST, True)])
@pytest.mark.parametrize("snapshot_after", [1, 3, 10_000])
def test_binance_captures_sync_and_match_the_reference(
    ws: str, rest: str, futures: bool, snapshot_after: int
) -> None:
    """The REST snapshot handed over after the 1st, 3rd or last buffered update of each symbol:
    the machine bridges it, applies the rest, and the book equals the documented reference."""
    norm = BinanceUsdmNormalizer() if futures else BinanceSpotNormalizer()
    snaps = {re.search(r"symbol=(\w+)", url).group(1): norm.depth_snapshot(body, "", 0)  # type: ignore[union-attr]
             for url, _, body in v1_http(rest)}
    syncs: dict[str, BookSync] = {}
    books: dict[str, Book] = {}
    deltas = [ev for _, raw in v1_frames(ws) for ev in norm(raw, 0) if isinstance(ev, OrderBook)]
    for ev in deltas:
        native = ev.native_symbol
        sync = syncs.setdefault(native, BinanceUsdmBookSync() if futures else BinanceSpotBookSync())
        book = books.setdefault(native, Book())
        action = sync.on_delta(ev)
        assert action in (Action.BUFFER, Action.APPLY, Action.SYNCED, Action.DROP)
        apply(book, sync, action, ev)
        if action is Action.BUFFER and len(sync.buffer) == snapshot_after:
            apply(book, sync, sync.on_snapshot(snaps[native]))
    for native, sync in syncs.items():
        if not sync.synced:  # fewer updates than `snapshot_after`
            apply(books[native], sync, sync.on_snapshot(snaps[native]))
    reference = binance_reference(ws, rest, futures)
    for native, ref in reference.items():
        assert syncs[native].synced and syncs[native].sequence == ref.last
        bids, asks = ref.levels()
        assert books[native].bids() == bids and books[native].asks() == asks


@pytest.mark.parametrize("category", ["spot", "linear"])
def test_bybit_capture_applies_every_delta_and_matches_the_reference(category: str) -> None:
    norm = BybitLinearNormalizer()
    syncs: dict[str, BybitBookSync] = {}
    books: dict[str, Book] = {}
    for _, raw in bybit_frames(category):
        if '"orderbook.' not in raw[:40]:
            continue
        [ev] = norm(raw, 0)
        assert isinstance(ev, OrderBook)
        sync = syncs.setdefault(ev.native_symbol, BybitBookSync())
        action = sync.on_snapshot(ev) if ev.is_snapshot else sync.on_delta(ev)
        assert action is (Action.SYNCED if ev.is_snapshot else Action.APPLY)
        apply(books.setdefault(ev.native_symbol, Book()), sync, action, ev)
    for native, ref in bybit_reference(category).items():
        assert syncs[native].sequence == ref.last
        assert (books[native].bids(), books[native].asks()) == ref.levels()


# ---------------------------------------------------------------- Binance spot rules


def test_spot_snapshot_alone_is_the_book_and_the_next_update_must_bridge_it() -> None:
    sync = BinanceSpotBookSync()
    assert sync.on_delta(delta(95, 100)) is Action.BUFFER
    assert sync.on_snapshot(snapshot(100)) is Action.SYNCED  # nothing newer than 100 buffered
    assert seqs(sync.take()) == [100] and sync.bridging
    assert sync.on_delta(delta(98, 100)) is Action.DROP
    assert sync.on_delta(delta(99, 103)) is Action.APPLY  # U <= 101 <= u
    assert sync.on_delta(delta(104, 104)) is Action.APPLY
    assert sync.sequence == 104 and not sync.bridging


def test_spot_buffered_updates_bridge_and_continue() -> None:
    sync = BinanceSpotBookSync()
    for first, last in [(90, 95), (96, 101), (102, 104), (105, 105)]:
        assert sync.on_delta(delta(first, last)) is Action.BUFFER
    assert sync.on_snapshot(snapshot(98)) is Action.SYNCED
    assert seqs(sync.take()) == [98, 101, 104, 105]  # 90..95 dropped, 96..101 bridges 99


def test_spot_stale_snapshot_is_fetched_again_and_the_buffer_kept() -> None:
    sync = BinanceSpotBookSync()
    sync.on_delta(delta(200, 205))
    assert sync.on_snapshot(snapshot(150)) is Action.STALE  # 151 < U=200: a hole
    assert "stale snapshot" in sync.reason and sync.waiting_snapshot
    assert list(sync.buffer) and sync.on_delta(delta(206, 210)) is Action.BUFFER
    assert sync.on_snapshot(snapshot(207)) is Action.SYNCED
    assert seqs(sync.take()) == [207, 210]


def test_spot_snapshot_alone_then_a_hole_is_a_stale_snapshot() -> None:
    sync = BinanceSpotBookSync()
    assert sync.on_snapshot(snapshot(100)) is Action.SYNCED
    assert sync.on_delta(delta(105, 107)) is Action.GAP
    assert sync.reason == "stale snapshot: id 100 + 1 < U=105"
    assert sync.waiting_snapshot and seqs(list(sync.buffer)) == [107]


def test_spot_gap_breaks_the_book_and_keeps_the_update_for_the_rebuild() -> None:
    sync = BinanceSpotBookSync()
    sync.on_delta(delta(10, 12))
    sync.on_snapshot(snapshot(11))
    sync.take()
    assert sync.on_delta(delta(13, 15)) is Action.APPLY
    assert sync.on_delta(delta(15, 15)) is Action.DROP  # u <= book id
    assert sync.on_delta(delta(14, 17)) is Action.APPLY  # overlap: U <= id + 1 < u is fine
    assert sync.on_delta(delta(19, 20)) is Action.GAP
    assert sync.reason == "gap: book id 17 + 1 < U=19"
    assert not sync.synced and seqs(list(sync.buffer)) == [20]
    assert sync.on_snapshot(snapshot(18)) is Action.SYNCED
    assert seqs(sync.take()) == [18, 20]


def test_spot_gap_inside_the_buffer() -> None:
    sync = BinanceSpotBookSync()
    for first, last in [(10, 12), (13, 14), (20, 22), (23, 23)]:
        sync.on_delta(delta(first, last))
    assert sync.on_snapshot(snapshot(12)) is Action.GAP
    assert "gap in the buffered stream" in sync.reason
    assert seqs(list(sync.buffer)) == [22, 23]  # what comes after the hole is kept


def test_spot_update_without_ids_is_refused() -> None:
    with pytest.raises(ValueError, match="without U/u"):
        BinanceSpotBookSync().on_delta(delta(None, 5))


# ---------------------------------------------------------------- Binance USD-M rules


def test_usdm_bridge_and_pu_chain() -> None:
    sync = BinanceUsdmBookSync()
    sync.on_delta(delta(80, 90, 70))
    sync.on_delta(delta(95, 100, 90))
    sync.on_delta(delta(103, 110, 100))
    assert sync.on_snapshot(snapshot(100)) is Action.SYNCED  # u < 100 dropped, U <= 100 <= u
    assert seqs(sync.take()) == [100, 100, 110]
    assert sync.on_delta(delta(115, 120, 110)) is Action.APPLY
    assert sync.on_delta(delta(111, 118, 105)) is Action.DROP  # old
    assert sync.on_delta(delta(125, 130, 121)) is Action.GAP  # pu 121 != 120
    assert sync.reason == "gap: pu=121 != previous u 120"


def test_usdm_stale_snapshot_and_bridge_on_the_next_update() -> None:
    sync = BinanceUsdmBookSync()
    sync.on_delta(delta(500, 510, 490))
    assert sync.on_snapshot(snapshot(450)) is Action.STALE
    sync = BinanceUsdmBookSync()
    assert sync.on_snapshot(snapshot(450)) is Action.SYNCED and sync.bridging
    assert sync.on_delta(delta(400, 440, 390)) is Action.DROP
    assert sync.on_delta(delta(445, 460, 440)) is Action.APPLY  # U <= 450 <= u, pu unchecked
    assert sync.on_delta(delta(461, 470, 460)) is Action.APPLY and not sync.bridging
    sync = BinanceUsdmBookSync()
    sync.on_snapshot(snapshot(450))
    assert sync.on_delta(delta(455, 460, 440)) is Action.GAP
    assert sync.reason == "stale snapshot: lastUpdateId 450 < U=455"


def test_usdm_gap_inside_the_buffer() -> None:
    sync = BinanceUsdmBookSync()
    for first, last, prev in [(10, 20, 5), (21, 30, 20), (35, 40, 33)]:
        sync.on_delta(delta(first, last, prev))
    assert sync.on_snapshot(snapshot(15)) is Action.GAP
    assert seqs(list(sync.buffer)) == [40]


# ---------------------------------------------------------------- Bybit rules


def test_bybit_snapshot_deltas_gap_and_resubscribe() -> None:
    sync = BybitBookSync()
    assert sync.on_delta(delta(None, 7)) is Action.DROP  # no snapshot yet
    assert sync.on_snapshot(snapshot(10)) is Action.SYNCED
    assert seqs(sync.take()) == [10]
    assert sync.on_delta(delta(None, 11)) is Action.APPLY
    assert sync.on_delta(delta(None, 11)) is Action.DROP  # duplicate
    assert sync.on_delta(delta(None, 13)) is Action.GAP
    assert sync.reason == "gap: u=13 != previous u 11 + 1"
    assert sync.on_delta(delta(None, 14)) is Action.DROP  # until the new snapshot
    assert sync.on_snapshot(snapshot(50)) is Action.SYNCED
    assert sync.on_delta(delta(None, 51)) is Action.APPLY


def test_bybit_snapshot_at_any_time_resets_the_book() -> None:
    sync = BybitBookSync()
    sync.on_snapshot(snapshot(1000))
    sync.on_delta(delta(None, 1001))
    assert sync.on_snapshot(snapshot(1)) is Action.SYNCED  # u == 1: service restart
    assert sync.sequence == 1
    assert sync.on_delta(delta(None, 2)) is Action.APPLY


def test_reset_forgets_everything() -> None:
    sync = BinanceSpotBookSync()
    sync.on_delta(delta(1, 2))
    sync.reset("reconnect")
    assert (sync.synced, list(sync.buffer), sync.reason) == (False, [], "reconnect")


def test_coinbase_l2_chain_is_set_by_the_machine() -> None:
    """Coinbase: snapshot, then any later update applies (the connector checked the connection's
    counter); its first_sequence becomes the book's sequence + 1; older ones are dropped."""
    from ttxt_kafka.connectors.coinbase.book_sync import CoinbaseL2Sync
    from ttxt_kafka.events import OrderBook, UpdateType

    def ob(kind: UpdateType, seq: int) -> OrderBook:
        return OrderBook(venue="coinbase_spot", symbol="BTC/USD", exchange_ts=0, receive_ts=0,
                         sequence=seq, update_type=kind)

    sync = CoinbaseL2Sync()
    assert sync.on_delta(ob(UpdateType.DELTA, 3)) is Action.DROP  # before a snapshot
    assert sync.on_snapshot(ob(UpdateType.SNAPSHOT, 13)) is Action.SYNCED
    delta = ob(UpdateType.DELTA, 17)  # 14..16 were other channels of the connection
    assert sync.on_delta(delta) is Action.APPLY and delta.first_sequence == 14
    assert sync.on_delta(ob(UpdateType.DELTA, 15)) is Action.DROP  # out of order
    assert sync.on_delta(ob(UpdateType.DELTA, 18)) is Action.APPLY and sync.sequence == 18
