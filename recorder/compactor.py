"""Kafka records in, durable blocks out: routing, de-duplication, buffering, writing.

No Kafka client here — the service feeds it what the consumer fetched and commits what it says
is durable; a benchmark or a test can feed it just the same.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import TopicPartition

from ttxt_kafka.archive.encoder import _SMALL, RecordEncoder, symbol_from_key, zz_long
from ttxt_kafka.archive.ocf import FormatError, decode_long
from ttxt_kafka.archive.router import Router

from .buffers import BlockBuffer, Buffers, FlushPolicy
from .writer import ArchiveWriter

try:  # the fast way's usual records in C (`_ingest.c`); without a compiler, all in Python
    from ._ingest import run as _native_run
    from ._ingest import set_record_type as _set_record_type
except ImportError:
    _native_run = None  # type: ignore[assignment]
NATIVE = _native_run is not None
if NATIVE:
    with contextlib.suppress(ImportError):  # the batch reader's records: fields by index
        from ._batches import KafkaRecord

        if KafkaRecord.__match_args__ == ("offset", "timestamp", "key", "value", "headers"):
            _set_record_type(KafkaRecord)

log = logging.getLogger(__name__)

# What the fast way knows of a ticker, by record key: the value's bytes up to the exchange
# time (fingerprint, venue, symbol, native symbol), the Kafka headers, where the exchange time
# starts, the body check and where the body starts, the buffer key, and the file record's
# constant parts (type, topic, partition; key, headers and the value's union branch).
_Route = tuple[bytes, Any, int, Any, int, tuple[str, str, int], bytes, bytes]
_MAX_ROUTES = 100_000  # keys per partition (a partition's tickers)


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
        self.peeker = self.router.peeker
        self.peek_raw = self.peeker.peek_raw
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
        # Per partition: the highest offset written or buffered in any stream (a batch that
        # starts above it holds no duplicate), and the fast way's routes by record key.
        self._floor: dict[TopicPartition, int] = {}
        self._routes: dict[TopicPartition, dict[Any, _Route]] = {}
        self.native = NATIVE  # the fast way's usual records in C (tests turn it off to compare)

    def open(self) -> Compactor:
        """Lock the directory, repair it, learn what it already holds."""
        self.writer.open()
        self._seen = dict(self.writer.high_water)
        self._floor.clear()
        return self

    def close(self) -> None:
        self.writer.close()

    def ingest(self, tp: TopicPartition, records: Sequence[Any], now: float) -> None:
        """Route a partition's fetched records (aiokafka ConsumerRecords, offset order) into
        their buffers, dropping the ones the files already hold.

        The hot path of the recorder. A record of a ticker seen before (same key, same value
        header — fingerprint, venue, symbol, native symbol — same Kafka headers) goes the fast
        way (`_ingest_fast`): one dict lookup by key gives its stream and the encoded constant
        parts of its file record. Anything else — the first record of a ticker, records that
        may already be in the files (re-read after a restart or a rebalance), records that are
        not events — goes through `_ingest_slow`, which reads each record's header (`peek_raw`)
        and teaches the fast way its ticker."""
        if not records:
            return
        first = records[0].offset
        floor = self._floor.get(tp)
        if floor is None:
            floor = self._floor[tp] = max(
                (off for (_, topic, part), off in self._seen.items()
                 if topic == tp.topic and part == tp.partition), default=-1)
        if first > floor:
            # Every record of the batch is past everything written or buffered for this
            # partition, in any stream: none can be a duplicate.
            duplicates, unparsed = 0, self._ingest_fast(tp, records, now)
        else:
            duplicates, unparsed = self._ingest_slow(tp, records, now)
        last = records[-1].offset
        if last > floor:
            self._floor[tp] = last
        prev = self.next_offsets.get(tp)
        if prev is not None and first > prev:
            # Not ours to fix, but worth saying: the topic no longer holds them (retention
            # ran first: its clock is the record timestamp), or compaction/transactions.
            log.info("%s[%d]: offsets %d..%d are not in the topic (deleted by retention "
                     "before they were read?)", tp.topic, tp.partition, prev, first - 1)
        stats = self.stats
        stats.consumed += len(records)
        by_topic = stats.consumed_by_topic
        by_topic[tp.topic] = by_topic.get(tp.topic, 0) + len(records)
        stats.duplicates += duplicates
        self.unparsed += unparsed
        stats.unparsed = self.unparsed
        self.next_offsets[tp] = last + 1

    def _ingest_fast(self, tp: TopicPartition, records: Sequence[Any], now: float) -> int:
        """Records known not to be duplicates. Per record: the route by key, a prefix and a
        headers comparison, the exchange time's varint, the body check, seven byte strings
        appended to the block. The buffer's counters live in locals while consecutive records
        go to the same buffer (the usual case: one ticker per partition). Returns how many
        records were not ttxt events.

        Where it was compiled, `_ingest.run` takes the records that follow while they are the
        usual case of the current route and buffer (and stops after the one filling the block):
        the same effects as this loop's, byte for byte. The loop handles the rest, as before."""
        routes = self._routes.get(tp)
        if routes is None:
            routes = self._routes[tp] = {}
        get_route = routes.get
        buffers = self.buffers
        open_buffers = buffers.open
        block_size = buffers.policy.block_size
        block_bytes = buffers.policy.block_bytes
        seen = self._seen
        from_le = int.from_bytes
        small = _SMALL
        unparsed = added = 0
        cur: _Route | None = None
        buf: BlockBuffer | None = None
        # The current buffer's state, in locals (stored back in `flush`).
        prefix = b""
        headers: Any = None
        p = body = count = nbytes = lo = hi = last = 0
        check: Any = None
        bkey: tuple[str, str, int] = ("", "", 0)
        const_a = const_b = b""
        extend: Any = None
        last_ms: int | None = None
        ms_bytes = b""
        run = _native_run if self.native else None
        cur_key: Any = None
        i, n_records = 0, len(records)

        def flush() -> None:
            if buf is not None:
                buf.count, buf.nbytes, buf.min_ts, buf.max_ts, buf.last_offset = (
                    count, nbytes, lo, hi, last)
                seen[bkey] = last

        while i < n_records:
            if run is not None and buf is not None:
                (i, count, nbytes, lo, hi, last, got, last_ms, ms_bytes, full) = run(
                    records, i, cur_key, prefix, headers, p, check, body, const_a, const_b,
                    buf.parts, count, nbytes, lo, hi, last, last_ms, ms_bytes, block_size,
                    block_bytes)
                added += got
                if full:
                    flush()
                    buffers.seal(bkey)
                    buf = None
                if i >= n_records:
                    break
            r = records[i]
            i += 1
            value = r.value
            route = get_route(r.key)
            if route is not cur:
                flush()
                if route is None:
                    cur = buf = None
                else:
                    cur = route
                    cur_key = r.key
                    prefix, headers, p, check, body, bkey, const_a, const_b = route
                    buf = open_buffers.get(bkey)
                    if buf is not None:
                        count, nbytes, lo, hi, last = (buf.count, buf.nbytes, buf.min_ts,
                                                       buf.max_ts, buf.last_offset)
                        extend = buf.parts.extend
            if (cur is None or value is None or not value.startswith(prefix)
                    or r.headers != headers):
                flush()
                cur = buf = None
                unparsed += self._ingest_slow(tp, (r,), now)[1]
                continue
            # The exchange time: the usual 8-byte varint (microseconds, years 1978-2541)
            # unpacked in one go, anything else by the general decoder.
            x = from_le(value[p:p + 8], "little")
            if x & 0x8080808080808080 == 0x0080808080808080:
                x &= 0x7F7F7F7F7F7F7F7F
                x = (x & 0x007F007F007F007F) | ((x >> 1) & 0x3F803F803F803F80)
                x = (x & 0x00003FFF00003FFF) | ((x >> 2) & 0x0FFFC0000FFFC000)
                x = (x & 0x000000000FFFFFFF) | ((x >> 4) & 0x00FFFFFFF0000000)
                ts = (x >> 1) ^ -(x & 1)
                end = p + 8
            else:
                try:
                    ts, end = decode_long(value, p)
                except (IndexError, FormatError):
                    end = -1
            if end < 0 or not check(value, body):
                # Not an event after all (cut short, or bytes after its end: stored raw), or
                # one the regular expression cannot tell: the old way decides.
                flush()
                cur = buf = None
                unparsed += self._ingest_slow(tp, (r,), now)[1]
                continue
            offset = r.offset
            if buf is None:
                buf = open_buffers[bkey] = BlockBuffer(bkey[0], tp, now, offset, ts, ts, ts)
                count = nbytes = 0
                lo = hi = ts
                extend = buf.parts.extend
            timestamp = r.timestamp or 0
            if timestamp != last_ms:
                last_ms, ms_bytes = timestamp, zz_long(timestamp)
            n = len(value)
            extend((value[p:end], const_a, zz_long(offset), ms_bytes, const_b,
                    small[n << 1] if n < 0x2000 else zz_long(n), value))
            count += 1
            last = offset
            if ts < lo:
                lo = ts
            elif ts > hi:
                hi = ts
            n += 64
            nbytes += n
            added += n
            if count >= block_size or nbytes >= block_bytes:
                flush()
                buffers.seal(bkey)
                buf = None
        flush()
        buffers.nbytes += added
        return unparsed

    def _ingest_slow(self, tp: TopicPartition, records: Sequence[Any], now: float
                     ) -> tuple[int, int]:
        """Record by record, each one's header read (`peek_raw`) and checked against what
        the files hold; teaches `_ingest_fast` the tickers it meets. Returns (duplicates,
        records that are not ttxt events)."""
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
        routes = self._routes.get(tp)
        if routes is None:
            routes = self._routes[tp] = {}
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
                self._say_unparsed(tp, r)
            key = streams.get(symbol)
            if key is None:
                key = streams[symbol] = (stream_of(topic, symbol), topic, partition)
            if peeked is not None and len(routes) < _MAX_ROUTES:
                self._learn(routes, r, t0, key, type_bytes(kind) + tp_bytes)
            if offset <= seen.get(key, -1):
                duplicates += 1
                continue
            seen[key] = offset
            nbytes = 64 + (len(value) if value else 0)
            buf = open_buffers.get(key)
            if buf is None:
                buf = open_buffers[key] = BlockBuffer(key[0], tp, now, offset, ts, ts, ts)
            # Seven parts per record, as `_ingest_fast` appends them.
            buf.parts.extend((ts_bytes, type_bytes(kind), tp_bytes, zz_long(offset),
                              zz_long(timestamp), key_bytes(r.key) + headers_bytes(r.headers),
                              b"\x00" if value is None else b"\x02" + zz_long(len(value)),
                              value or b""))
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
        return duplicates, unparsed

    def _learn(self, routes: dict[Any, _Route], record: Any, ts_at: int,
               bkey: tuple[str, str, int], const_a: bytes) -> None:
        """Remember, for the record's key, what the fast way needs to file the next records
        of the same ticker without reading their header again."""
        value = record.value
        known = routes.get(record.key)
        if known is not None and value.startswith(known[0]) and known[1] == record.headers:
            return
        try:
            hash(record.key)
            hash(record.headers)
        except TypeError:
            return
        check, body = self.peeker.body_check(value)
        # The body check's regular expression alone where it has one: a body it rejects (a
        # string over 63 bytes, a block of over 63 levels, or a broken one) goes the old way,
        # whose full check decides.
        check = getattr(check, "fullmatch", check)
        enc = self.encoder
        routes[record.key] = (value[:ts_at], record.headers, ts_at, check, body, bkey, const_a,
                              enc.key_bytes(record.key) + enc.headers_bytes(record.headers)
                              + b"\x02")

    def _say_unparsed(self, tp: TopicPartition, record: Any) -> None:
        n = self.unparsed + 1
        if n <= 10 or n % 1000 == 0:  # rate-limited
            log.warning("%s[%d]@%d is not a ttxt event (%d so far): kept as raw bytes",
                        tp.topic, tp.partition, record.offset, n)

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
