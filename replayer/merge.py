"""Merge ordered record streams into one, by exchange time, stable.

Each input is one partition of one ticker in its Kafka order. The output takes records by
exchange time (`ts`); equal times go in input order (inputs are numbered by stream, topic,
partition), and an input's own order is never changed — so if a partition's exchange times ever
step back, its records still come out in offset order (a book is never fed deltas out of order).

A heap holds the head of each input. After taking the smallest, the same input keeps going for
as long as its records stay before every other head: long runs cost no heap operation.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from ttxt_kafka.archive.ocf import FileRecord

# A record: a FileRecord, or the typed replay's lean tuple (`archive.values.Lean`).
R = TypeVar("R", bound=Any)


def merge_by_time(inputs: Iterable[Iterator[FileRecord]]) -> Iterator[FileRecord]:
    heap: list[tuple[int, int, FileRecord, Iterator[FileRecord]]] = []
    for i, it in enumerate(inputs):
        first = next(it, None)
        if first is not None:
            heap.append((first["ts"], i, first, it))
    heapq.heapify(heap)
    while len(heap) > 1:
        _, i, record, it = heap[0]
        yield record
        # The next-smallest head is one of the root's children.
        nts, ni = min(heap[1][:2], heap[2][:2]) if len(heap) > 2 else heap[1][:2]
        for record in it:
            ts = record["ts"]
            if ts < nts or (ts == nts and i < ni):
                yield record
                continue
            heapq.heapreplace(heap, (ts, i, record, it))
            break
        else:
            heapq.heappop(heap)
    if heap:
        yield heap[0][2]
        yield from heap[0][3]


def merge_runs(inputs: Iterable[Iterator[list[R]]], ts: Any = "ts") -> Iterator[list[R]]:
    """`merge_by_time` over inputs that come in lists (decoded blocks), giving lists back:
    the longest slice of the leading input's block that goes before every other head. The
    order is exactly `merge_by_time`'s; the work per record is a comparison, and a block that
    needs no interleaving is passed on whole. `ts`: where a record holds its exchange time
    (`record[ts]`: "ts" for a FileRecord, 0 for the replay's lean tuples)."""
    heap: list[tuple[int, int, list[R], int, Iterator[list[R]]]] = []
    for i, it in enumerate(inputs):
        block = next(it, None)
        if block:
            heap.append((block[0][ts], i, block, 0, it))
    heapq.heapify(heap)
    while len(heap) > 1:
        _, i, block, pos, it = heapq.heappop(heap)
        nts, ni = heap[0][0], heap[0][1]
        end = pos + 1  # the head itself is the smallest
        n = len(block)
        while end < n:
            t = block[end][ts]
            if t > nts or (t == nts and i > ni):
                break
            end += 1
        yield block if pos == 0 and end == n else block[pos:end]
        if end < n:
            heapq.heappush(heap, (block[end][ts], i, block, end, it))
        else:
            nxt = next(it, None)
            if nxt:
                heapq.heappush(heap, (nxt[0][ts], i, nxt, 0, it))
    if heap:
        _, _, block, pos, it = heap[0]
        yield block[pos:] if pos else block
        for block in it:
            if block:
                yield block
