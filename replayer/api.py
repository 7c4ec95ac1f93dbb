"""Replaying: a source (files or rewound topics), optional pacing, a sink.

In-process, with no Kafka at all:

    async for event in replay_events("data/", symbols=["BTC/USDT"], since=t0):
        strategy.on_event(event)

    await replay_to_queue(queue, FileSource(Path("data/")))    # any IQueue

or records as they were on Kafka (`FileRecord`: topic, partition, offset, timestamp, key,
headers, value bytes, plus exchange time and type), synchronously and fastest:

    for record in FileSource(Path("data/"), Selection.of(channels=["book"])): ...
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ttxt_kafka.archive.ocf import FileRecord
from ttxt_kafka.bus.interfaces import IQueue
from ttxt_kafka.codec import HEADER_LEN, CodecError
from ttxt_kafka.events import Event

from .files import FileSource
from .pace import MIN_SLEEP, Pacer
from .progress import Progress
from .selection import Selection
from .sinks import Decoder, QueueSink


class Source(Protocol):
    @property
    def total(self) -> int: ...

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    def records(self) -> AsyncIterator[FileRecord]: ...

    def chunks(self) -> AsyncIterator[list[FileRecord]]: ...

    def source_partitions(self) -> dict[str, int]: ...


class Sink(Protocol):
    async def put_many(self, records: list[FileRecord]) -> None: ...

    async def flush(self) -> None:
        """Deliver what is held back (called before the replay waits for pacing)."""

    async def close(self) -> None: ...


@dataclass
class ReplayStats:
    records: int = 0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0


async def run_replay(source: Source, sink: Sink, speed: float | None = None,
                     progress: Progress | None = None) -> ReplayStats:
    """Move every record of an opened source into a sink; closes the sink."""
    pacer = Pacer(speed)
    n = 0
    t0 = time.perf_counter()
    try:
        async for chunk in source.chunks():
            if speed is None:
                await sink.put_many(chunk)
            else:
                start = 0
                for i, record in enumerate(chunk):
                    delay = pacer.delay(record["ts"])
                    if delay > MIN_SLEEP:
                        await sink.put_many(chunk[start:i])
                        start = i
                        await sink.flush()  # what is due now goes out before the wait
                        await asyncio.sleep(delay)
                await sink.put_many(chunk[start:])
            n += len(chunk)
            if progress is not None:
                progress.update(n)
    finally:
        await sink.close()
    stats = ReplayStats(n, time.perf_counter() - t0)
    if progress is not None:
        progress.finish(n)
    return stats


def _file_source(directory: str | Path, venues: Iterable[str] | None,
                 symbols: Iterable[str] | None, channels: Iterable[str] | None,
                 since: int | None, until: int | None, skip_corrupt: bool) -> FileSource:
    selection = Selection.of(list(venues or ()), list(symbols or ()), list(channels or ()),
                             since, until)
    return FileSource(Path(directory), selection, skip_corrupt=skip_corrupt)


async def replay_events(directory: str | Path, *, venues: Iterable[str] | None = None,
                        symbols: Iterable[str] | None = None,
                        channels: Iterable[str] | None = None, since: int | None = None,
                        until: int | None = None, speed: float | None = None,
                        skip_corrupt: bool = False,
                        decoder: Decoder | None = None) -> AsyncIterator[Event]:
    """Typed events from recorded files, merged by exchange time (times in µs)."""
    source = _file_source(directory, venues, symbols, channels, since, until, skip_corrupt)
    decoder = decoder or Decoder()
    codec = decoder.codec
    decode = codec.decode
    pacer = Pacer(speed)
    head, fast = b"\x00", None  # the header of the last record decoded by a compiled function
    # This loop is what a backtest runs per event (issue 18 compares it with decoding alone):
    # records come as lean tuples (ts, value, offset, topic, partition), by chunks; a run of
    # records of one type goes straight to the function compiled for it (the codec's lookup
    # per record skipped), anything else through `codec.decode`.
    async for chunk in source.lean_chunks():
        for record in chunk:
            value = record[1]
            event = None
            if fast is not None and value is not None and value.startswith(head):
                try:
                    event = fast(value)
                except Exception:  # the general path below decides: same event or error
                    event = None
            if event is None:
                try:
                    event = decode(value or b"")
                except CodecError as exc:
                    decoder.failed(record[3], record[4], record[2], exc)
                    continue
                fast = codec.fast_decoder(value or b"")
                if fast is not None:
                    head = value[:HEADER_LEN]  # type: ignore[index]
            if speed is not None:
                await pacer.wait(record[0])
            yield event


async def replay_to_queue(queue: IQueue, source: Source, speed: float | None = None,
                          progress: Progress | None = None) -> ReplayStats:
    """Typed events into any IQueue (records that are not ttxt events are counted, skipped)."""
    await source.open()
    try:
        return await run_replay(source, QueueSink(queue), speed, progress)
    finally:
        await source.close()
