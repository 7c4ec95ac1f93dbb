"""Never silently stop (issue 20): a broker stopped for 60 s and restarted on the same port while
a connector publishes a simulated market into it.

The test runs its own broker (the session's shared one is not disturbed). It checks that the
connector carries on without a restart, that records flow again within seconds of the broker's
return, that every record the producer acknowledged is on the topic (none doubled), that the
book topic read alone has no silent hole (every delta continues the record before it; a chain
broken by the outage restarts at a SNAPSHOT, with BOOK_RESYNC "delivery failure" on the status
topic), that the status topic shows the outage (ERROR then CONNECTED on stream `kafka`), and
that aiokafka's connection errors were rate-limited. Counts are printed (`pytest -s`).

TTXT_OUTAGE_S shortens the outage for a quick local run (default 60, as the issue asks).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections import Counter

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from connector_harness import Run, assert_no_delta_on_a_broken_book, config_for, statuses

from ttxt_kafka.admin import cluster_metadata
from ttxt_kafka.bus import KafkaQueue
from ttxt_kafka.codec import decode
from ttxt_kafka.connectors.runner import CHANNELS
from ttxt_kafka.events import ConnectorState, ConnectorStatus, Event, OrderBook
from ttxt_kafka.local_kafka import LocalKafka
from ttxt_kafka.simulator import Simulator, SyntheticSource
from ttxt_kafka.topics import topic

pytestmark = pytest.mark.kafka

OUTAGE = float(os.environ.get("TTXT_OUTAGE_S", "60"))
NATIVES = ["BTCUSDT", "ETHUSDT"]


async def read_topics(bootstrap: str, names: list[str]) -> list[tuple[str, bytes]]:
    """Every record of the topics, (topic, value), in partition order."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        metadata = await cluster_metadata(consumer)
        tps = [TopicPartition(n, p) for n in names
               for p in sorted(metadata.partitions_for_topic(n) or ())]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        end = await consumer.end_offsets(tps)
        out: list[tuple[str, bytes]] = []
        remaining = {tp for tp, off in end.items() if off > 0}
        while remaining:
            for tp, records in (await consumer.getmany(timeout_ms=1000)).items():
                for r in records:
                    if r.offset < end[tp]:
                        out.append((tp.topic, r.value or b""))
                    if r.offset + 1 >= end[tp]:
                        remaining.discard(tp)
        return out
    finally:
        await consumer.stop()


async def count_polls(queue: KafkaQueue, into: list[tuple[float, int]]) -> None:
    """Poll for ever, noting (time, count) of each event."""
    n = 0
    while True:
        await queue.poll()
        n += 1
        into.append((time.monotonic(), n))


async def wait_until(check: object, timeout: float, what: str) -> float:
    start = time.monotonic()
    while not check():  # type: ignore[operator]
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"{what}: not within {timeout}s")
        await asyncio.sleep(0.05)
    return time.monotonic() - start


async def test_broker_restart_under_load_loses_nothing_acknowledged(
    tmp_path: object, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    kafka = LocalKafka(state_dir=tmp_path / "broker")  # type: ignore[operator]
    bootstrap = await asyncio.to_thread(kafka.start)
    kafka.port = int(bootstrap.rsplit(":", 1)[1])  # the restart comes back on the same port
    acked: list[tuple[str, bytes, float]] = []
    got_through: list[tuple[float, int]] = []
    got_late: list[tuple[float, int]] = []
    try:
        source = SyntheticSource(seed=11, symbols=NATIVES, rate=100.0,
                                 max_steps=int(100 * (OUTAGE + 60)))
        async with Simulator("binance", source) as sim:
            cfg = config_for("binance", NATIVES, sim, streams={"book": True, "trades": True},
                             resync_timeout=10)
            run = await Run.start(cfg, bootstrap)
            queue, connector = run.queue, run.connector
            queue.on_acknowledged = lambda t, v: acked.append((t, v, time.monotonic()))
            await connector.wait_synced()
            book_topic = topic("binance", "book", run.prefix)
            # Consumers (as a strategy or a recorder runs): one through the outage, one that
            # starts while the broker is away; both must carry on by themselves.
            through = KafkaQueue(bootstrap, topics=[book_topic], group_id=f"{run.prefix}-a",
                                 connect_timeout=OUTAGE + 60)
            await through.start()
            await through.wait_assigned()
            readers = [asyncio.create_task(count_polls(through, got_through))]
            await asyncio.sleep(2.0)  # under load before the outage
            acked_before = len(acked)

            await asyncio.to_thread(kafka.stop)
            down_at = time.monotonic()
            caplog.clear()
            late = KafkaQueue(bootstrap, topics=[book_topic], group_id=f"{run.prefix}-b",
                              connect_timeout=OUTAGE + 60)
            late_start = asyncio.create_task(late.start())
            await asyncio.sleep(OUTAGE)
            await asyncio.to_thread(kafka.start)
            up_at = time.monotonic()
            outage_log = [r for r in caplog.records if r.name.startswith("aiokafka")]

            # Records flow again: the first acknowledgement after the broker's return.
            flow_s = await wait_until(lambda: acked[-1][2] > up_at, 60, "records flowing")
            # Recovered: the producer delivers, every book is whole, fresh deltas arrive.
            await wait_until(lambda: queue.healthy and queue.pending < 5_000, 90, "recovered")
            await connector.wait_synced(60)
            deltas = connector.stats.book_deltas
            await wait_until(lambda: connector.stats.book_deltas > deltas + 50, 30, "deltas")
            assert not run.task.done(), "the connector stopped"
            await asyncio.wait_for(late_start, 60)  # started once the broker came back
            readers.append(asyncio.create_task(count_polls(late, got_late)))
            polled_before = got_through[-1][1]  # the last record before now
            await wait_until(lambda: got_late and got_through[-1][1] > polled_before + 5, 30,
                             "consumers reading")
            senders = [t for t in asyncio.all_tasks()
                       if "_sender_routine" in repr(t.get_coro())]
            # the connector's producers (one per linger class: book unbatched, trades
            # batched), one per consumer queue (for dead letters); none abandoned
            assert queue.linger_classes == (0, 5)
            assert len(senders) == 2 + 2, f"abandoned producers still run: {senders}"
            connector.stop()
            await asyncio.wait_for(run.task, 30)
            await queue.stop()
            for reader in readers:
                reader.cancel()
            await through.stop()
            await late.stop()
        names = [topic("binance", ch, run.prefix) for ch in CHANNELS]
        on_topic = await read_topics(bootstrap, names)
    finally:
        await asyncio.to_thread(kafka.stop)

    stats = queue.stats
    counts = Counter(on_topic)
    acked_set = Counter((t, v) for t, v, _ in acked)
    missing = sum(1 for rec in acked_set if rec not in counts)
    doubled = sum(n - 1 for n in counts.values() if n > 1)
    events: list[Event] = [decode(v) for _, v in on_topic]
    book_topic = topic("binance", "book", run.prefix)
    book_events = [decode(v) for t, v in on_topic if t == book_topic]
    print(f"\noutage {OUTAGE:.0f}s: published {stats.published}, acknowledged {stats.acknowledged}"
          f" ({acked_before} before the outage), on the topics {len(on_topic)}, acknowledged "
          f"but missing {missing}, doubled {doubled}, resent {stats.resent}, lost (declared) "
          f"{stats.lost}, deltas dropped on broken chains {stats.chain_dropped}, delivery "
          f"errors {stats.delivery_errors}, producer replacements "
          f"{stats.producer_replacements}; records flowing {flow_s:.1f}s after the broker's "
          f"return; aiokafka log lines during the outage: {len(outage_log)}; connector "
          f"{connector.stats}; broker down {up_at - down_at:.0f}s; consumers: through the "
          f"outage {len(got_through)} events, started during it {len(got_late)}")

    assert missing == 0, f"{missing} acknowledged records are not on the topic"
    assert doubled == 0
    assert stats.acknowledged == len(acked) and stats.published == (
        stats.acknowledged + stats.lost + stats.chain_dropped)
    assert_no_delta_on_a_broken_book("binance", book_events)
    kafka_status = [e for e in events if isinstance(e, ConnectorStatus) and e.stream == "kafka"]
    assert [e.status for e in kafka_status][:1] == [ConnectorState.ERROR]
    assert kafka_status[-1].status is ConnectorState.CONNECTED
    assert "Kafka delivery failed" in kafka_status[0].reason
    assert stats.producer_replacements >= 1 and connector.stats.delivery_failures >= 1
    if stats.lost:  # book chains broken: each said so and restarted at a snapshot
        resyncs = [e for e in statuses(events, ConnectorState.BOOK_RESYNC)
                   if e.reason.startswith("delivery failure")]
        assert {e.symbol for e in resyncs} <= {"BTC/USDT", "ETH/USDT"} and resyncs
    assert any(isinstance(e, OrderBook) and e.is_snapshot for e in book_events)
    assert flow_s < 20, f"records flowed only {flow_s:.1f}s after the broker's return"
    assert len(outage_log) <= 40, f"{len(outage_log)} aiokafka log lines in one outage"
