"""The recorder against a real broker: 100k events round trip, garbage, clean stop, repair."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from recorder_helpers import (
    REPO,
    consume_all,
    ensure_history_topics,
    fresh_prefix,
    market_records,
    produce,
    read_with_fastavro,
    ttxt,
)

from ttxt_kafka.admin import cluster_metadata
from ttxt_kafka.archive.files import list_files
from ttxt_kafka.archive.index import load_index
from ttxt_kafka.archive.naming import index_path
from ttxt_kafka.archive.ocf import DEFAULT_CODEC, encode_block
from ttxt_kafka.codec import decode
from ttxt_kafka.replayer import Decoder, FileSource, replay_events
from ttxt_kafka.replayer.selection import venue_channel
from ttxt_kafka.topics import replay_topic

pytestmark = pytest.mark.kafka


async def record_until_end(bootstrap: str, out: Path, prefix: str, *extra: str
                           ) -> subprocess.CompletedProcess[str]:
    result = await asyncio.to_thread(
        ttxt, "-v", "record", "--out", str(out), "--bootstrap", bootstrap, "--prefix", prefix,
        "--group", f"{prefix}-rec", "--until-end", *extra)
    assert result.returncode == 0, result.stderr
    return result


async def test_100k_events_recorded_then_replayed_to_topics_byte_identical(
    kafka_bootstrap: str, tmp_path: Path,
) -> None:
    prefix = fresh_prefix()
    recs = market_records(prefix, 100_000)  # 3 venues x 3 tickers x (book, trades, bbo)
    placed = await produce(kafka_bootstrap, recs)
    out = tmp_path / "rec"
    result = await record_until_end(kafka_bootstrap, out, prefix)
    assert "100,000 records read, 100,000 written" in result.stderr

    # A standard Avro reader reads every file; every record is there once, bytes unchanged.
    stored = {(r["topic"], r["partition"], r["offset"]): r for _, r in read_with_fastavro(out)}
    assert len(stored) == len(recs)
    for rec, where in zip(recs, placed, strict=True):
        s = stored[where]
        assert (s["value"], s["key"], s["timestamp"], s["ts"]) == (
            rec.value, rec.key, rec.timestamp_ms, rec.ts_us)
        assert [(h["key"], h["value"]) for h in s["headers"]] == list(rec.headers)
    assert len(list_files(out)) == 9  # one stream per venue x ticker

    # Merged by exchange time from the files: exactly the order of production.
    assert [r["value"] for r in FileSource(out)] == [r.value for r in recs]

    # To replay topics, then consumed: same keys, timestamps, headers, values, per ticker.
    run = "t100k"
    replay = await asyncio.to_thread(ttxt, "replay", "--files", str(out), "--bootstrap",
                                     kafka_bootstrap, "--to-prefix", prefix, "--run-id", run)
    assert replay.returncode == 0, replay.stderr
    assert "ttxt replay: 100,000 records to " in replay.stderr
    assert "ttxt replay: 100,000 records in " in replay.stderr and ": all sent" in replay.stderr
    assert "replay: 100,000 / 100,000 events (100.0%)" in replay.stderr  # the progress line
    topics = sorted({replay_topic(run, *venue_channel(r.topic), prefix) for r in recs})
    got = await consume_all(kafka_bootstrap, topics, len(recs))
    assert len(got) == len(recs)
    per_ticker: dict[tuple[str, bytes], list[tuple[bytes, int, list[tuple[str, bytes]]]]]
    per_ticker = defaultdict(list)
    for r in got:
        venue, channel = venue_channel(r.topic)  # type: ignore[attr-defined]
        per_ticker[(f"{venue}.{channel}", r.key)].append(  # type: ignore[attr-defined]
            (r.value, r.timestamp, list(r.headers)))  # type: ignore[attr-defined]
    expected: dict[tuple[str, bytes], list[tuple[bytes, int, list[tuple[str, bytes]]]]]
    expected = defaultdict(list)
    for rec in recs:
        venue, channel = venue_channel(rec.topic)
        expected[(f"{venue}.{channel}", rec.key)].append(
            (rec.value, rec.timestamp_ms, list(rec.headers)))
    assert per_ticker == expected


async def test_garbage_on_a_topic_is_archived_raw_counted_and_skipped_by_typed_replay(
    kafka_bootstrap: str, tmp_path: Path,
) -> None:
    prefix = fresh_prefix()
    good = market_records(prefix, 30, venues=["binance"], symbols=["BTC/USDT"])
    book = good[0].topic
    # The last one: a real event cut short, its fingerprint and header intact (issue 19: it was
    # filed as an OrderBook with its own, stale, exchange time).
    cut = next(r.value for r in good if r.topic == book)[:-3]
    garbage = [(b"BTC/USDT", b"not avro"), (None, b'{"json": 1}'), (b"\xff\xfe", b"\xc3\x01"),
               (b"BTC/USDT", None), (b"BTC/USDT", cut)]
    await ensure_history_topics(kafka_bootstrap, {r.topic for r in good}, partitions=1)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        bad = iter(garbage)
        for rec in good:
            await producer.send_and_wait(rec.topic, rec.value, key=rec.key,
                                         timestamp_ms=rec.timestamp_ms)
            if rec.topic == book and (g := next(bad, None)) is not None:
                await producer.send_and_wait(book, g[1], key=g[0],
                                             timestamp_ms=1_700_000_000_000)
    finally:
        await producer.stop()
    out = tmp_path / "rec"
    result = await record_until_end(kafka_bootstrap, out, prefix)
    assert f"{len(good) + len(garbage)} written" in result.stderr
    assert f"{len(garbage)} not ttxt events, stored raw" in result.stderr
    names = {p.name.rsplit("_", 1)[0] for p in list_files(out)}
    assert names == {"BINANCE_BTC_USDT", "BINANCE_UNKNOWN"}  # no key / non-UTF-8 key
    raw = [r for _, r in read_with_fastavro(out) if r["type"] == ""]
    assert Counter((r["key"], r["value"]) for r in raw) == Counter(garbage)
    assert all(r["ts"] == r["timestamp"] * 1000 for r in raw)

    decoder = Decoder()
    events = [e async for e in replay_events(out, decoder=decoder)]
    assert events == [decode(r.value) for r in good]
    assert decoder.undecodable == len(garbage)


async def test_sigterm_stops_cleanly_with_everything_written_and_committed(
    kafka_bootstrap: str, tmp_path: Path,
) -> None:
    prefix = fresh_prefix()
    recs = market_records(prefix, 3000, venues=["binance"])
    topics = sorted({r.topic for r in recs})
    await ensure_history_topics(kafka_bootstrap, topics)
    out = tmp_path / "rec"
    group = f"{prefix}-rec"
    proc = subprocess.Popen(
        [sys.executable, "-m", "recorder", "--out", str(out), "--bootstrap", kafka_bootstrap,
         "--prefix", prefix, "--group", group, "--status-interval", "0.2",
         "--max-delay", "60", "--block-size", "100000"],  # nothing is written before the stop
        cwd=REPO, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    try:
        placed = await produce(kafka_bootstrap, recs)
        await asyncio.to_thread(_read_until, proc, "consumed 3,000,", lines)
        assert not list_files(out)
        proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.to_thread(proc.communicate, timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, "".join(lines) + err
    assert "3,000 records read, 3,000 written" in err
    assert Counter((r["topic"], r["partition"], r["offset"])
                   for _, r in read_with_fastavro(out)) == Counter(placed)
    ends: dict[tuple[str, int], int] = {}
    for topic, partition, offset in placed:
        ends[(topic, partition)] = max(ends.get((topic, partition), 0), offset + 1)
    assert await _committed(kafka_bootstrap, group, topics) == ends


async def test_a_torn_last_block_is_repaired_on_restart_and_nothing_is_doubled(
    kafka_bootstrap: str, tmp_path: Path,
) -> None:
    prefix = fresh_prefix()
    first = market_records(prefix, 2000, venues=["binance"], symbols=["BTC/USDT"])
    placed = await produce(kafka_bootstrap, first)
    out = tmp_path / "rec"
    await record_until_end(kafka_bootstrap, out, prefix, "--block-size", "100")
    path = list_files(out)[-1]
    size = path.stat().st_size
    block = encode_block([{"ts": 0, "type": "", "topic": "x", "partition": 0, "offset": 0,
                           "timestamp": 0, "key": None, "headers": [], "value": b"z" * 500}],
                         DEFAULT_CODEC)
    with path.open("ab") as fo:  # the recorder died in the middle of writing a block
        fo.write(block[:-3])
    with index_path(path).open("a") as fo:  # ... after its index line even
        fo.write(load_index(index_path(path))[-1].line())

    second = market_records(prefix, 1000, venues=["binance"], symbols=["BTC/USDT"],
                            t0=first[-1].ts_us + 1000)
    placed += await produce(kafka_bootstrap, second)
    result = await record_until_end(kafka_bootstrap, out, prefix, "--block-size", "100")
    assert "cutting a torn last block" in result.stderr
    assert path.stat().st_size > size  # cut, then continued
    found = Counter((r["topic"], r["partition"], r["offset"]) for _, r in read_with_fastavro(out))
    assert found == Counter(placed)
    assert [r["value"] for r in FileSource(out)] == [r.value for r in first + second]


async def test_until_end_with_no_matching_topic_exits_at_once(
    kafka_bootstrap: str, tmp_path: Path,
) -> None:
    result = await record_until_end(kafka_bootstrap, tmp_path / "rec", fresh_prefix())
    assert "0 records read, 0 written" in result.stderr


# ---------------------------------------------------------------- helpers


async def _committed(bootstrap: str, group: str, topics: list[str]) -> dict[tuple[str, int], int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group,
                                enable_auto_commit=False)
    await consumer.start()
    try:
        metadata = await cluster_metadata(consumer)
        out = {}
        for t in topics:
            for p in metadata.partitions_for_topic(t) or ():
                off = await consumer.committed(TopicPartition(t, p))
                if off is not None and off > 0:
                    out[(t, p)] = off
        return out
    finally:
        await consumer.stop()


def _read_until(proc: subprocess.Popen[str], text: str, lines: list[str]) -> None:
    assert proc.stderr is not None
    for line in proc.stderr:
        lines.append(line)
        if text in line:
            return
    raise AssertionError(f"recorder ended before saying {text!r}: {''.join(lines)}")


async def test_default_group_is_per_output_folder_and_the_start_is_announced(
    kafka_bootstrap: str, tmp_path: Path,
) -> None:
    prefix = fresh_prefix()
    recs = market_records(prefix, 300, venues=["binance"], symbols=["BTC/USDT"])
    await produce(kafka_bootstrap, recs, partitions=1)

    async def record(out: Path) -> str:
        result = await asyncio.to_thread(
            ttxt, "record", "--out", str(out), "--bootstrap", kafka_bootstrap, "--prefix",
            prefix, "--until-end")  # no --group: the default
        assert result.returncode == 0, result.stderr
        return result.stderr

    first = await record(tmp_path / "a")
    assert "300 records read, 300 written" in first
    assert "new, starts at the earliest retained records" in first
    assert f"{prefix}.binance.book[0]: from offset 0 (earliest; 100 record(s) to the end" in first
    assert "first record at offset 0" in first
    # A new folder gets the whole retained history (with one shared group it got nothing).
    second = await record(tmp_path / "b")
    assert "300 records read, 300 written" in second
    assert sum(1 for r in FileSource(tmp_path / "b")) == 300
    # The same folder again: its own group resumes where it stopped.
    again = await record(tmp_path / "a")
    assert "resumes at its committed offsets" in again and "0 record(s) to the end" in again


async def test_two_recorders_in_one_group_split_the_partitions_exactly_once(
    kafka_bootstrap: str, tmp_path: Path,
) -> None:
    """Scale-out (issue 18): two recorders in one consumer group, each with its own directory
    (one writer per directory), over 6-partition topics. Kafka splits the partitions between
    them; together the two directories hold every record exactly once, and each stops with
    `drain` once everything is recorded. (In one process here, so that both are members before
    the records arrive; `bench_recorder.py` runs them as processes.)"""
    from ttxt_kafka.recorder.service import Recorder, RecorderConfig

    prefix = fresh_prefix()
    records = market_records(prefix, 30_000, venues=["binance"],
                             symbols=[f"C{i}/USDT" for i in range(24)])
    topics = sorted({r.topic for r in records})
    await ensure_history_topics(kafka_bootstrap, topics, partitions=6)
    recorders = [Recorder(RecorderConfig(out_dir=tmp_path / name, bootstrap=kafka_bootstrap,
                                         prefix=prefix, group_id=f"{prefix}-rec",
                                         instance_id=name, metadata_refresh=1.0))
                 for name in ("a", "b")]
    runs = [asyncio.create_task(r.run()) for r in recorders]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 60
    while True:  # both members, the 18 partitions split between them
        owned = [r.consumer.assignment() if r.consumer else set() for r in recorders]
        if all(owned) and len(owned[0] | owned[1]) == 18 and not owned[0] & owned[1]:
            break
        assert loop.time() < deadline, owned
        await asyncio.sleep(0.2)
    metas = await produce(kafka_bootstrap, records, partitions=6)
    for r in recorders:
        assert await r.drain(timeout=60)
    await asyncio.gather(*runs)
    found: Counter[tuple[object, object, object]] = Counter()
    per_dir = []
    for name in ("a", "b"):
        stored = [(r["topic"], r["partition"], r["offset"])
                  for _, r in read_with_fastavro(tmp_path / name)]
        per_dir.append(len(stored))
        found.update(stored)
    assert found == Counter(metas)  # every record, once
    assert all(n > 5000 for n in per_dir), per_dir  # both did their share
