"""Drive ttxt-kafka's recorder and replayer for `bench_recorder.py`.

Input: the benchmark's 10-level book deltas as `OrderBook` events (exact decimal strings),
encoded once, untimed, to what the connectors put on the book topic — single-object Avro values
keyed by symbol, with the `ttxt-type` header and the exchange time as timestamp.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import ConsumerRecord

from benchmarks.data import BookData
from ttxt_kafka.admin import ensure_topics
from ttxt_kafka.archive.ocf import DEFAULT_CODEC, FileRecord
from ttxt_kafka.bus import AsyncioQueue
from ttxt_kafka.bus.kafka_queue import producer_defaults
from ttxt_kafka.codec import decode, encode
from ttxt_kafka.events import OrderBook, UpdateType
from ttxt_kafka.recorder.buffers import FlushPolicy
from ttxt_kafka.recorder.compactor import Compactor
from ttxt_kafka.recorder.rotation import RotatePolicy
from ttxt_kafka.recorder.service import FETCH_MAX_RECORDS, Recorder, RecorderConfig
from ttxt_kafka.recorder.writer import ArchiveWriter
from ttxt_kafka.replayer import FileSource, run_replay
from ttxt_kafka.replayer.api import replay_events, replay_to_queue
from ttxt_kafka.replayer.sinks import REPLAY_TOPIC_CONFIGS, KafkaSink
from ttxt_kafka.topics import TYPE_HEADER

SYMBOL = "BTC/USDT"
FETCH_BATCH = 10_000  # records per ingest call in the file-stage case


@dataclass
class Input:
    prefix: str
    topic: str
    values: list[bytes]
    timestamps_ms: list[int]
    consumer_records: list[ConsumerRecord[bytes, bytes]]


def prepare(data: BookData) -> Input:
    """Untimed: events -> encoded values -> the ConsumerRecords a fetch would return."""
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    topic = f"{prefix}.binance.book"
    n = len(data.deltas)
    t0 = time.time_ns() // 1000 - n * 1000  # recent exchange times, 1 ms apart
    values, stamps = [], []
    for i, d in enumerate(data.deltas):
        ts = t0 + i * 1000
        values.append(encode(OrderBook(
            venue="binance", symbol=SYMBOL, native_symbol="BTCUSDT", exchange_ts=ts,
            receive_ts=ts + 700, sequence=i, update_type=UpdateType.DELTA,
            bids=[list(level) for level in d.bids], asks=[list(level) for level in d.asks])))
        stamps.append(ts // 1000)
    headers = ((TYPE_HEADER, b"OrderBook"),)
    records = [ConsumerRecord(topic, 0, i, stamps[i], 0, SYMBOL.encode(), v, None, 8, len(v),
                              headers) for i, v in enumerate(values)]
    return Input(prefix, topic, values, stamps, records)


def fresh_dir(root: Path, name: str) -> Path:
    path = root / name
    shutil.rmtree(path, ignore_errors=True)
    return path


# ---------------------------------------------------------------- recording


def record_files(inp: Input, out: Path, codec: str = DEFAULT_CODEC) -> None:
    """The file-writing stage alone: fetched records -> durable files (what the recorder does
    with each `getmany` batch: route, buffer, write the full blocks, fsync)."""
    core = Compactor(ArchiveWriter(out, codec, RotatePolicy.parse("none")), FlushPolicy())
    core.open()
    try:
        tp = TopicPartition(inp.topic, 0)
        records = inp.consumer_records
        now = time.monotonic()
        for i in range(0, len(records), FETCH_BATCH):
            core.ingest(tp, records[i:i + FETCH_BATCH], now)
            core.write_ready(now=now)
        core.write_ready(everything=True)
    finally:
        core.close()


async def fill_topic(bootstrap: str, inp: Input) -> None:
    """Untimed: put the records on the book topic once (one partition: one ticker)."""
    await ensure_topics(bootstrap, [inp.topic], partitions=1, configs=REPLAY_TOPIC_CONFIGS)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **producer_defaults())
    await producer.start()
    try:
        for r in inp.consumer_records:
            await producer.send(inp.topic, r.value, key=r.key, headers=list(r.headers),
                                timestamp_ms=r.timestamp)
        await producer.flush()
    finally:
        await producer.stop()


async def record_from_kafka(bootstrap: str, inp: Input, out: Path) -> int:
    """End to end: `ttxt record --until-end` in-process, topic -> durable files, committed."""
    run = uuid.uuid4().hex[:8]
    config = RecorderConfig(out_dir=out, bootstrap=bootstrap, topics=f"^{re.escape(inp.topic)}$",
                            group_id=f"{inp.prefix}-{run}", instance_id=run, until_end=True)
    stats = await Recorder(config).run()
    return stats.written


def file_bytes(out: Path) -> tuple[int, int]:
    """(bytes of the .avro files, bytes of their .idx indexes)."""
    return (sum(p.stat().st_size for p in out.glob("*.avro")),
            sum(p.stat().st_size for p in out.glob("*.idx")))


# ---------------------------------------------------------------- replaying


def replay_raw(out: Path) -> int:
    """Records as they were on Kafka (FileRecord dicts), synchronously."""
    n = 0
    for _ in FileSource(out):
        n += 1
    return n


async def replay_typed_iterator(out: Path) -> int:
    n = 0
    async for _ in replay_events(out):
        n += 1
    return n


async def replay_typed_queue(out: Path, capacity: int = 256) -> int:
    """Typed events into an AsyncioQueue drained by a consumer task (the seed's shape)."""
    queue = AsyncioQueue(capacity=capacity)
    got = 0

    async def drain() -> None:
        nonlocal got
        while True:
            await queue.poll()
            got += 1
            queue.task_done()

    consumer = asyncio.create_task(drain())
    await replay_to_queue(queue, FileSource(out))
    consumer.cancel()
    return got


def stored_records(out: Path) -> list[FileRecord]:
    return list(FileSource(out))


async def bare_producer(bootstrap: str, records: list[FileRecord], topic: str) -> None:
    """The baseline: the same records with a bare aiokafka producer (platform settings)."""
    await ensure_topics(bootstrap, [topic], partitions=1, configs=REPLAY_TOPIC_CONFIGS)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **producer_defaults())
    await producer.start()
    try:
        t0 = time.perf_counter()
        for r in records:
            await producer.send(topic, r["value"], key=r["key"], partition=0,
                                timestamp_ms=r["timestamp"],
                                headers=[(h["key"], h["value"]) for h in r["headers"]])
        await producer.flush()
        _timed.append(time.perf_counter() - t0)
    finally:
        await producer.stop()


async def bare_batches(bootstrap: str, records: list[FileRecord], topic: str) -> None:
    """The other baseline: aiokafka's batch API (`create_batch` / `append` / `send_batch`),
    what our replay sink uses, for the same records."""
    await ensure_topics(bootstrap, [topic], partitions=1, configs=REPLAY_TOPIC_CONFIGS)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **producer_defaults())
    await producer.start()
    try:
        t0 = time.perf_counter()
        batch = producer.create_batch()
        for r in records:
            headers = [(h["key"], h["value"]) for h in r["headers"]]
            if batch.append(timestamp=r["timestamp"], key=r["key"], value=r["value"],
                            headers=headers) is None:
                await producer.send_batch(batch, topic, partition=0)
                batch = producer.create_batch()
                batch.append(timestamp=r["timestamp"], key=r["key"], value=r["value"],
                             headers=headers)
        await producer.send_batch(batch, topic, partition=0)
        await producer.flush()
        _timed.append(time.perf_counter() - t0)
    finally:
        await producer.stop()


async def replay_to_kafka(bootstrap: str, out: Path, prefix: str) -> None:
    t0 = time.perf_counter()
    source = FileSource(out)
    t1 = time.perf_counter()
    sink = KafkaSink(bootstrap, uuid.uuid4().hex[:8], prefix)
    await sink.start(source.source_partitions())  # topic creation + producer start: untimed
    t2 = time.perf_counter()
    await run_replay(source, sink)
    _timed.append(t1 - t0 + time.perf_counter() - t2)
    assert sink.errors == 0 and sink.sent == source.total


# Kafka cases time themselves (topic creation and producer start-up are not part of what is
# compared); the benchmark reads the last entry.
_timed: list[float] = []


def last_timed() -> float:
    return _timed[-1]


# ---------------------------------------------------------------- issue 18: the limits


async def bare_consume(bootstrap: str, inp: Input, n: int) -> int:
    """The limit of one process: a bare aiokafka consumer in a new group over the same topic,
    the recorder's fetch settings, `getmany` until every record is in hand, no processing.
    Timed like `record_from_kafka`: from creating the consumer to having all records."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=f"{inp.prefix}-bare-{uuid.uuid4().hex[:8]}",
        enable_auto_commit=False, auto_offset_reset="earliest",
        max_partition_fetch_bytes=4 << 20, fetch_max_bytes=64 << 20)
    consumer.subscribe([inp.topic])
    await consumer.start()
    try:
        got = 0
        while got < n:
            for records in (await consumer.getmany(timeout_ms=200,
                                                   max_records=FETCH_MAX_RECORDS)).values():
                got += len(records)
        return got
    finally:
        await consumer.stop()


def decode_alone(values: list[bytes]) -> int:
    """The per-event decode limit: the same records' values, held in memory, to typed events."""
    n = 0
    for v in values:
        decode(v)
        n += 1
    return n


async def fill_partitioned(bootstrap: str, inp: Input, topic: str, copies: int,
                           partitions: int = 6) -> int:
    """Untimed: `copies` times the records over a `partitions`-partition topic, round-robin
    (a ticker per partition in real life; the recorder files by the value's symbol either way)."""
    await ensure_topics(bootstrap, [topic], partitions=partitions, configs=REPLAY_TOPIC_CONFIGS)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **producer_defaults())
    await producer.start()
    n = 0
    try:
        for _ in range(copies):
            for r in inp.consumer_records:
                await producer.send(topic, r.value, key=r.key, headers=list(r.headers),
                                    timestamp_ms=r.timestamp, partition=n % partitions)
                n += 1
        await producer.flush()
    finally:
        await producer.stop()
    return n


def record_processes(bootstrap: str, topic: str, outs: list[Path], group: str
                     ) -> tuple[float, float]:
    """`python -m ttxt_kafka.recorder --until-end` as one process per directory, all in one
    consumer group, started together. Returns (seconds from the last member's report of its
    assignment to the last exit, seconds from starting the processes to the last exit).

    The first is what the members do together once the group has formed — what a user who
    runs them gets, in steady state — and is the figure compared: before it, process start-up
    and the group's formation (on a broker with Kafka's default initial rebalance delay, 3 s,
    for every member count alike) say nothing about how the work scales."""
    t0 = time.perf_counter()
    procs = [subprocess.Popen(
        [sys.executable, "-m", "ttxt_kafka.recorder", "--out", str(out), "--bootstrap",
         bootstrap, "--topics", f"^{re.escape(topic)}$", "--group", group, "--instance-id",
         f"{group}-{i}", "--until-end", "--status-interval", "3600"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for i, out in enumerate(outs)]
    assigned: list[float | None] = [None] * len(procs)
    errors: list[list[bytes]] = [[] for _ in procs]

    def read(i: int) -> None:
        stream = procs[i].stderr
        assert stream is not None
        for line in stream:
            # `ttxt record: group G: new, starts at ... of N partition(s)`: said once the
            # group has assigned it its partitions (a later rebalance says it again).
            if b"ttxt record: group " in line and b"partition(s)" in line:
                assigned[i] = time.perf_counter()
            errors[i].append(line)

    readers = [threading.Thread(target=read, args=(i,), daemon=True) for i in range(len(procs))]
    for t in readers:
        t.start()
    for p in procs:
        p.wait(timeout=600)
    end = time.perf_counter()
    for t in readers:
        t.join(timeout=10)
    for p, err in zip(procs, errors, strict=True):
        if p.returncode:
            raise RuntimeError(f"recorder exited {p.returncode}: "
                               f"{b''.join(err).decode(errors='replace')[-2000:]}")
    if any(a is None for a in assigned):
        raise RuntimeError(f"a member never reported its assignment: {assigned}")
    return end - max(a for a in assigned if a is not None), end - t0


def exactly_once(outs: list[Path], topic: str, n: int, partitions: int) -> list[int]:
    """Check, from the files' block indexes, that the directories together hold offsets
    0..end-1 of every partition once each (no gap, no overlap); records per directory."""
    from ttxt_kafka.archive.files import list_files, scan_file

    ranges: dict[int, list[tuple[int, int]]] = {p: [] for p in range(partitions)}
    per_dir = []
    for out in outs:
        count = 0
        for path in list_files(out):
            info = scan_file(path)
            assert info is not None and not info.damage
            for e in info.entries:
                assert e.topic == topic
                ranges[e.partition].append((e.first_offset, e.last_offset))
                count += e.count
        per_dir.append(count)
    total = 0
    for p, rs in ranges.items():
        rs.sort()
        nxt = 0
        for first, last in rs:
            assert first == nxt, f"partition {p}: offsets from {nxt} missing or doubled"
            nxt = last + 1
        total += nxt
    assert total == n == sum(per_dir), (total, n, per_dir)
    return per_dir
