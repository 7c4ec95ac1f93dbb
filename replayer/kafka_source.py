"""Records out of Kafka: topics rewound to a time, read up to another, merged by exchange time.

Per partition the range is Kafka's own: from the first record whose timestamp is at or after
`since` (`offsets_for_times`) up to, not including, the first at or after `until` — or the end
of the partition when the replay starts. Kafka timestamps are milliseconds: a time is rounded
up to the next millisecond. No consumer group is used and nothing is committed.

Partitions are merged like files (`merge` rules: exchange time, stable, a partition's order
kept). Memory is bounded: a partition that runs ahead is paused while its queue is long.
"""

from __future__ import annotations

import heapq
import re
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from ttxt_kafka.admin import cluster_metadata
from ttxt_kafka.archive.ocf import FileRecord
from ttxt_kafka.archive.router import Router
from ttxt_kafka.bus.kafka_queue import start_with_retry
from ttxt_kafka.cluster import client_options

from .selection import Selection

_HIGH = 20_000  # records queued per partition before it is paused


def _ms_up(us: int) -> int:
    return -(-us // 1000)


class KafkaSource:
    def __init__(self, bootstrap: str, pattern: str, since: int,
                 selection: Selection | None = None, connect_timeout: float = 30.0) -> None:
        self.bootstrap = bootstrap
        self.pattern = re.compile(pattern)
        self.since = since
        self.selection = selection or Selection()
        self.connect_timeout = connect_timeout
        self.total = 0  # records in range, known once `records()` has started
        self.skipped = 0  # in range but not selected (symbol filter)
        self._router = Router()
        self._consumer: AIOKafkaConsumer | None = None
        self._ranges: dict[TopicPartition, tuple[int, int]] = {}

    async def open(self) -> None:
        """Connect and find, per partition, the offsets of [since, until)."""
        self._consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap,
                                          enable_auto_commit=False,
                                          max_partition_fetch_bytes=4 << 20,
                                          **client_options())
        await start_with_retry(self._consumer, self.bootstrap, self.connect_timeout)
        self._ranges = await self._find_ranges(self._consumer)
        self.total = sum(end - start for start, end in self._ranges.values())

    async def close(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None

    def source_partitions(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for tp in self._ranges:
            out[tp.topic] = max(out.get(tp.topic, 0), tp.partition + 1)
        return out

    async def records(self) -> AsyncIterator[FileRecord]:
        async for chunk in self.chunks():
            for record in chunk:
                yield record

    async def chunks(self) -> AsyncIterator[list[FileRecord]]:
        """The records in merged order, in lists (one per fetch round)."""
        consumer = self._consumer
        if consumer is None:
            raise RuntimeError("KafkaSource.open() first")
        if not self._ranges:
            return
        consumer.assign(list(self._ranges))
        for tp, (start, _) in self._ranges.items():
            consumer.seek(tp, start)
        async for chunk in self._merged(consumer, self._ranges):
            yield chunk

    async def _find_ranges(
        self, consumer: AIOKafkaConsumer
    ) -> dict[TopicPartition, tuple[int, int]]:
        metadata = await cluster_metadata(consumer)
        topics = sorted(t for t in metadata.topics()
                        if self.pattern.search(t) and self.selection.topic_ok(t))
        tps = [TopicPartition(t, p) for t in topics
               for p in sorted(metadata.partitions_for_topic(t) or ())]
        if not tps:
            return {}
        ends = await consumer.end_offsets(tps)
        starts = await consumer.offsets_for_times({tp: _ms_up(self.since) for tp in tps})
        until = self.selection.until
        stops = (await consumer.offsets_for_times({tp: _ms_up(until) for tp in tps})
                 if until is not None else {})
        out = {}
        for tp in tps:
            found = starts.get(tp)
            start = found.offset if found is not None else ends[tp]
            stop_at = stops.get(tp)
            end = min(ends[tp], stop_at.offset) if stop_at is not None else ends[tp]
            if start < end:
                out[tp] = (start, end)
        return out

    async def _merged(
        self, consumer: AIOKafkaConsumer, ranges: dict[TopicPartition, tuple[int, int]]
    ) -> AsyncIterator[list[FileRecord]]:
        order = {tp: i for i, tp in enumerate(sorted(ranges))}
        queues: dict[TopicPartition, deque[FileRecord]] = {tp: deque() for tp in ranges}
        done: set[TopicPartition] = set()
        while len(done) < len(ranges):
            await self._fill(consumer, ranges, queues, done)
            heap = [(q[0]["ts"], order[tp], tp) for tp, q in queues.items() if q]
            heapq.heapify(heap)
            out: list[FileRecord] = []
            # Emit while every unfinished partition has a head to compare with.
            while heap:
                _, _, tp = heap[0]
                q = queues[tp]
                out.append(q.popleft())
                if q:
                    heapq.heapreplace(heap, (q[0]["ts"], order[tp], tp))
                elif tp in done:
                    heapq.heappop(heap)
                else:
                    break  # this partition needs more records before anything else goes
            if out:
                yield out

    async def _fill(self, consumer: AIOKafkaConsumer,
                    ranges: dict[TopicPartition, tuple[int, int]],
                    queues: dict[TopicPartition, deque[FileRecord]],
                    done: set[TopicPartition]) -> None:
        """Fetch until every unfinished partition has at least one queued record."""
        route = self._router.route
        while starving := [tp for tp, q in queues.items() if not q and tp not in done]:
            for tp, q in queues.items():
                if tp in done or len(q) >= _HIGH:
                    consumer.pause(tp)
                else:
                    consumer.resume(tp)
            batches = await consumer.getmany(*starving, timeout_ms=500, max_records=10_000)
            for tp, records in batches.items():
                end = ranges[tp][1]
                q = queues[tp]
                for r in records:
                    if r.offset >= end:
                        break
                    self._take(r, route, q)
                if records and records[-1].offset + 1 >= end:
                    done.add(tp)
            for tp in starving:
                if tp not in done and await consumer.position(tp) >= ranges[tp][1]:
                    done.add(tp)  # control records or compaction left the range empty

    def _take(self, r: Any, route: Any, q: deque[FileRecord]) -> None:
        _, symbol, stored = route(r)
        if not self.selection.symbol_ok(symbol):
            self.skipped += 1
            return
        q.append(stored)
