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

from ttxt_kafka.archive.encoder import RecordEncoder, symbol_from_key, zz_long
from ttxt_kafka.archive.router import Router

from .buffers import BlockBuffer, Buffers, FlushPolicy
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
        self.encoder = RecordEncoder(self.router.venue_of)
        self.peek_raw = self.router.peeker.peek_raw
        self.unparsed = 0
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
        self._in_flight: list[BlockBuffer] = []  # taken by take_ready, not done() yet

    def open(self) -> Compactor:
        """Lock the directory, repair it, learn what it already holds."""
        self.writer.open()
        self._seen = dict(self.writer.high_water)
        return self

    def close(self) -> None:
        self.writer.close()

    def ingest(self, tp: TopicPartition, records: Sequence[Any], now: float) -> None:
        """Route a partition's fetched records (aiokafka ConsumerRecords, offset order) into
        their buffers, dropping the ones the files already hold.

        The hot path of the recorder: each record is read (type, symbol and time from its
        value's header, `peek_raw`) and encoded to its file bytes (`archive.encoder`) right here,
        with the per-topic, per-key and per-type parts cached, and appended to its block."""
        if not records:
            return
        enc = self.encoder
        peek_raw = self.peek_raw
        buffers = self.buffers
        open_buffers = buffers.open
        block_size = buffers.policy.block_size
        block_bytes = buffers.policy.block_bytes
        seen = self._seen
        topic, partition = tp.topic, tp.partition
        tp_bytes = enc.tp_bytes(topic, partition)
        key_bytes = enc.key_bytes
        headers_bytes = enc.headers_bytes
        type_bytes = enc.type_bytes
        stream_of = enc.stream_of
        streams: dict[str, tuple[str, str, int]] = {}  # symbol -> buffer key, this batch
        duplicates = added = unparsed = 0
        for r in records:
            value = r.value
            offset = r.offset
            timestamp = r.timestamp or 0
            peeked = peek_raw(value)
            if peeked is not None:
                kind, symbol, ts, t0, t1 = peeked
                ts_bytes = value[t0:t1]  # the value's own varint: the same Avro long
            else:
                unparsed += 1
                kind, ts = "", timestamp * 1000
                symbol = symbol_from_key(r.key)
                ts_bytes = zz_long(ts)
                self._say_unparsed(r)
            key = streams.get(symbol)
            if key is None:
                key = streams[symbol] = (stream_of(topic, symbol), topic, partition)
            if offset <= seen.get(key, -1):
                duplicates += 1
                continue
            seen[key] = offset
            nbytes = 64 + (len(value) if value else 0)
            buf = open_buffers.get(key)
            if buf is None:
                buf = open_buffers[key] = BlockBuffer(key[0], tp, now, offset, ts, ts, ts)
            parts = buf.parts
            parts.append(ts_bytes)
            parts.append(type_bytes(kind))
            parts.append(tp_bytes)
            parts.append(zz_long(offset))
            parts.append(zz_long(timestamp))
            parts.append(key_bytes(r.key))
            parts.append(headers_bytes(r.headers))
            if value is None:
                parts.append(b"\x00")
            else:
                parts.append(b"\x02" + zz_long(len(value)))
                parts.append(value)
            buf.count += 1
            buf.last_offset = offset
            if ts < buf.min_ts:
                buf.min_ts = ts
            elif ts > buf.max_ts:
                buf.max_ts = ts
            buf.nbytes += nbytes
            added += nbytes
            if buf.count >= block_size or buf.nbytes >= block_bytes:
                buffers.seal(key)
        buffers.nbytes += added
        prev = self.next_offsets.get(tp)
        if prev is not None and records[0].offset > prev:
            # Not ours to fix, but worth saying: the topic no longer holds them (retention
            # ran first: its clock is the record timestamp), or compaction/transactions.
            log.info("%s[%d]: offsets %d..%d are not in the topic (deleted by retention "
                     "before they were read?)", tp.topic, tp.partition, prev,
                     records[0].offset - 1)
        stats = self.stats
        stats.consumed += len(records)
        by_topic = stats.consumed_by_topic
        by_topic[topic] = by_topic.get(topic, 0) + len(records)
        stats.duplicates += duplicates
        self.unparsed += unparsed
        stats.unparsed = self.unparsed
        self.next_offsets[tp] = records[-1].offset + 1

    def _say_unparsed(self, record: Any) -> None:
        n = self.unparsed + 1
        if n <= 10 or n % 1000 == 0:  # rate-limited
            log.warning("%s[%d]@%d is not a ttxt event (%d so far): kept as raw bytes",
                        record.topic, record.partition, record.offset, n)

    def write_ready(self, everything: bool = False, now: float | None = None) -> int:
        """Write the buffers that are due (all with `everything`) and fsync: when this
        returns, they are durable. Returns the number of records written."""
        ready = self.take_ready(everything, now)
        try:
            return self.write_blocks(ready)
        finally:
            self.done(ready)

    # The service splits write_ready in three, so that the writing and the fsync (which may
    # take long on a busy disk) run in a worker thread while the event loop goes on fetching
    # and heartbeating: take_ready and done in the loop's thread, write_blocks in the worker,
    # one write_blocks at a time. Taken buffers count as pending until done().

    def take_ready(self, everything: bool = False, now: float | None = None
                   ) -> list[BlockBuffer]:
        if self.failed is not None:
            raise RuntimeError("an earlier write failed; restart the recorder") from self.failed
        ready = self.buffers.take_ready(time.monotonic() if now is None else now, everything)
        self._in_flight.extend(ready)
        return ready

    def write_blocks(self, ready: list[BlockBuffer]) -> int:
        written = 0
        try:
            for buf in ready:
                entry = self.writer.write_encoded(buf)
                written += buf.count
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
        return written

    def done(self, ready: list[BlockBuffer]) -> None:
        """The taken buffers are written (or the write failed: then nothing is committed)."""
        taken = {id(b) for b in ready}
        self._in_flight = [b for b in self._in_flight if id(b) not in taken]

    def commit_positions(self) -> dict[TopicPartition, int]:
        """Per partition, the offset up to which everything read is durable in the files
        (records of one partition may wait in several streams' buffers). Nothing once a write
        has failed."""
        if self.failed is not None:
            return {}
        positions = dict(self.next_offsets)
        positions.update(self.buffers.oldest_pending())
        for buf in self._in_flight:  # taken to be written, not durable yet
            if buf.first_offset < positions.get(buf.tp, buf.first_offset + 1):
                positions[buf.tp] = buf.first_offset
        return positions

    def status(self) -> str:
        s = self.stats
        return (f"consumed {s.consumed:,}, written {s.written:,}, buffered "
                f"{self.buffers.records():,}, duplicates {s.duplicates:,}, "
                f"not ttxt events {self.unparsed:,}")
