"""A replay into Kafka cancelled mid-send (Ctrl-C, a caller's timeout): every record the sink
took is counted (`sent`), and after `close()` it is either on its replay topic, once and in
order, or counted in `errors` — never dropped silently."""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from recorder_helpers import consume_all
from test_recorder_format import T0, record, write

from ttxt_kafka.admin import cluster_metadata
from ttxt_kafka.archive.ocf import FileRecord
from ttxt_kafka.replayer.sinks import KafkaSink

pytestmark = pytest.mark.kafka

# Small producer batches: a few hundred records fill several of them, so a put_many hands one
# to aiokafka and then waits for room behind it (aiokafka takes one batch per partition at a
# time), which is where the cancellation lands.
SMALL_BATCHES = {"max_batch_size": 4096, "linger_ms": 50}


def _records(topic: str, *sizes: int) -> list[FileRecord]:
    """`sizes[p]` records of partition p, in runs of one partition (as the replay merges
    them), each about 130 bytes."""
    parts = [p for p, n in enumerate(sizes) for _ in range(n)]
    return [FileRecord(ts=i, type="", topic=topic, partition=p, offset=i,
                       timestamp=1_700_000_000_000 + i, key=b"k%d" % p,
                       headers=[{"key": "n", "value": b"%d" % i}],
                       value=b"%06d" % i + b"." * 100)
            for i, p in enumerate(parts)]


async def _end_offsets(bootstrap: str, topic: str) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        parts = (await cluster_metadata(consumer)).partitions_for_topic(topic) or set()
        ends = await consumer.end_offsets([TopicPartition(topic, p) for p in parts])
        return sum(ends.values())
    finally:
        await consumer.stop()


async def _on_topic(bootstrap: str, topic: str, expected: int) -> dict[int, list[bytes]]:
    """The values on the topic per partition, in offset order; nothing more than `expected`."""
    assert await _end_offsets(bootstrap, topic) == expected
    got = await consume_all(bootstrap, [topic], expected)
    by_part: dict[int, list[bytes]] = {}
    for r in got:
        by_part.setdefault(r.partition, []).append(r.value)  # type: ignore[attr-defined]
    return by_part


def _by_partition(records: list[FileRecord]) -> dict[int, list[bytes]]:
    out: dict[int, list[bytes]] = {}
    for r in records:
        out.setdefault(r["partition"], []).append(r["value"] or b"")
    return out


async def _sink(bootstrap: str, source: str, partitions: int) -> tuple[KafkaSink, str]:
    sink = KafkaSink(bootstrap, uuid.uuid4().hex[:8], source.split(".")[0],
                     producer_options=SMALL_BATCHES)
    [target] = await sink.start({source: partitions})
    return sink, target


async def test_a_put_many_cancelled_while_aiokafka_waits_delivers_what_it_took(
    kafka_bootstrap: str,
) -> None:
    source = f"t{uuid.uuid4().hex[:10]}.binance.trades"
    sink, target = await _sink(kafka_bootstrap, source, 1)
    records = _records(source, 600)  # ~20 batches of 4 kB
    put = asyncio.ensure_future(sink.put_many(records))
    await asyncio.sleep(0)  # the first batch is aiokafka's, the second waits for room
    assert not put.done()
    put.cancel()
    with pytest.raises(asyncio.CancelledError):
        await put
    taken = sink.sent
    assert 0 < taken < len(records)  # the records before the cancellation, and no others
    await sink.close()
    assert sink.errors == 0
    assert await _on_topic(kafka_bootstrap, target, taken) == _by_partition(records[:taken])


async def test_a_flush_cancelled_while_aiokafka_waits_delivers_every_batch(
    kafka_bootstrap: str,
) -> None:
    source = f"t{uuid.uuid4().hex[:10]}.binance.book"
    sink, target = await _sink(kafka_bootstrap, source, 3)
    # Partition 0: several batches; put_many waits for room behind each of them but the
    # first, and returns with one in flight and one queued behind it (aiokafka sends one
    # batch per partition at a time), and the last one open. Partitions 1 and 2: an open
    # batch each. The flush waits for room behind partition 0's queued batch, with the open
    # batches of partitions 1 and 2 still to go.
    records = _records(source, 150, 20, 20)
    await sink.put_many(records)
    assert sink.sent == len(records)
    flush = asyncio.ensure_future(sink.flush())
    await asyncio.sleep(0)
    assert not flush.done()
    flush.cancel()
    with pytest.raises(asyncio.CancelledError):
        await flush
    await sink.close()
    assert sink.errors == 0
    assert await _on_topic(kafka_bootstrap, target, len(records)) == _by_partition(records)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
async def test_ttxt_replay_stopped_by_a_signal_says_how_far_it_got_and_delivered_it(
        kafka_bootstrap: str, tmp_path: Path, sig: signal.Signals) -> None:
    """Ctrl-C / SIGTERM in a paced `ttxt replay` into Kafka: the sink's close delivers what it
    took, the last line says how many records went (all delivered), and the replay topic holds
    exactly those; exit 130 / 143, no traceback (SIGTERM used to end it at once: -15)."""
    n = 1000
    write(tmp_path, [[record(i, ts=T0 + i * 10_000) for i in range(n)]])  # 10 s, 10 ms apart
    prefix, run_id = f"r{uuid.uuid4().hex[:10]}", "stop"
    proc = subprocess.Popen(
        [sys.executable, "-m", "ttxt_kafka.cli", "replay", "--files", str(tmp_path), "--speed",
         "1", "--to-prefix", prefix, "--run-id", run_id, "--no-progress", "--bootstrap",
         kafka_bootstrap], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        header = await asyncio.wait_for(asyncio.to_thread(proc.stderr.readline), 60)
        assert header.startswith(f"ttxt replay: {n:,} records to 1 topics"), header
        await asyncio.sleep(1.5)  # about 150 records replayed, the rest waiting for their time
        proc.send_signal(sig)
        _, err = await asyncio.to_thread(proc.communicate, timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + sig, (proc.returncode, err)
    assert "Traceback" not in err, err
    target = f"{prefix}.replay.{run_id}.binance.book"
    done = re.search(rf"^ttxt replay: stopped by {sig.name}: ([\d,]+) of {n:,} records "
                     rf"replayed to 1 topics {prefix}\.replay\.{run_id}\.\*: all ([\d,]+) "
                     r"delivered\.$", err, re.M)
    assert done is not None, err
    sent = int(done[1].replace(",", ""))
    assert 0 < sent < n and int(done[2].replace(",", "")) == sent
    got = await _on_topic(kafka_bootstrap, target, sent)
    assert got == {0: [b"v%d" % i for i in range(sent)]}
