"""The recorder service: market-data topics -> per-ticker Avro files, exactly once.

The loop: fetch records, route each into its (stream, topic-partition) buffer, skipping those
already in the files; write the buffers that are ready as blocks; fsync the files written to;
only then commit offsets. The committed offset of a partition is the smallest offset that is not
durably in a file yet (records of one partition can wait in several streams' buffers), so a
restart re-reads at most what was not durable, and the per-stream high-water marks recovered
from the files drop what was.

Consumer group: `--group` (default: derived from the output directory,
`ttxt-recorder.<name>.<hash>`, so a new directory gets the whole retained history and never
starts where another recording stopped), with static membership (a group instance id derived
from the host and output directory), so a restarted recorder gets its partitions back at once
instead of after the session timeout. A new group starts at the earliest offsets; where each
partition starts is announced once assigned (`announce`).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import KafkaError
from aiokafka.structs import OffsetAndMetadata

from ttxt_kafka.admin import cluster_metadata
from ttxt_kafka.archive.ocf import DEFAULT_CODEC
from ttxt_kafka.archive.router import Router
from ttxt_kafka.bus.kafka_queue import start_with_retry
from ttxt_kafka.cluster import client_options
from ttxt_kafka.topics import DEFAULT_PREFIX, MARKET_DATA_CHANNELS, topics_regex

from . import raw_fetch
from .buffers import FlushPolicy
from .compactor import Compactor, RecorderStats
from .rotation import DEFAULT_ROTATE, RotatePolicy
from .writer import ArchiveWriter

log = logging.getLogger(__name__)

DEFAULT_GROUP = "ttxt-recorder"  # the prefix of the groups derived from output directories
# Records one getmany may return where aiokafka builds its records (`raw_fetch` declined): most
# of what one fetch brings, so that its partitions are fetched again soon. Batches read in C are
# taken whole (a fetch at a time); memory is bounded by the consumer's fetch sizes either way.
FETCH_MAX_RECORDS = 50_000
_LET_FETCHER_SEND = 4  # event-loop turns: the fetcher wakes, starts its task, the task sends


def default_group(out_dir: Path) -> str:
    """The recorder's group for an output directory: one group per directory (same directory,
    same group: a restart resumes; a new directory starts from the earliest retained records)."""
    resolved = out_dir.resolve()
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", resolved.name)[:40] or "root"
    digest = hashlib.sha1(str(resolved).encode()).hexdigest()[:8]
    return f"{DEFAULT_GROUP}.{name}.{digest}"


def default_topics(prefix: str = DEFAULT_PREFIX) -> str:
    """Every venue's market-data topics."""
    return topics_regex(channels=list(MARKET_DATA_CHANNELS), prefix=prefix)


@dataclass
class RecorderConfig:
    out_dir: Path
    bootstrap: str
    topics: str | None = None  # regex; None: default_topics(prefix)
    group_id: str = ""  # empty: default_group(out_dir)
    instance_id: str | None = None  # None: derived from host and out_dir
    codec: str = DEFAULT_CODEC
    rotate: RotatePolicy = field(default_factory=lambda: RotatePolicy.parse(DEFAULT_ROTATE))
    flush: FlushPolicy = field(default_factory=FlushPolicy)
    until_end: bool = False
    prefix: str = DEFAULT_PREFIX
    commit_interval: float = 1.0  # seconds between commits (always after an fsync)
    status_interval: float = 60.0  # seconds between status lines in the log
    metadata_refresh: float = 10.0  # how soon new matching topics are picked up
    connect_timeout: float = 30.0
    consumer_options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.group_id:
            self.group_id = default_group(self.out_dir)

    def pattern(self) -> str:
        return self.topics or default_topics(self.prefix)

    def group_instance_id(self) -> str:
        if self.instance_id:
            return self.instance_id
        where = f"{socket.gethostname()}:{self.out_dir.resolve()}"
        return f"{self.group_id}-{hashlib.sha1(where.encode()).hexdigest()[:12]}"


class _Listener(ConsumerRebalanceListener):
    def __init__(self, recorder: Recorder) -> None:
        self._recorder = recorder

    async def on_partitions_revoked(self, revoked: Any) -> None:
        # Make everything durable and committed while we still own the partitions.
        self._recorder.rebalances += 1
        await self._recorder.checkpoint(everything=True)

    async def on_partitions_assigned(self, assigned: Any) -> None:
        pass  # where they start is said from the loop (`announce_start`, aside), not here


class Recorder:
    """`await Recorder(config).run()` records until `stop()` (or the end, with until_end)."""

    def __init__(self, config: RecorderConfig) -> None:
        self.config = config
        self.core = Compactor(ArchiveWriter(config.out_dir, config.codec, config.rotate),
                              config.flush, Router(config.prefix))
        self._consumer: AIOKafkaConsumer | None = None
        self._max_records: int | None = FETCH_MAX_RECORDS
        self._stop = asyncio.Event()
        self._committed: dict[TopicPartition, int] = {}
        self._last_commit = 0.0
        # Where reading starts, said once per partition (the CLI prints it; default: the log).
        self.announce: Callable[[str], None] = log.info
        self._announced: set[TopicPartition] = set()
        # The first record read from each partition (offset, timestamp ms), said once.
        self._first_seen: dict[TopicPartition, tuple[int, int]] = {}
        self._first_said: set[TopicPartition] = set()
        # Counted at each revocation: records fetched before one are not ours to write (the
        # new owner reads them from the offsets committed at the revocation).
        self.rebalances = 0
        self._write_lock = asyncio.Lock()
        self._writing: asyncio.Future[int] | None = None  # the worker thread's current write
        self._announcing: asyncio.Future[None] | None = None  # the start report, aside
        self._ready: list[Any] = []  # the buffers it writes

    @property
    def stats(self) -> RecorderStats:
        return self.core.stats

    def stop(self) -> None:
        """Ask the loop to finish: the buffers are written, fsynced and committed."""
        self._stop.set()

    async def drain(self, timeout: float = 10.0) -> bool:
        """Stop once everything the topics held when called is read (what the services
        upstream flushed before stopping), or after `timeout`; True if it got there."""
        try:
            if self._consumer is None or timeout <= 0:
                return False
            deadline = time.monotonic() + timeout
            targets = await asyncio.wait_for(self._end_targets(timeout), timeout)
            while not await self._reached(targets):
                if time.monotonic() > deadline or self._stop.is_set():
                    return False
                await asyncio.sleep(0.05)
            return True
        except (KafkaError, TimeoutError) as exc:
            log.warning("could not read up to the end before stopping: %s", exc)
            return False
        finally:
            self.stop()

    @property
    def consumer(self) -> AIOKafkaConsumer | None:
        """The group consumer while running (for metrics: assignment, high-water marks)."""
        return self._consumer

    async def run(self) -> RecorderStats:
        re.compile(self.config.pattern())  # a bad regex fails here, clearly
        self.core.open()
        try:
            self._consumer = self._make_consumer()
            self._consumer.subscribe(pattern=self.config.pattern(), listener=_Listener(self))
            await start_with_retry(self._consumer, self.config.bootstrap,
                                   self.config.connect_timeout)
            try:
                await self._loop()
            finally:
                try:
                    if self.core.failed is None:
                        await self.checkpoint(everything=True)
                    await self._announce_finished()  # its lines, also on a short run
                finally:
                    if self._announcing is not None and not self._announcing.done():
                        self._announcing.cancel()
                    await self._consumer.stop()
        finally:
            if self._writing is not None and not self._writing.done():
                await asyncio.wait([self._writing])  # never close files under the writer
            self.core.close()
        return self.stats

    def _make_consumer(self) -> AIOKafkaConsumer:
        if raw_fetch.install():  # records read in C from the fetched batches
            self._max_records = None
        options: dict[str, Any] = {
            "value_deserializer": raw_fetch.RAW_VALUES,
            "group_id": self.config.group_id,
            "group_instance_id": self.config.group_instance_id(),
            "enable_auto_commit": False,
            "auto_offset_reset": "earliest",
            "metadata_max_age_ms": int(self.config.metadata_refresh * 1000),
            "max_partition_fetch_bytes": 4 << 20,
            "fetch_max_bytes": 64 << 20,
            **client_options(),
            **self.config.consumer_options,
        }
        return AIOKafkaConsumer(bootstrap_servers=self.config.bootstrap, **options)

    # ------------------------------------------------------------------ the loop

    async def _loop(self) -> None:
        consumer = self._consumer
        assert consumer is not None
        targets = await self._end_targets() if self.config.until_end else None
        if targets is not None and not targets:
            return
        next_status = time.monotonic() + self.config.status_interval
        while not self._stop.is_set():
            generation = self.rebalances
            batches = await consumer.getmany(timeout_ms=200, max_records=self._max_records)
            if batches:
                # getmany took every record fetched for these partitions, so aiokafka's fetcher
                # may ask for the next ones: let it send the requests now, so that the broker
                # reads and ships them while this batch is written (otherwise each batch waits
                # a full round trip after the previous one is done).
                for _ in range(_LET_FETCHER_SEND):
                    await asyncio.sleep(0)
            assigned = consumer.assignment()
            if not assigned <= self._announced and (self._announcing is None
                                                    or self._announcing.done()):
                # Aside: its three round trips are not in the way of the first records (a
                # commit waits for it, see `_announce_finished`).
                self._announcing = asyncio.ensure_future(
                    self._announce_aside(list(assigned - self._announced)))
            now = time.monotonic()
            if now >= next_status:
                next_status = now + self.config.status_interval
                log.info("status: %s", self.core.status())
            if generation != self.rebalances:
                # A rebalance ran while we awaited (the fetch, the turns above, the start
                # report): the partitions were made durable and committed without these
                # records, and may belong to another member now. Writing them would double
                # them in its directory; whoever owns them re-reads them from the commit.
                log.debug("dropped a fetch made before a rebalance: %d record(s)",
                          sum(len(r) for r in batches.values()))
                batches = {}
            for tp, records in batches.items():
                if tp not in self._first_seen and records:
                    self._first_seen[tp] = (records[0].offset, records[0].timestamp)
                    self._say_first(tp)
                self.core.ingest(tp, records, now)
            if self._writing is not None and self._writing.done():
                async with self._write_lock:  # the write is over: its buffers are durable
                    await self._finish_write()
            if self.core.buffers.sealed or self.core.buffers.open:
                await self.checkpoint(wait=False)
            elif now - self._last_commit >= self.config.commit_interval:
                await self._commit()
            if targets is not None and await self._reached(targets):
                log.debug("reached the end offsets %s (read up to %s)", targets,
                          self.core.next_offsets)
                return

    async def checkpoint(self, everything: bool = False, wait: bool = True) -> None:
        """Write the ready buffers (all of them with `everything`), fsync, then commit.

        The writing and the fsync run in a worker thread (zlib, zstd, write and fsync release
        the GIL): meanwhile the event loop keeps fetching and, above all, heartbeating — an
        fsync that takes seconds on a busy disk must not get this member thrown out of its
        group (its partitions would go to another member before it commits, and be recorded
        twice). One write at a time (the loop's and a rebalance's): a checkpoint first waits
        for the one still running. With `wait=False` (the loop) it returns once the new write
        is started, so that the next fetch and its routing overlap the compression and the
        fsync; the commit then covers what the previous writes made durable (buffers being
        written count as not durable: `Compactor.commit_positions`)."""
        async with self._write_lock:
            await self._finish_write()
            ready = self.core.take_ready(everything)
            if ready:
                self._writing = asyncio.ensure_future(asyncio.to_thread(self._write, ready))
                self._ready = ready
                if wait or everything:
                    await self._finish_write()
            if everything or time.monotonic() - self._last_commit >= self.config.commit_interval:
                await self._commit()

    async def _finish_write(self) -> None:
        """Wait for the write in progress, if any (its error, if it failed, is raised)."""
        writing = self._writing
        if writing is None:
            return
        try:
            # Shielded: a cancelled caller does not stop the thread; run() waits for it
            # before closing the files.
            await asyncio.shield(writing)
        finally:
            if writing.done():
                self.core.done(self._ready)
                self._ready = []
                self._writing = None

    def _write(self, ready: list[Any]) -> int:
        """In the worker thread: write the blocks, fsync."""
        t0 = time.perf_counter()
        written = self.core.write_blocks(ready)
        self._wrote(time.perf_counter() - t0)
        return written

    def _wrote(self, seconds: float) -> None:
        """A write of blocks took `seconds`, write and fsync (for the metrics)."""

    async def _commit(self) -> None:
        self._last_commit = time.monotonic()
        consumer = self._consumer
        if consumer is None:
            return
        positions = self.core.commit_positions()  # never past what is not durable
        assigned = consumer.assignment()
        todo = {tp: off for tp, off in positions.items()
                if tp in assigned and self._committed.get(tp) != off}
        if not todo:
            return
        await self._announce_finished()
        try:
            await consumer.commit({tp: OffsetAndMetadata(off, "") for tp, off in todo.items()})
        except KafkaError as exc:
            # Harmless for the files (re-read records are dropped as duplicates); retried.
            self.stats.commit_errors += 1
            log.warning("offset commit failed (will retry): %s", exc)
            return
        self._committed.update(todo)
        self.stats.commits += 1
        log.debug("committed %s", {f"{tp.topic}:{tp.partition}": off for tp, off in todo.items()})

    # ------------------------------------------------------------------ start report

    async def _announce_aside(self, assigned: list[TopicPartition]) -> None:
        try:
            await self.announce_start(assigned)
        except Exception:  # a report: never a reason to stop recording
            log.exception("could not say where reading starts")

    async def _announce_finished(self) -> None:
        """Wait for the start report in progress, if any: it reads the group's committed
        offsets, which must be those from before this run's first commit."""
        announcing = self._announcing
        if announcing is not None and not announcing.done():
            await asyncio.wait([announcing], timeout=self.config.connect_timeout)

    async def announce_start(self, assigned: list[TopicPartition]) -> None:
        """Say, once per partition, from which offset this group starts and how much it has
        to catch up (and, with the first record read, from which time)."""
        consumer = self._consumer
        new = sorted((tp for tp in assigned if tp not in self._announced),
                     key=lambda tp: (tp.topic, tp.partition))
        if consumer is None or not new:
            return
        try:
            begins = await consumer.beginning_offsets(new)
            ends = await consumer.end_offsets(new)
            committed = {tp: await consumer.committed(tp) for tp in new}
        except KafkaError as exc:
            self._announced.update(new)
            self.announce(f"assigned {len(new)} partition(s) (offsets unknown: {exc})")
            return
        fresh = all(c is None for c in committed.values())
        self.announce(
            f"group {self.config.group_id}: " + (
                "new, starts at the earliest retained records" if fresh else
                "resumes at its committed offsets") + f" of {len(new)} partition(s)")
        shown = 0
        for tp in new:
            self._announced.add(tp)
            c = committed[tp]
            start = max(c, begins[tp]) if c is not None else begins[tp]
            todo = max(ends[tp] - start, 0)
            if shown < 20:
                how = "committed" if c is not None else "earliest"
                self.announce(f"  {tp.topic}[{tp.partition}]: from offset {start:,} ({how}; "
                              f"{todo:,} record(s) to the end at {ends[tp]:,})")
                shown += 1
        if len(new) > shown:
            self.announce(f"  ... and {len(new) - shown} more partition(s)")
        for tp in new:
            self._say_first(tp)

    def _say_first(self, tp: TopicPartition) -> None:
        """Once its start is announced and its first record read: from which time."""
        if tp in self._first_said or tp not in self._announced or tp not in self._first_seen:
            return
        self._first_said.add(tp)
        if len(self._first_said) > 20:
            return
        offset, timestamp_ms = self._first_seen[tp]
        when = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(timestamp_ms / 1000))
        self.announce(f"  {tp.topic}[{tp.partition}]: first record at offset {offset:,}, "
                      f"{when} UTC")

    # ------------------------------------------------------------------ --until-end

    async def _end_targets(self, timeout: float = 30.0) -> dict[TopicPartition, int]:
        """End offsets, now, of every partition of every topic the pattern matches (whether
        or not the group has assigned it to us yet); empty if no topic matches."""
        consumer = self._consumer
        assert consumer is not None
        rx = re.compile(self.config.pattern())
        deadline = time.monotonic() + timeout
        while True:
            metadata = await cluster_metadata(consumer)
            topics = sorted(t for t in metadata.topics() if rx.match(t))
            if not topics:
                log.warning("no topic matches %s: nothing to record", self.config.pattern())
                return {}
            if all(metadata.partitions_for_topic(t) for t in topics):
                break
            if time.monotonic() > deadline:  # a topic without partitions in the metadata
                raise TimeoutError(f"no partition metadata for {topics} within {timeout}s")
            await asyncio.sleep(0.2)
        tps = [TopicPartition(t, p) for t in topics
               for p in sorted(metadata.partitions_for_topic(t) or ())]
        ends = dict(await consumer.end_offsets(tps))
        log.debug("--until-end: recording up to %s", ends)
        return ends

    async def _reached(self, targets: dict[TopicPartition, int]) -> bool:
        """Every target partition the group assigned to this recorder is read up to its end
        offset. Alone in its group a recorder is assigned them all; several recorders in one
        group (scale-out) each finish their share (a partition moved by a rebalance was made
        durable and committed by its previous owner first)."""
        consumer = self._consumer
        assert consumer is not None
        assigned = consumer.assignment()
        if not assigned:
            return False  # the group is still settling
        for tp in assigned:
            end = targets.get(tp)
            if end is None or self.core.next_offsets.get(tp, -1) >= end:
                continue
            if await consumer.position(tp) < end:
                return False
        return True
