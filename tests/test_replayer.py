"""The replayer: time ranges, merging, topic rewind, in-process sinks, pacing, corrupt blocks."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from recorder_helpers import (
    T0,
    consume_all,
    fresh_prefix,
    market_records,
    produce,
    ttxt,
)

from ttxt_kafka.archive.files import list_files
from ttxt_kafka.archive.index import load_index, write_index
from ttxt_kafka.archive.naming import index_path
from ttxt_kafka.bus import AsyncioQueue
from ttxt_kafka.codec import decode
from ttxt_kafka.replayer import (
    FileSource,
    KafkaSource,
    Selection,
    replay_events,
    replay_to_queue,
    run_replay,
)
from ttxt_kafka.replayer.sinks import KafkaSink
from ttxt_kafka.topics import replay_topic

pytestmark = pytest.mark.kafka


@pytest.fixture(scope="module")
def recorded(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
             ) -> tuple[str, Path, list]:
    """6,000 records over 2 venues x 3 tickers x 3 channels, 1 ms apart, recorded in blocks
    of 40 (so a time range cuts some blocks and skips others)."""
    prefix = fresh_prefix()
    recs = market_records(prefix, 6000, venues=["binance", "bybit_linear"])
    asyncio.run(produce(kafka_bootstrap, recs))
    out = tmp_path_factory.mktemp("replayer") / "rec"
    result = ttxt("record", "--out", str(out), "--bootstrap", kafka_bootstrap, "--prefix",
                  prefix, "--group", f"{prefix}-rec", "--until-end", "--block-size", "40")
    assert result.returncode == 0, result.stderr
    return prefix, out, recs


def test_a_time_range_replays_exactly_the_events_in_it(recorded: tuple[str, Path, list]) -> None:
    _, out, recs = recorded
    since, until = T0 + 1234 * 1000, T0 + 4321 * 1000 + 1  # [1234 ms, 4321 ms]
    source = FileSource(out, Selection.of(since=since, until=until))
    got = [r["value"] for r in source]
    assert got == [r.value for r in recs if since <= r.ts_us < until]
    assert source.stats.blocks < len(recs) // 40  # blocks outside the range were not read


def test_filters_by_venue_symbol_and_channel(recorded: tuple[str, Path, list]) -> None:
    _, out, recs = recorded
    sel = Selection.of(venues=["bybit_linear"], symbols=["ETH/USDT", "SOL/USDT"],
                       channels=["book", "bbo"])
    got = [r["value"] for r in FileSource(out, sel)]
    want = [r.value for r in recs if r.topic.split(".")[1] == "bybit_linear"
            and r.key in (b"ETH/USDT", b"SOL/USDT") and r.topic.endswith((".book", ".bbo"))]
    assert got == want and len(want) == 6000 // 18 * 4


def test_equal_exchange_times_merge_stably(tmp_path: Path) -> None:
    from test_recorder_format import write

    # Two partitions, every record at one of three times: time order, then input order
    # (stream, topic, partition), and each partition's own order kept.
    a = [{**_rec(i, "ttxt.binance.book", 0), "ts": T0 + i // 4} for i in range(12)]
    b = [{**_rec(i, "ttxt.binance.trades", 0), "ts": T0 + i // 4} for i in range(12)]
    write(tmp_path, [a[:6], b[:6], a[6:], b[6:]])
    got = [(r["topic"].rsplit(".", 1)[1], r["offset"]) for r in FileSource(tmp_path)]
    want = sorted([("book", i) for i in range(12)] + [("trades", i) for i in range(12)],
                  key=lambda x: (x[1] // 4, x[0]))
    assert got == want


async def test_typed_events_in_process_and_into_any_queue(
    recorded: tuple[str, Path, list],
) -> None:
    _, out, recs = recorded
    expected = [decode(r.value) for r in recs if r.key == b"BTC/USDT"]
    events = [e async for e in replay_events(out, symbols=["BTC/USDT"])]
    assert events == expected

    queue = AsyncioQueue(capacity=100)  # small: the replay waits for the consumer
    got = []

    async def drain() -> None:
        while len(got) < len(expected):
            got.append(await queue.poll())
            queue.task_done()

    consumer = asyncio.create_task(drain())
    stats = await replay_to_queue(queue, FileSource(out, Selection.of(symbols=["BTC/USDT"])))
    await asyncio.wait_for(consumer, 10)
    assert got == expected and stats.records == len(expected)


async def test_real_time_pacing_follows_exchange_time(recorded: tuple[str, Path, list]) -> None:
    _, out, recs = recorded
    # 400 ms of exchange time at 4x: about 100 ms.
    t0 = time.perf_counter()
    n = [e async for e in replay_events(out, since=T0, until=T0 + 400_000, speed=4.0)]
    elapsed = time.perf_counter() - t0
    assert len(n) == 400
    assert 0.09 <= elapsed < 2.0


async def test_replay_to_topics_preserves_partitions_keys_and_bytes(
    kafka_bootstrap: str, recorded: tuple[str, Path, list],
) -> None:
    prefix, out, recs = recorded
    source = FileSource(out, Selection.of(channels=["trades"]))
    sink = KafkaSink(kafka_bootstrap, "parts", prefix)
    topics = await sink.start(source.source_partitions())
    stats = await run_replay(source, sink)
    want = [r for r in recs if r.topic.endswith(".trades")]
    assert stats.records == len(want) and sink.errors == 0
    got = await consume_all(kafka_bootstrap, topics, len(want))
    placed = {r.value: r for r in recs}
    assert sorted(g.value for g in got) == sorted(r.value for r in want)  # type: ignore[attr-defined]
    for g in got:
        rec = placed[g.value]  # type: ignore[attr-defined]
        assert g.topic == replay_topic("parts", rec.topic.split(".")[1], "trades", prefix)  # type: ignore[attr-defined]
        assert (g.key, g.timestamp, list(g.headers)) == (  # type: ignore[attr-defined]
            rec.key, rec.timestamp_ms, list(rec.headers))


async def test_topic_rewind_returns_exactly_the_events_from_the_timestamp_on(
    kafka_bootstrap: str, recorded: tuple[str, Path, list],
) -> None:
    prefix, _, recs = recorded
    live = rf"^{prefix}\.[a-z_]+\.(book|trades|bbo)$"  # not the replay topics of other tests
    since = T0 + 2500 * 1000
    source = KafkaSource(kafka_bootstrap, live, since)
    await source.open()
    try:
        got = [r async for r in source.records()]
    finally:
        await source.close()
    assert [r["value"] for r in got] == [r.value for r in recs if r.ts_us >= since]

    until = T0 + 2600 * 1000
    eth = Selection.of(symbols=["ETH/USDT"], until=until)
    source = KafkaSource(kafka_bootstrap, live, since, eth)
    await source.open()
    try:
        got = [r async for r in source.records()]
    finally:
        await source.close()
    assert [r["value"] for r in got] == [
        r.value for r in recs if since <= r.ts_us < until and r.key == b"ETH/USDT"]

    cli = ttxt("replay", "--topics", live, "--venue", "binance", "--since", str(since // 1000),
               "--until", str(until // 1000), "--print", "--bootstrap", kafka_bootstrap,
               "--no-progress")
    assert cli.returncode == 0, cli.stderr
    assert len(cli.stdout.splitlines()) == len(
        [r for r in recs if since <= r.ts_us < until and ".binance." in r.topic])


def test_cli_corrupt_block_stops_with_file_and_byte_or_is_skipped(
    recorded: tuple[str, Path, list], tmp_path: Path,
) -> None:
    _, out, recs = recorded
    copy = tmp_path / "copy"
    copy.mkdir()
    for p in out.iterdir():
        (copy / p.name).write_bytes(p.read_bytes())
    path = list_files(copy)[0]
    entry = load_index(index_path(path))[3]
    data = bytearray(path.read_bytes())
    data[entry.pos + 20] ^= 0xFF  # inside the compressed records
    path.write_bytes(bytes(data))

    stopped = ttxt("replay", "--files", str(copy), "--print", "--no-progress")
    assert stopped.returncode == 2
    assert f"{path}: corrupt block at byte {entry.pos}" in stopped.stderr
    skipped = ttxt("replay", "--files", str(copy), "--print", "--no-progress",
                   "--skip-corrupt")
    assert skipped.returncode == 0, skipped.stderr
    assert "1 corrupt block(s) skipped" in skipped.stderr
    assert len(skipped.stdout.splitlines()) == len(recs) - entry.count

    # The listing checks the index against the file (it agrees: the damage is inside a
    # block); --verify reads every block, finds it and fails.
    listing = ttxt("files", str(copy))
    assert listing.returncode == 0 and f"{len(recs):,} events" in listing.stdout
    assert "--verify reads every block" in listing.stdout
    verified = ttxt("files", str(copy), "--verify")
    assert verified.returncode == 1, verified.stdout
    assert f"DAMAGED at byte {entry.pos}: corrupt block" in verified.stdout
    assert f"1 damaged file(s): {path.name}" in verified.stderr


def test_cli_files_says_when_an_index_is_stale(
    recorded: tuple[str, Path, list], tmp_path: Path,
) -> None:
    _, out, _ = recorded
    copy = tmp_path / "copy"
    copy.mkdir()
    for p in out.iterdir():
        (copy / p.name).write_bytes(p.read_bytes())
    path = list_files(copy)[0]
    entries = load_index(index_path(path))
    write_index(index_path(path), entries[:-2])  # the file has two blocks more than its index
    listing = ttxt("files", str(copy))
    assert listing.returncode == 0, listing.stderr
    assert f"index stale: it covers {len(entries) - 2} block(s)" in listing.stdout
    assert ttxt("files", str(copy), "--verify").returncode == 0


def _rec(offset: int, topic: str, partition: int) -> dict:
    return {"ts": T0, "type": "OrderBook", "topic": topic, "partition": partition,
            "offset": offset, "timestamp": T0 // 1000, "key": b"BTC/USDT", "headers": [],
            "value": b"%s-%d" % (topic.encode(), offset)}


def test_replay_totals_are_the_events_replayed(recorded: tuple[str, Path, list]) -> None:
    _, out, recs = recorded
    since, until = T0 + 1234 * 1000, T0 + 4321 * 1000 + 1  # cuts blocks at both ends
    want = [r for r in recs if since <= r.ts_us < until and r.key == b"ETH/USDT"]
    source = FileSource(out, Selection.of(symbols=["ETH/USDT"], since=since, until=until))
    assert source.total == len(want)  # counted, not the blocks' upper bound
    result = ttxt("replay", "--files", str(out), "--print", "--symbol", "ETH/USDT",
                  "--since", str(since), "--until", str(until))
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == len(want)
    assert f"ttxt replay: {len(want):,} records to stdout" in result.stderr
    assert f"ttxt replay: {len(want):,} records in " in result.stderr  # and all sent
    assert f"replay: {len(want):,} / {len(want):,} events (100.0%)" in result.stderr


def test_replay_that_matches_nothing_says_what_there_is_and_fails(
    recorded: tuple[str, Path, list], tmp_path: Path,
) -> None:
    _, out, recs = recorded
    outside = ttxt("replay", "--files", str(out), "--print", "--since", "2024-01-01",
                   "--until", "2024-01-02")
    assert outside.returncode == 1, outside.stderr
    assert "nothing matched" in outside.stderr and f"{len(recs):,} events from" in outside.stderr
    assert outside.stdout == ""
    empty = ttxt("replay", "--files", str(tmp_path), "--print")
    assert empty.returncode == 1
    assert "no recorded data in" in empty.stderr
