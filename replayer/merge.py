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

from recorder.ocf import FileRecord


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
