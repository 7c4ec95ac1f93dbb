"""Failover on a local 3-node cluster (`ttxt kafka start --nodes 3`, issue 20): while a connector
publishes a simulated market and a recorder records it, the leader of the BTC/USDT book
partition is SIGKILLed and restarted. Nothing the producer acknowledged is lost, nothing is
doubled, and the recorder's files hold every record of the topics exactly once (it records
through the failover, is stopped with SIGTERM, and a second run finishes the rest).
Counts are printed (`pytest -s`)."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from aiokafka.partitioner import murmur2
from connector_harness import Run, assert_no_delta_on_a_broken_book, config_for
from recorder_helpers import REPO, read_with_fastavro, ttxt

from ttxt_kafka.admin import cluster_metadata
from ttxt_kafka.codec import decode
from ttxt_kafka.connectors.runner import CHANNELS
from ttxt_kafka.local_kafka import LocalCluster
from ttxt_kafka.simulator import Simulator, SyntheticSource
from ttxt_kafka.topics import topic

pytestmark = pytest.mark.kafka

NATIVES = ["BTCUSDT", "ETHUSDT"]


async def partition_leader(bootstrap: str, name: str, partition: int) -> tuple[int, list[int]]:
    """(leader node id, in-sync replicas) of one partition (retried: a node may be down)."""
    deadline = time.monotonic() + 20
    while True:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=3000)
        try:
            await admin.start()
            [desc] = await admin.describe_topics([name])
            for p in desc["partitions"]:
                if p["partition"] == partition:
                    return p["leader"], list(p["isr"])
            raise AssertionError(f"no partition {partition} in {desc}")
        except KafkaError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.2)
        finally:
            await admin.close()


async def read_all(bootstrap: str, names: list[str]) -> list[tuple[str, int, int, bytes]]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        metadata = await cluster_metadata(consumer)
        tps = [TopicPartition(n, p) for n in names
               for p in sorted(metadata.partitions_for_topic(n) or ())]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        end = await consumer.end_offsets(tps)
        out: list[tuple[str, int, int, bytes]] = []
        remaining = {tp for tp, off in end.items() if off > 0}
        while remaining:
            for tp, records in (await consumer.getmany(timeout_ms=1000)).items():
                for r in records:
                    if r.offset < end[tp]:
                        out.append((tp.topic, tp.partition, r.offset, r.value or b""))
                    if r.offset + 1 >= end[tp]:
                        remaining.discard(tp)
        return out
    finally:
        await consumer.stop()


async def test_leader_killed_and_restarted_loses_and_doubles_nothing(tmp_path: Path) -> None:
    t0 = time.monotonic()
    cluster = LocalCluster(tmp_path / "cluster", nodes=3)
    bootstrap = await asyncio.to_thread(cluster.start)
    started_s = time.monotonic() - t0
    acked: list[tuple[str, bytes]] = []
    out = tmp_path / "rec"
    recorder: subprocess.Popen[str] | None = None
    try:
        source = SyntheticSource(seed=5, symbols=NATIVES, rate=100.0, max_steps=100 * 120)
        async with Simulator("binance", source) as sim:
            cfg = config_for("binance", NATIVES, sim, streams={"book": True, "trades": True})
            run = await Run.start(cfg, bootstrap)
            queue, connector = run.queue, run.connector
            queue.on_acknowledged = lambda t, v: acked.append((t, v))
            book = topic("binance", "book", run.prefix)
            group = f"{run.prefix}-rec"
            rec_cmd = [sys.executable, "-m", "ttxt_kafka.cli", "record", "--out", str(out),
                       "--bootstrap", bootstrap, "--prefix", run.prefix, "--group", group]
            recorder = subprocess.Popen(rec_cmd, cwd=REPO, stderr=subprocess.PIPE, text=True)
            await connector.wait_synced()
            await asyncio.sleep(2.0)
            partition = (murmur2(b"BTC/USDT") & 0x7FFFFFFF) % 3
            leader, isr = await partition_leader(bootstrap, book, partition)
            assert sorted(isr) == [1, 2, 3]  # replication factor 3, all in sync
            acked_before = len(acked)
            await asyncio.to_thread(cluster.node(leader).kill)
            killed = time.monotonic()
            while True:  # the controller notices (broker.session.timeout.ms) and moves it
                new_leader, isr_down = await partition_leader(bootstrap, book, partition)
                if new_leader != leader or time.monotonic() - killed > 40:
                    break
                await asyncio.sleep(0.5)
            failover_s = time.monotonic() - killed
            await asyncio.sleep(1.0)  # under load on the new leader
            await asyncio.to_thread(cluster.start_node, leader)
            down_s = time.monotonic() - killed
            await asyncio.sleep(3.0)
            deadline = time.monotonic() + 30
            while not (queue.healthy and queue.pending < 1000):
                assert time.monotonic() < deadline, "the producer did not recover"
                await asyncio.sleep(0.1)
            acked_after = len(acked)
            connector.stop()
            await asyncio.wait_for(run.task, 30)
            await queue.stop()
        if recorder.poll() is not None:
            raise AssertionError("the recorder stopped during the failover: "
                                 + (recorder.stderr.read() if recorder.stderr else "")[-3000:])
        recorder.send_signal(signal.SIGTERM)
        _, err = await asyncio.to_thread(recorder.communicate, timeout=60)
        assert recorder.returncode == 0, err
        rest = await asyncio.to_thread(ttxt, "record", "--out", str(out), "--bootstrap",
                                       bootstrap, "--prefix", run.prefix, "--group", group,
                                       "--until-end")
        assert rest.returncode == 0, rest.stderr
        names = [topic("binance", ch, run.prefix) for ch in CHANNELS]
        on_topic = await read_all(bootstrap, names)
    finally:
        if recorder is not None and recorder.poll() is None:
            recorder.kill()
        await asyncio.to_thread(cluster.stop)

    stats = queue.stats
    values = Counter((t, v) for t, _, _, v in on_topic)
    missing = sum(1 for rec in set(acked) if rec not in values)
    doubled = sum(n - 1 for n in values.values() if n > 1)
    files = Counter((r["topic"], r["partition"], r["offset"]) for _, r in read_with_fastavro(out))
    recorded_topics = {t for t, _, _ in files}
    expected = Counter((t, p, o) for t, p, o, _ in on_topic if t in recorded_topics)
    in_files_twice = sum(n - 1 for n in files.values() if n > 1)
    not_in_files = sum(1 for k in expected if k not in files)
    print(f"\n3-node cluster up in {started_s:.1f}s; killed node {leader} (leader of "
          f"{book}[{partition}]), new leader {new_leader} after {failover_s:.1f}s, "
          f"ISR while down {isr_down}, down "
          f"{down_s:.1f}s; acknowledged {len(acked)} ({acked_before} before the kill, "
          f"{acked_after - acked_before} from the kill to the end), on the topics "
          f"{len(on_topic)}, acknowledged but missing {missing}, doubled {doubled}; delivery "
          f"errors {stats.delivery_errors}, lost {stats.lost}, producer replacements "
          f"{stats.producer_replacements}; recorder files {sum(files.values())} records of "
          f"{len(recorded_topics)} topics, missing {not_in_files}, twice {in_files_twice}; "
          f"test {time.monotonic() - t0:.0f}s")

    assert new_leader != leader and leader not in isr_down
    assert missing == 0 and doubled == 0
    assert stats.lost == 0 and len(acked) == stats.published
    assert acked_after > acked_before
    assert_no_delta_on_a_broken_book(
        "binance", [decode(v) for t, _, _, v in on_topic if t == book])
    assert book in recorded_topics
    assert not_in_files == 0 and in_files_twice == 0 and files == expected
