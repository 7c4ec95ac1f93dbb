"""OKX through the whole path (simulator -> connector -> real Kafka): a checksum mismatch in
the replayed capture (one captured update's checksum changed in a copy of the capture) is
detected every time the replay reaches it, published as BOOK_RESYNC with the reason, never
published as a delta, and the book is rebuilt (resubscription; the capture has no fresh
snapshot, so the connection is redone and the replay starts over) and BOOK_SYNCED again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from connector_harness import Run, assert_no_delta_on_a_broken_book, config_for, statuses
from connector_support import fixture
from okx_support import OKX_WS

from ttxt_kafka.events import ConnectorState, OrderBook
from ttxt_kafka.simulator import CaptureSource, Simulator

pytestmark = pytest.mark.kafka

REST = ("okx/live_rest_v5_public_instruments_spot_swap_futures_option__cryptofeed_OKX.0"
        ".head5lines.txt")


def corrupted_capture(folder: Path, nth_update: int) -> tuple[Path, int]:
    """A copy of the capture with the `nth_update` BTC-USDT book update's checksum + 1."""
    lines = fixture(OKX_WS).read_text(encoding="utf-8").split("\n")
    seen = 0
    for i, line in enumerate(lines):
        head, sep, payload = line.partition(": ")
        if not sep or not payload.startswith('{"arg":{"channel":"books","instId":"BTC-USDT"}'):
            continue
        msg = json.loads(payload)
        if msg["action"] != "update":
            continue
        seen += 1
        if seen == nth_update:
            checksum = msg["data"][0]["checksum"]
            lines[i] = line.replace(f'"checksum":{checksum}', f'"checksum":{checksum + 1}')
            assert lines[i] != line
            path = folder / Path(OKX_WS).name
            path.write_text("\n".join(lines), encoding="utf-8")
            return path, checksum + 1
    raise AssertionError("no such update in the capture")


async def test_checksum_mismatch_is_detected_and_rebuilt_every_time(
        kafka_bootstrap: str, tmp_path: Path) -> None:
    capture, wrong = corrupted_capture(tmp_path, 20)
    source = CaptureSource(capture, fixture(REST), speed=25.0, discover=False)
    async with Simulator("okx_spot", source) as sim:
        run = await Run.start(config_for("okx_spot", ["BTC/USDT"], sim, resync_timeout=0.5,
                                         streams={"book": True}), kafka_bootstrap)
        try:
            await run.wait(lambda c: c.stats.checksum_mismatches >= 2 and c.stats.syncs >= 3,
                           timeout=60)
        finally:
            await run.stop()
    events = await run.read_back(kafka_bootstrap)
    stats = run.connector.stats
    resyncs = statuses(events, ConnectorState.BOOK_RESYNC, "BTC/USDT")
    mismatches = [r for r in resyncs if r.reason.startswith("checksum mismatch: exchange ")]
    assert len(mismatches) >= 2 and all(f"exchange {wrong} != book" in r.reason
                                        for r in mismatches), resyncs
    assert stats.checksum_mismatches >= 2 and stats.gaps == 0 and stats.malformed == 0
    # each mismatch is followed by a rebuild: BOOK_SYNCED after every BOOK_RESYNC
    order = [e.status for e in events if e.SCHEMA == "ConnectorStatus" and e.symbol]
    for i, status in enumerate(order):
        if status is ConnectorState.BOOK_RESYNC and i < len(order) - 1:
            assert ConnectorState.BOOK_SYNCED in order[i + 1:]
    assert stats.reconnects >= 1
    # the corrupted push never reached the topic, and every delta there continues its book
    assert not [e for e in events if isinstance(e, OrderBook) and e.checksum == wrong]
    assert_no_delta_on_a_broken_book("okx_spot", events)
