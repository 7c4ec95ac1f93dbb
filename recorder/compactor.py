"""Kafka records in, durable blocks out: routing, de-duplication, buffering, writing.

No Kafka client here — the service feeds it what the consumer fetched and commits what it says
is durable; a benchmark or a test can feed it just the same.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import TopicPartition

from ttxt_kafka.archive.router import Router

from .buffers import Buffers, FlushPolicy
from .writer import ArchiveWriter

log = logging.getLogger(__name__)


@dataclass
class RecorderStats:
    consumed: int = 0
    written: int = 0
    duplicates: int = 0  # records already in the files (re-read after a restart)
    unparsed: int = 0  # records stored raw (not ttxt events)
    blocks: int = 0
    files_created: int = 0
    syncs: int = 0
    commits: int = 0
    commit_errors: int = 0
    consumed_by_topic: dict[str, int] = field(default_factory=dict)  # for the metrics

    def summary(self) -> str:
        return (f"{self.consumed:,} records read, {self.written:,} written in "
                f"{self.blocks:,} blocks ({self.files_created} new files); {self.duplicates:,} "
                f"already recorded, skipped; {self.unparsed:,} not ttxt events, stored raw")


class Compactor:
    def __init__(self, writer: ArchiveWriter, flush: FlushPolicy | None = None,
                 router: Router | None = None) -> None:
        self.writer = writer
        self.router = router or Router()
        self.buffers = Buffers(flush or FlushPolicy())
        self.stats = RecorderStats()
        self.next_offsets: dict[TopicPartition, int] = {}  # next to read, per partition
        # Highest offset written or buffered, per (stream, topic, partition): from the files at
        # start, then as records are buffered. Anything at or below it is a duplicate.
        self._seen: dict[tuple[str, str, int], int] = {}
        # A write that failed (disk full, I/O error) leaves records neither buffered nor
        # durable: from then on nothing may be committed; the process stops, and the next run
        # repairs the files and re-reads from the last commit.
        self.failed: BaseException | None = None

    def open(self) -> Compactor:
        """Lock the directory, repair it, learn what it already holds."""
        self.writer.open()
        self._seen = dict(self.writer.high_water)
        return self

    def close(self) -> None:
        self.writer.close()

    def ingest(self, tp: TopicPartition, records: Sequence[Any], now: float) -> None:
        """Route a partition's fetched records (aiokafka ConsumerRecords, offset order) into
        their buffers, dropping the ones the files already hold."""
        route = self.router.route
        add = self.buffers.add
        seen = self._seen
        duplicates = 0
        for r in records:
            stream, _, stored = route(r)
            key = (stream, r.topic, r.partition)
            if r.offset <= seen.get(key, -1):
                duplicates += 1
                continue
            seen[key] = r.offset
            value = r.value
            add(key, tp, stored, 64 + (len(value) if value else 0), now)
        if records:
            prev = self.next_offsets.get(tp)
            if prev is not None and records[0].offset > prev:
                # Not ours to fix, but worth saying: the topic no longer holds them (retention
                # ran first: its clock is the record timestamp), or compaction/transactions.
                log.info("%s[%d]: offsets %d..%d are not in the topic (deleted by retention "
                         "before they were read?)", tp.topic, tp.partition, prev,
                         records[0].offset - 1)
            self.stats.consumed += len(records)
            by_topic = self.stats.consumed_by_topic
            by_topic[tp.topic] = by_topic.get(tp.topic, 0) + len(records)
            self.stats.duplicates += duplicates
            self.next_offsets[tp] = records[-1].offset + 1

    def write_ready(self, everything: bool = False, now: float | None = None) -> int:
        """Write the buffers that are due (all with `everything`) and fsync: when this
        returns, they are durable. Returns the number of records written."""
        if self.failed is not None:
            raise RuntimeError("an earlier write failed; restart the recorder") from self.failed
        ready = self.buffers.take_ready(time.monotonic() if now is None else now, everything)
        written = 0
        try:
            for buf in ready:
                entry = self.writer.write_block(buf.stream, buf.records)
                written += len(buf.records)
                log.debug("wrote %s %s:%d %d-%d", buf.stream, entry.topic, entry.partition,
                          entry.first_offset, entry.last_offset)
            if ready:
                self.stats.syncs += self.writer.sync()
        except BaseException as exc:
            self.failed = exc
            raise
        if ready:
            self.stats.blocks += len(ready)
            self.stats.written += written
            self.stats.files_created = self.writer.files_created
        self.stats.unparsed = self.router.unparsed
        return written

    def commit_positions(self) -> dict[TopicPartition, int]:
        """Per partition, the offset up to which everything read is durable in the files
        (records of one partition may wait in several streams' buffers). Nothing once a write
        has failed."""
        if self.failed is not None:
            return {}
        positions = dict(self.next_offsets)
        positions.update(self.buffers.oldest_pending())
        return positions

    def status(self) -> str:
        s = self.stats
        return (f"consumed {s.consumed:,}, written {s.written:,}, buffered "
                f"{self.buffers.records():,}, duplicates {s.duplicates:,}, "
                f"not ttxt events {self.router.unparsed:,}")
