"""Prepare a newly assigned partition before its first live record: books rebuilt from the
last snapshots (book topics), the strategy's own state warmed up (other topics).

Books. The rule. When the group gives an instance a partition of a `book` topic, and the instance
will read it from offset S (the group's committed offset, or where `auto_offset_reset` puts a
new group), then for every wanted symbol on that partition:

1. Scan back from S in chunks (1,000 records, doubling) and find the symbol's latest
   SNAPSHOT before S. Stop scanning when every wanted symbol that hashes to the partition has
   one, when a whole chunk is older than `lookback` (2 x the connectors' snapshot interval,
   measured on the record timestamps, i.e. exchange time, from the newest record before S:
   every live book has had a periodic snapshot since), at the partition's first offset, or
   after `max_scan` records.
2. Replay forward from the earliest snapshot found to S, applying to each symbol its snapshot
   and then its deltas — book state only: no handler runs for these records, the previous owner
   already acted on them (their offsets were committed).
3. From S on the events are live: books keep updating and handlers run.

A symbol without a snapshot in the window has no book: its deltas are ignored and its market
data held back from the handlers until the connector's next snapshot (at most one snapshot
interval later). A symbol is never acted upon before its book is ready.

Warm-up (other topics, when the strategy sets `warmup` seconds): the records of the last
`warmup` seconds before S (by record timestamp, found with `offsets_for_times` from the newest
record before S) go through the handlers with their output dropped — the previous owner sent
it already. A candle aggregator so rebuilds the candles open at S and emits them complete.

Records are read with a separate consumer outside the group (assign + seek), so the group
consumer's position stays at S. Memory stays bounded: chunks are read, used and dropped.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.partitioner import murmur2

from ttxt_kafka.bus import KafkaQueue
from ttxt_kafka.bus.kafka_queue import decode_record, fetch_writer_schema, start_with_retry
from ttxt_kafka.cluster import client_options
from ttxt_kafka.codec import Codec, CodecError
from ttxt_kafka.events import Event, OrderBook
from ttxt_kafka.topics import TYPE_HEADER

log = logging.getLogger(__name__)

_BOOK_TYPE = OrderBook.SCHEMA.encode()


def partition_of(symbol: str, partitions: int) -> int:
    """The partition Kafka's default partitioner (Java's, and aiokafka's) gives a key."""
    return (murmur2(symbol.encode()) & 0x7FFFFFFF) % partitions


@dataclass
class RebuildReport:
    topic: str
    partition: int
    start: int  # S: the first live offset
    snapshots: dict[str, int] = field(default_factory=dict)  # symbol -> snapshot offset used
    missing: list[str] = field(default_factory=list)  # expected here, no snapshot in the window
    scanned: int = 0
    replayed: int = 0
    seconds: float = 0.0


class BookRebuilder:
    def __init__(
        self,
        reader: AIOKafkaConsumer,
        codec: Codec,
        wants_symbol: Callable[[str], bool],
        symbols: frozenset[str],
        lookback_ms: int,
        chunk: int = 1000,
        max_scan: int = 5_000_000,
    ) -> None:
        self.reader = reader
        self.codec = codec
        self.wants_symbol = wants_symbol
        self.symbols = symbols  # the strategy's explicit symbols (empty: all)
        self.lookback_ms = lookback_ms
        self.chunk = chunk
        self.max_scan = max_scan
        self.malformed = 0

    async def rebuild(self, tp: TopicPartition, start: int,
                      apply: Callable[[Event], Awaitable[object]]) -> RebuildReport:
        t0 = time.monotonic()
        report = RebuildReport(tp.topic, tp.partition, start)
        expected = self._expected(tp)
        if expected is not None and not expected:
            return report  # none of the strategy's symbols lives on this partition
        self.reader.assign([tp])
        first = (await self.reader.beginning_offsets([tp]))[tp]
        found = await self._scan_back(tp, first, start, expected, report)
        report.snapshots = found
        report.missing = sorted((expected or set()) - set(found))
        if found:
            await self._replay(tp, min(found.values()), start, found, apply, report)
        report.seconds = time.monotonic() - t0
        return report

    def _expected(self, tp: TopicPartition) -> set[str] | None:
        """The explicit symbols that hash to this partition (None: all symbols are wanted)."""
        if not self.symbols:
            return None
        n = len(self.reader.partitions_for_topic(tp.topic) or ())
        if not n:
            return set(self.symbols)
        return {s for s in self.symbols if partition_of(s, n) == tp.partition}

    async def _scan_back(self, tp: TopicPartition, first: int, start: int,
                         expected: set[str] | None, report: RebuildReport) -> dict[str, int]:
        found: dict[str, int] = {}
        newest_ts: int | None = None
        end, size = start, self.chunk
        while end > first:
            begin = max(first, end - size)
            records = await self._read(tp, begin, end)
            report.scanned += len(records)
            latest_here: dict[str, int] = {}
            for r in records:
                symbol = (r.key or b"").decode(errors="replace")
                if symbol in found or not self.wants_symbol(symbol) or not self._is_book(r):
                    continue
                event = await self._decode(r)
                if isinstance(event, OrderBook) and event.is_snapshot:
                    latest_here[symbol] = r.offset  # records ascend: the last one wins
            found.update(latest_here)  # earlier chunks never override a later snapshot
            chunk_ts = max((r.timestamp for r in records), default=None)
            if newest_ts is None:
                newest_ts = chunk_ts
            if expected is not None and expected <= found.keys():
                break
            if (chunk_ts is not None and newest_ts is not None
                    and chunk_ts < newest_ts - self.lookback_ms):
                break
            if report.scanned >= self.max_scan:
                log.warning("%s[%d]: no snapshot for %s within %d records before offset %d",
                            tp.topic, tp.partition,
                            sorted((expected or set()) - found.keys()) or "some symbols",
                            report.scanned, start)
                break
            end, size = begin, min(size * 2, 64_000)
        return found

    async def warm_up(self, tp: TopicPartition, start: int, window_ms: int,
                      apply: Callable[[Event], Awaitable[object]]) -> int:
        """Feed the records of the last `window_ms` before `start` to `apply`; how many."""
        self.reader.assign([tp])
        first = (await self.reader.beginning_offsets([tp]))[tp]
        if start <= first:
            return 0
        newest = await self._read(tp, start - 1, start)
        if not newest:
            return 0
        since = (await self.reader.offsets_for_times({tp: newest[-1].timestamp - window_ms}))
        begin = since[tp].offset if since.get(tp) is not None else first
        count, step = 0, 10_000
        for lo in range(max(begin, first), start, step):
            for r in await self._read(tp, lo, min(lo + step, start)):
                event = await self._decode(r)
                if event is not None:
                    await apply(event)
                    count += 1
        return count

    async def _replay(self, tp: TopicPartition, begin: int, start: int, found: dict[str, int],
                      apply: Callable[[Event], Awaitable[object]], report: RebuildReport) -> None:
        step = 10_000
        for lo in range(begin, start, step):
            for r in await self._read(tp, lo, min(lo + step, start)):
                symbol = (r.key or b"").decode(errors="replace")
                since = found.get(symbol)
                if since is None or r.offset < since:
                    continue
                event = await self._decode(r)
                if event is not None:
                    await apply(event)
                    report.replayed += 1

    def _is_book(self, record: ConsumerRecord[bytes, bytes]) -> bool:
        for key, value in record.headers or ():
            if key == TYPE_HEADER:
                return value == _BOOK_TYPE
        return True  # no type header: decode to find out

    async def _decode(self, record: ConsumerRecord[bytes, bytes]) -> Event | None:
        await fetch_writer_schema(self.codec, record.value)
        try:
            return decode_record(self.codec, record)
        except CodecError:  # undecodable, or not of the book topic's channel
            self.malformed += 1
            return None

    async def _read(self, tp: TopicPartition, begin: int, end: int,
                    timeout: float = 30.0) -> list[ConsumerRecord[bytes, bytes]]:
        """The records of [begin, end) of one partition (gaps, e.g. compaction, allowed)."""
        self.reader.seek(tp, begin)
        out: list[ConsumerRecord[bytes, bytes]] = []
        deadline = time.monotonic() + timeout
        while await self.reader.position(tp) < end:
            batch = await self.reader.getmany(tp, timeout_ms=200, max_records=10_000)
            records = batch.get(tp, [])
            out.extend(r for r in records if r.offset < end)
            if records and records[-1].offset >= end - 1:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(f"reading {tp.topic}[{tp.partition}] {begin}..{end} "
                                   f"took over {timeout}s")
        return out


async def seek_to_latest_snapshots(queue: KafkaQueue, *, lookback_s: float = 120.0,
                                   timeout: float = 30.0) -> dict[TopicPartition, int]:
    """A late joiner's start for a `KafkaQueue` reading book topics: once the group has
    assigned partitions, move each one back to the earliest of its symbols' latest snapshots
    before the start position, so every `Book` gets its snapshot at once instead of at the
    connector's next periodic one (up to `snapshot_interval` later). Deltas in between are
    read again (books are rebuilt from them). Returns the offsets moved to."""
    assigned = await queue.wait_assigned(timeout)
    reader = AIOKafkaConsumer(bootstrap_servers=queue.bootstrap_servers,
                              enable_auto_commit=False, fetch_max_wait_ms=20,
                              **client_options())
    await start_with_retry(reader, queue.bootstrap_servers, timeout)
    moved: dict[TopicPartition, int] = {}
    try:
        rebuilder = BookRebuilder(reader, queue.codec, lambda _symbol: True, frozenset(),
                                  lookback_ms=int(lookback_s * 1000))
        for tp in sorted(assigned, key=lambda tp: (tp.topic, tp.partition)):
            start = await queue.position(tp)
            reader.assign([tp])
            first = (await reader.beginning_offsets([tp]))[tp]
            report = RebuildReport(tp.topic, tp.partition, start)
            found = await rebuilder._scan_back(tp, first, start, None, report)  # noqa: SLF001
            if found:
                moved[tp] = min(found.values())
    finally:
        await reader.stop()
    if moved:
        queue.seek(moved)
    return moved
