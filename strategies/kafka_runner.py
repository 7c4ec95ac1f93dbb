"""Run a strategy as a Kafka consumer group: partitions split between instances, books rebuilt
on assignment, offsets committed after the handlers ran and their commands were delivered.

Ownership. The group topics (the strategy's market data and its venue's `executions`) are
assigned with Kafka's range assignor, which gives partition p of every topic to the same
instance when the topics have the same partition count — so a symbol's book, trades and
executions (all keyed by symbol) land on one instance. Several symbols share a partition: an
instance acts on exactly the symbols whose partitions it owns, and forgets their books when a
rebalance takes the partitions away. Broadcast topics (`account`) are read whole by every
instance outside the group: balances are venue-wide.

Rebalance (eager: all partitions are revoked, then the new set is assigned):
- revoked: wait for the handler in flight, deliver its commands (sink flush), commit every
  handled offset, stop acting on every partition, and abandon records already fetched;
- assigned: forget the books of partitions that went to another instance (the strategy hears
  of it in `on_symbols_lost`); for each newly owned `book` partition, rebuild its books from
  the last snapshots before the start offset, and for other new partitions replay the
  strategy's `warmup` window (see `rebuild`) — before any of its records reaches a handler.

Delivery is at-least-once: a crash between a handler and the next commit replays those events
to whoever owns the partition next (commands carry stable ids, so connectors recognize a
redelivered command).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Coroutine, Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from aiokafka.errors import IllegalStateError, KafkaError
from aiokafka.structs import OffsetAndMetadata

from ttxt_kafka.admin import cluster_metadata
from ttxt_kafka.bus.kafka_queue import decode_record, fetch_writer_schema, start_with_retry
from ttxt_kafka.cluster import client_options
from ttxt_kafka.codec import DEFAULT_CODEC, Codec, CodecError
from ttxt_kafka.confluent import REGISTRY_ERRORS
from ttxt_kafka.topics import parse_topic

from .rebuild import BookRebuilder, RebuildReport
from .runtime import StrategyRuntime

log = logging.getLogger(__name__)


class _Listener(ConsumerRebalanceListener):
    def __init__(self, runner: KafkaRunner) -> None:
        self.runner = runner

    async def on_partitions_revoked(self, revoked: Any) -> None:
        await self.runner._revoked()

    async def on_partitions_assigned(self, assigned: Any) -> None:
        await self.runner._assigned(set(assigned))


class KafkaRunner:
    def __init__(
        self,
        runtime: StrategyRuntime,
        bootstrap_servers: str,
        *,
        from_beginning: bool = False,
        snapshot_interval: float = 60.0,
        commit_interval: float = 1.0,
        connect_timeout: float = 30.0,
        consumer_options: dict[str, Any] | None = None,
        codec: Codec | None = None,
    ) -> None:
        self.runtime = runtime
        self.bootstrap = bootstrap_servers
        self.from_beginning = from_beginning
        self.snapshot_interval = snapshot_interval
        self.commit_interval = commit_interval
        self.connect_timeout = connect_timeout
        self.consumer_options = consumer_options or {}
        self.codec = codec or DEFAULT_CODEC
        self.rebuilds: list[RebuildReport] = []
        self.warmups: list[tuple[TopicPartition, int, int]] = []  # (tp, start, records replayed)
        self.malformed = 0
        self.schema_registry_errors = 0  # of those: Confluent records whose id did not resolve
        self._consumer: AIOKafkaConsumer | None = None
        self._broadcast: AIOKafkaConsumer | None = None
        self._reader: AIOKafkaConsumer | None = None
        self._rebuilder: BookRebuilder | None = None
        self._lock = asyncio.Lock()  # held while a record is handled; the revoke waits for it
        self._generation = 0  # bumped by every rebalance: fetched batches go stale
        self._owned: set[TopicPartition] = set()
        self._owned_before: set[TopicPartition] = set()
        self._pending: set[TopicPartition] = set()  # new partitions to prepare (rebuild/warm-up)
        self._handled: dict[TopicPartition, int] = {}  # next offset to commit
        self._committed: dict[TopicPartition, int] = {}
        self._last_commit = time.monotonic()
        self._last_lag = 0.0
        # The periodic commit and lag reading run beside the loop, not in it: each is a round
        # trip to the broker (milliseconds, more under load) that every record fetched
        # meanwhile would wait for (issue 18: the latency's tail).
        self._commit_task: asyncio.Future[None] | None = None
        self._lag_task: asyncio.Future[None] | None = None
        self._stop = False
        self._loop_done: asyncio.Event | None = None

    @property
    def owned(self) -> set[TopicPartition]:
        return set(self._owned)

    @property
    def running(self) -> bool:
        """The consumer loop is running (with or without partitions: an idle standby is fine)."""
        return self._loop_done is not None and not self._loop_done.is_set()

    def _new_consumer(self, **kw: Any) -> AIOKafkaConsumer:
        return AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False,
                                **{**client_options(), **self.consumer_options, **kw})

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> KafkaRunner:
        sub = self.runtime.subscription
        # A short fetch wait: after each seek the reader must not sit on a long poll.
        self._reader = self._new_consumer(group_id=None, fetch_max_wait_ms=20)
        await start_with_retry(self._reader, self.bootstrap, self.connect_timeout)
        self._rebuilder = BookRebuilder(
            self._reader, self.codec, sub.wants_symbol, sub.symbols,
            lookback_ms=int(2 * self.snapshot_interval * 1000))
        if sub.broadcast_topics():
            await self._start_broadcast(sub.broadcast_topics())
        await self.runtime.start()
        self.runtime.measure_latency = True
        if sub.group_topics():  # none when the strategy reads only its account
            self._consumer = self._new_consumer(
                group_id=self.runtime.group,
                auto_offset_reset="earliest" if self.from_beginning else "latest",
                partition_assignment_strategy=(RangePartitionAssignor,),
            )
            self._consumer.subscribe(sub.group_topics(), listener=_Listener(self))
            await start_with_retry(self._consumer, self.bootstrap, self.connect_timeout)
        return self

    async def run(self) -> None:
        """The consumer loop, until `stop()`."""
        consumer = self._consumer
        if self._reader is None:
            raise RuntimeError("KafkaRunner.run before start()")
        self._loop_done = asyncio.Event()
        try:
            while not self._stop:
                if consumer is not None:
                    await self._rebuild_pending()
                    generation = self._generation
                    batches = await consumer.getmany(timeout_ms=100, max_records=1000)
                    for tp, records in batches.items():
                        await self._handle_batch(consumer, generation, tp, records)
                if self._broadcast is not None:
                    await self._poll_broadcast(self._broadcast,
                                               timeout_ms=0 if consumer else 100)
                await self._maybe_commit()
                await self._maybe_update_lag()
        finally:
            self._loop_done.set()

    async def stop(self) -> None:
        """Leave the loop, run on_stop (its commands are delivered), commit, leave the group."""
        self._stop = True
        if self._loop_done is not None:
            await self._loop_done.wait()
        await self._background_done()
        try:
            async with self._lock:
                await self.runtime.stop()
                await self._commit()
        finally:
            for client in (self._consumer, self._broadcast, self._reader):
                if client is not None:
                    await client.stop()
            self._consumer = self._broadcast = self._reader = None
            for tp in self._owned:
                self.runtime.metrics.consumer_lag.remove(self.runtime.group, tp.topic,
                                                         tp.partition)
            self._owned.clear()
            self.runtime.metrics.partitions.labels(self.runtime.group).set(0)

    async def __aenter__(self) -> KafkaRunner:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ records

    async def _handle_batch(self, consumer: AIOKafkaConsumer, generation: int, tp: TopicPartition,
                            records: Sequence[ConsumerRecord[bytes, bytes]]) -> None:
        origin = (tp.topic, tp.partition)
        for record in records:
            await fetch_writer_schema(self.codec, record.value)
            async with self._lock:
                if generation != self._generation or self._stop or tp in self._pending:
                    # A rebalance happened during the fetch (these records may be stale, or
                    # already of the new assignment), or a rebuild must come first: fetch
                    # them again from here (for stale ones, here is the committed offset).
                    if tp in self._owned:
                        with contextlib.suppress(IllegalStateError):
                            consumer.seek(tp, record.offset)
                    return
                if tp not in self._owned:
                    return  # revoked: the new owner starts at the committed offset
                try:
                    event = decode_record(self.codec, record)
                except CodecError as exc:
                    self._malformed(record, exc)
                else:
                    await self.runtime.process(event, origin)
                self._handled[tp] = record.offset + 1

    def _malformed(self, record: ConsumerRecord[bytes, bytes], exc: CodecError) -> None:
        self.malformed += 1
        if isinstance(exc, REGISTRY_ERRORS):
            self.schema_registry_errors += 1
        self.runtime.metrics.malformed.labels(self.runtime.group, record.topic).inc()
        if self.malformed <= 10 or self.malformed % 1000 == 0:
            log.warning("%s: skipping record %s[%d]@%d: %s", self.runtime.group,
                        record.topic, record.partition, record.offset, exc)

    async def _start_broadcast(self, topics: list[str]) -> None:
        """Read the account topics whole, from the beginning: state only, no handler."""
        consumer = self._broadcast = self._new_consumer(group_id=None)
        await start_with_retry(consumer, self.bootstrap, self.connect_timeout)
        metadata = await cluster_metadata(consumer)
        tps = [TopicPartition(t, p) for t in topics
               for p in sorted(metadata.partitions_for_topic(t) or ())]
        if not tps:
            log.warning("%s: account topics %s do not exist yet", self.runtime.group, topics)
            return
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        deadline = time.monotonic() + self.connect_timeout
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            if time.monotonic() > deadline:
                raise TimeoutError(f"reading the account topics {topics} took too long")
            await self._poll_broadcast(consumer, dispatch=False, timeout_ms=200)

    async def _poll_broadcast(self, consumer: AIOKafkaConsumer, *, dispatch: bool = True,
                              timeout_ms: int = 0) -> None:
        batches = await consumer.getmany(timeout_ms=timeout_ms, max_records=1000)
        for tp, records in batches.items():
            for record in records:
                await fetch_writer_schema(self.codec, record.value)
                try:
                    event = decode_record(self.codec, record)
                except CodecError as exc:
                    self._malformed(record, exc)
                    continue
                await self.runtime.process(event, (tp.topic, tp.partition), dispatch=dispatch)

    # ------------------------------------------------------------------ rebalance

    async def _revoked(self) -> None:
        self._generation += 1
        await self._background_done()
        async with self._lock:  # the handler in flight finishes and is committed
            await self._commit()
            self._owned = set()  # act on nothing until the new assignment

    async def _assigned(self, assigned: set[TopicPartition]) -> None:
        self._generation += 1
        # Compared with the previous assignment (not with what a revoke left, which is empty).
        lost = self._owned_before - assigned
        new = assigned - self._owned_before
        self._owned_before = set(assigned)
        async with self._lock:
            for tp in lost:
                await self.runtime.drop_origin((tp.topic, tp.partition))
                self.runtime.metrics.consumer_lag.remove(self.runtime.group, tp.topic,
                                                         tp.partition)
                self._handled.pop(tp, None)
                self._committed.pop(tp, None)
        warm = self.runtime.strategy.warmup > 0
        prepare = {tp for tp in new if warm or self._is_book_topic(tp.topic)}
        self._pending = (self._pending | prepare) & assigned
        self._owned = set(assigned)
        self.runtime.metrics.partitions.labels(self.runtime.group).set(len(assigned))
        self._check_copartitioned()
        log.info("%s: assigned %d partitions (%d new, %d lost, %d to prepare)",
                 self.runtime.group, len(assigned), len(new), len(lost), len(self._pending))

    def _is_book_topic(self, name: str) -> bool:
        parsed = parse_topic(name, self.runtime.subscription.prefix)
        return parsed is not None and parsed.channel == "book"

    def _check_copartitioned(self) -> None:
        if self._consumer is None:
            return
        counts = {t: len(self._consumer.partitions_for_topic(t) or ())
                  for t in self.runtime.subscription.group_topics()}
        if len(set(counts.values())) > 1:
            log.warning("%s: topics have different partition counts %s: a symbol's events may "
                        "be split between instances", self.runtime.group, counts)

    async def _rebuild_pending(self) -> None:
        consumer, rebuilder = self._consumer, self._rebuilder
        if consumer is None or rebuilder is None:
            return
        for tp in list(self._pending):
            generation = self._generation
            try:  # the group's start offset for the partition: committed, or reset
                start = await asyncio.wait_for(consumer.position(tp), self.connect_timeout)
            except (IllegalStateError, KafkaError, TimeoutError) as exc:
                log.warning("%s: no position for %s[%d] (%s); retrying", self.runtime.group,
                            tp.topic, tp.partition, exc)
                continue
            async with self._lock:
                if generation != self._generation or tp not in self._pending:
                    continue
                if self._is_book_topic(tp.topic):
                    await self._rebuild_books(rebuilder, tp, start)
                else:
                    await self._warm_up(rebuilder, tp, start)
                self._pending.discard(tp)

    async def _warm_up(self, rebuilder: BookRebuilder, tp: TopicPartition, start: int) -> None:
        origin = (tp.topic, tp.partition)

        async def apply(event: Any) -> None:
            await self.runtime.process(event, origin, muted=True)

        window_ms = int(self.runtime.strategy.warmup * 1000)
        try:
            n = await rebuilder.warm_up(tp, start, window_ms, apply)
        except (KafkaError, TimeoutError) as exc:
            log.error("%s: warm-up of %s[%d] failed (%s)", self.runtime.group, tp.topic,
                      tp.partition, exc)
            return
        self.warmups.append((tp, start, n))
        log.info("%s: %s[%d] from offset %d: %d records of warm-up", self.runtime.group,
                 tp.topic, tp.partition, start, n)

    async def _rebuild_books(self, rebuilder: BookRebuilder, tp: TopicPartition,
                             start: int) -> None:
        origin = (tp.topic, tp.partition)

        async def apply(event: Any) -> None:
            await self.runtime.process(event, origin, dispatch=False)

        try:
            report = await rebuilder.rebuild(tp, start, apply)
        except (KafkaError, TimeoutError) as exc:
            log.error("%s: rebuilding the books of %s[%d] failed (%s): they wait for the next "
                      "snapshot", self.runtime.group, tp.topic, tp.partition, exc)
            await self.runtime.drop_origin(origin, notify=False)
        else:
            self.rebuilds.append(report)
            self.runtime.metrics.rebuilds.labels(self.runtime.group).inc(
                len(report.snapshots))
            log.info("%s: %s[%d] from offset %d: %d books rebuilt from snapshots (%d records "
                     "scanned, %d replayed, %.2fs)%s", self.runtime.group, tp.topic,
                     tp.partition, start, len(report.snapshots), report.scanned,
                     report.replayed, report.seconds,
                     f"; no snapshot yet for {report.missing}" if report.missing else "")

    # ------------------------------------------------------------------ offsets and lag

    async def _maybe_commit(self) -> None:
        """Every `commit_interval`: the commands of the handled records are delivered (as
        before, with the loop held), then the offsets are committed in the background — the
        loop does not wait for that round trip. One at a time; a rebalance and `stop` wait
        for it before their own commit."""
        if time.monotonic() - self._last_commit < self.commit_interval:
            return
        if self._commit_task is not None and not self._commit_task.done():
            return
        async with self._lock:
            todo = await self._deliver_commands()
        if todo:
            self._commit_task = asyncio.ensure_future(
                self._logged(self._send_commit(todo), "commit"))

    async def _logged(self, work: Coroutine[Any, Any, None], what: str) -> None:
        try:
            await work
        except Exception:
            log.exception("%s: background %s failed", self.runtime.group, what)

    async def _background_done(self) -> None:
        """Wait for the background commit and lag reading (a rebalance, stop)."""
        for task in (self._commit_task, self._lag_task):
            if task is not None and not task.done():
                with contextlib.suppress(Exception):
                    await task

    async def _commit(self) -> None:
        """Deliver the commands sent so far, then commit the handled offsets we still own."""
        todo = await self._deliver_commands()
        if todo:
            await self._send_commit(todo)

    async def _deliver_commands(self) -> dict[TopicPartition, int]:
        """The handled offsets to commit (of partitions still owned), once the commands their
        handlers sent are delivered (the sink flushed)."""
        self._last_commit = time.monotonic()
        if self._consumer is None:
            return {}
        todo = {tp: off for tp, off in self._handled.items()
                if tp in self._owned and self._committed.get(tp) != off}
        if todo:
            await self.runtime.flush()
        return todo

    async def _send_commit(self, todo: dict[TopicPartition, int]) -> None:
        consumer = self._consumer
        if consumer is None:
            return
        try:
            await consumer.commit({tp: OffsetAndMetadata(off, "") for tp, off in todo.items()})
        except KafkaError as exc:
            log.warning("%s: offset commit failed (%s); the records will be redelivered",
                        self.runtime.group, exc)
            return
        self._committed.update(todo)

    async def _maybe_update_lag(self, every: float = 1.0) -> None:
        if time.monotonic() - self._last_lag < every or self._consumer is None:
            return
        if self._lag_task is not None and not self._lag_task.done():
            return
        self._last_lag = time.monotonic()
        self._lag_task = asyncio.ensure_future(self._logged(self._update_lag(), "lag reading"))

    async def _update_lag(self) -> None:
        lag = await self.lag()
        gauge = self.runtime.metrics.consumer_lag
        for tp, n in lag.items():
            gauge.labels(self.runtime.group, tp.topic, tp.partition).set(n)

    async def lag(self) -> dict[TopicPartition, int]:
        """Records between each owned partition's end and the next record to handle."""
        consumer = self._consumer
        owned = list(self._owned)
        if consumer is None or not owned:
            return {}
        with contextlib.suppress(KafkaError):
            ends = await consumer.end_offsets(owned)
            out = {}
            for tp in owned:
                pos = self._handled.get(tp)
                if pos is None:
                    with contextlib.suppress(IllegalStateError, KafkaError):
                        pos = await consumer.position(tp)
                if pos is not None and tp in ends:
                    out[tp] = max(0, ends[tp] - pos)
            return out
        return {}

    async def wait_caught_up(self, timeout: float = 30.0) -> None:
        """Wait until this instance owns partitions, rebuilt them, and handled up to their ends."""
        deadline = time.monotonic() + timeout
        while True:
            owned = set(self._owned)
            if owned and not self._pending:
                lag = await self.lag()
                if set(lag) == owned and not any(lag.values()):
                    return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.runtime.group}: not caught up within {timeout}s "
                                   f"(owned {sorted(map(tuple, owned))}, pending "
                                   f"{sorted(map(tuple, self._pending))})")
            await asyncio.sleep(0.05)

