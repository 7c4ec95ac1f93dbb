"""Records out of a recorder directory: selected by index, read in large chunks, in order.

The unit is a chain: every block of one (stream, topic, partition) across the stream's files,
in offset order — one partition of one ticker, exactly the order it had on Kafka. The index
lines pick the blocks (venue and channel from the topic, symbol from the stream, time from the
block's span) so unselected blocks are never read. A chain reads runs of its blocks that lie
close together in a file with one `pread` of up to `chunk_bytes`, and holds one decoded block at
a time: memory is about chains x (chunk + block), whatever the file sizes.

A block that does not parse (bad sync marker, bad compression, wrong record count) raises
`CorruptBlockError` naming the file and the byte where the block starts; with `skip_corrupt`
the block is counted in `stats.corrupt_blocks` and the chain goes on with the next block (the
index says where it starts; for a file without an index the scan resynchronizes on the sync
marker).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from itertools import chain as chain_records
from pathlib import Path
from typing import Any

from ttxt_kafka.archive.files import FileInfo, list_files, scan_file
from ttxt_kafka.archive.index import BlockEntry
from ttxt_kafka.archive.ocf import FileHeader, FileRecord, FormatError, decode_records, parse_block
from ttxt_kafka.archive.values import Lean, decode_lean

from .merge import merge_runs
from .selection import Selection

log = logging.getLogger(__name__)

CHUNK_RECORDS = 4096
DEFAULT_MEMORY = 64 << 20  # read buffers of all chains together
MIN_CHUNK, MAX_CHUNK = 64 << 10, 4 << 20


class CorruptBlockError(Exception):
    def __init__(self, path: Path, pos: int, reason: str) -> None:
        super().__init__(f"{path}: corrupt block at byte {pos}: {reason} "
                         f"(replay with --skip-corrupt to skip such blocks and count them)")
        self.path = path
        self.pos = pos


@dataclass
class FileStats:
    files: int = 0
    blocks: int = 0  # selected
    corrupt_blocks: int = 0
    records_read: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Block:
    path: Path
    header: FileHeader
    entry: BlockEntry


@dataclass
class Chain:
    """The selected blocks of one (stream, topic, partition), in offset order."""

    stream: str
    topic: str
    partition: int
    blocks: list[_Block]

    @property
    def count(self) -> int:
        return sum(b.entry.count for b in self.blocks)


class FileSource:
    """Select blocks from a directory; `chains()` and `iter_chain()` read them."""

    def __init__(self, directory: Path, selection: Selection | None = None,
                 skip_corrupt: bool = False, memory_bytes: int = DEFAULT_MEMORY) -> None:
        if not directory.is_dir():
            raise FileNotFoundError(f"{directory} is not a directory")
        self.directory = directory
        self.selection = selection or Selection()
        self.skip_corrupt = skip_corrupt
        self.memory_bytes = memory_bytes
        self.stats = FileStats()
        # What the directory holds, whatever the selection: (min ts, max ts) in µs, records,
        # streams (to say what there is when nothing matched).
        self.span: tuple[int, int] | None = None
        self.available = 0
        self.streams: set[str] = set()
        self._total: int | None = None
        self._chains = self._select()

    def _select(self) -> list[Chain]:
        sel = self.selection
        chains: dict[tuple[str, str, int], list[_Block]] = {}
        for path in list_files(self.directory):
            info = scan_file(path)  # read-only: the recorder is the one that repairs
            if info is None or info.header is None:
                self._problem(path, 0, "unreadable header", info)
                continue
            self._note_damage(info)
            self.stats.files += 1
            self.streams.add(info.stream)
            for e in info.entries:
                self.available += e.count
                lo, hi = self.span or (e.min_ts, e.max_ts)
                self.span = (min(lo, e.min_ts), max(hi, e.max_ts))
                if not (sel.span_ok(e.min_ts, e.max_ts) and sel.topic_ok(e.topic)
                        and sel.stream_ok(info.stream, e.topic)):
                    continue
                chains.setdefault((info.stream, e.topic, e.partition), []).append(
                    _Block(path, info.header, e))
        out = []
        for (stream, topic, partition), blocks in sorted(chains.items()):
            blocks.sort(key=lambda b: b.entry.first_offset)
            out.append(Chain(stream, topic, partition, blocks))
            self.stats.blocks += len(blocks)
        return out

    def _problem(self, path: Path, pos: int, reason: str, info: FileInfo | None) -> None:
        if not self.skip_corrupt:
            raise CorruptBlockError(path, pos, reason)
        self.stats.corrupt_blocks += 1
        self.stats.problems.append(f"{path}: {reason}")
        log.error("skipping %s: %s", path, reason)

    def _note_damage(self, info: FileInfo) -> None:
        # Found by the scan (a file without a usable index): raise now or count.
        for pos, what in info.damage:
            self._problem(info.path, pos, what, info)
        if info.torn_bytes:
            log.warning("%s: %d bytes after the last complete block are ignored (a file being "
                        "written, or torn by a crash: the recorder cuts it on restart)",
                        info.path, info.torn_bytes)

    def chains(self) -> list[Chain]:
        return self._chains

    def __iter__(self) -> Iterator[FileRecord]:
        """Every selected record, merged by exchange time (see `merge`)."""
        return chain_records.from_iterable(self.runs())

    def runs(self) -> Iterator[list[FileRecord]]:
        """The merged records as slices of decoded blocks (see `merge.merge_runs`)."""
        return merge_runs([self.iter_chain_blocks(c) for c in self._chains])

    def lean_runs(self) -> Iterator[list[Lean]]:
        """`runs()` as `Lean` tuples (ts, value, offset, topic, partition): the same records
        in the same order, read without building the fields a typed replay never looks at."""
        return merge_runs([self.iter_chain_blocks(c, lean=True) for c in self._chains], ts=0)

    async def open(self) -> None:
        """Nothing to do: the selection is made in the constructor (same API as KafkaSource)."""

    async def close(self) -> None:
        pass

    async def records(self) -> AsyncIterator[FileRecord]:
        """`iter(self)` for async code; lets other tasks run every few thousand records."""
        async for chunk in self.chunks():
            for record in chunk:
                yield record

    async def chunks(self, size: int = CHUNK_RECORDS) -> AsyncIterator[list[FileRecord]]:
        """`iter(self)` in lists of about `size` records (other tasks run in between):
        per-record costs of async iteration are paid once per list. (Reading the next list in
        a worker thread was tried: decoding holds the GIL, so it only slowed things down.)"""
        for chunk in self._lists(size):
            yield chunk
            await asyncio.sleep(0)

    async def lean_chunks(self, size: int = CHUNK_RECORDS) -> AsyncIterator[list[Lean]]:
        """`chunks()` as `Lean` tuples (see `lean_runs`)."""
        for chunk in self._lists(size, lean=True):
            yield chunk
            await asyncio.sleep(0)

    def _lists(self, size: int, lean: bool = False) -> Iterator[list[Any]]:
        chunk: list[Any] = []
        for run in self.lean_runs() if lean else self.runs():
            if not chunk and len(run) >= size:
                yield run  # a whole block: no copy
                continue
            chunk.extend(run)
            if len(chunk) >= size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def source_partitions(self) -> dict[str, int]:
        """Topic -> number of partitions seen in the selection (highest partition + 1)."""
        out: dict[str, int] = {}
        for c in self._chains:
            out[c.topic] = max(out.get(c.topic, 0), c.partition + 1)
        return out

    @property
    def total(self) -> int:
        """The records that will be replayed: those of the selected blocks, where a time range
        cuts a block, counted by reading it (computed once)."""
        if self._total is None:
            self._total = sum(self._count(c) for c in self._chains)
        return self._total

    def _in_range(self, e: BlockEntry) -> bool:
        since, until = self.selection.since, self.selection.until
        return (since is None or e.min_ts >= since) and (until is None or e.max_ts < until)

    def _count(self, chain: Chain) -> int:
        whole = sum(b.entry.count for b in chain.blocks if self._in_range(b.entry))
        cut = [b for b in chain.blocks if not self._in_range(b.entry)]
        if not cut:
            return whole
        since, until = self.selection.since, self.selection.until
        saved = (self.stats.records_read, self.stats.corrupt_blocks, list(self.stats.problems))
        try:
            part = Chain(chain.stream, chain.topic, chain.partition, cut)
            kept = sum(1 for _, records in self._blocks(part) for r in records
                       if (since is None or r["ts"] >= since)
                       and (until is None or r["ts"] < until))
        finally:  # read again when replayed: counted (and reported) then
            self.stats.records_read, self.stats.corrupt_blocks, self.stats.problems = saved
        return whole + kept

    def chunk_bytes(self) -> int:
        per_chain = self.memory_bytes // max(1, len(self._chains))
        return max(MIN_CHUNK, min(MAX_CHUNK, per_chain))

    def iter_chain(self, chain: Chain) -> Iterator[FileRecord]:
        """The selected records of a chain, in offset order."""
        return chain_records.from_iterable(self.iter_chain_blocks(chain))

    def iter_chain_blocks(self, chain: Chain, lean: bool = False) -> Iterator[list[Any]]:
        """The selected records of a chain, block by block (no empty lists): FileRecords, or
        with `lean` `Lean` tuples."""
        since, until = self.selection.since, self.selection.until
        ts: Any = 0 if lean else "ts"
        for block, records in self._blocks(chain, lean):
            if self._in_range(block.entry):
                yield records  # the whole block is in range
            else:
                kept = [r for r in records
                        if (since is None or r[ts] >= since)
                        and (until is None or r[ts] < until)]
                if kept:
                    yield kept

    def _blocks(self, chain: Chain, lean: bool = False) -> Iterator[tuple[_Block, list[Any]]]:
        limit = self.chunk_bytes()
        blocks = chain.blocks
        i = 0
        fd: int | None = None
        fd_path: Path | None = None
        try:
            while i < len(blocks):
                first = blocks[i]
                # A run of this chain's blocks in the same file within one chunk.
                j = i + 1
                while (j < len(blocks) and blocks[j].path == first.path
                       and blocks[j].entry.end - first.entry.pos <= limit
                       and blocks[j].entry.pos > blocks[j - 1].entry.pos):
                    j += 1
                if fd is None or fd_path != first.path:
                    if fd is not None:
                        os.close(fd)
                    fd, fd_path = os.open(first.path, os.O_RDONLY), first.path
                start = first.entry.pos
                chunk = os.pread(fd, blocks[j - 1].entry.end - start, start)
                for b in blocks[i:j]:
                    records = self._decode(b, chunk, b.entry.pos - start, lean)
                    if records is not None:
                        self.stats.records_read += len(records)
                        yield b, records
                i = j
        finally:
            if fd is not None:
                os.close(fd)

    def _decode(self, b: _Block, chunk: bytes, at: int, lean: bool = False) -> list[Any] | None:
        e = b.entry
        try:
            raw = parse_block(memoryview(chunk), at, b.header.sync)
            if raw.end - at != e.end - e.pos:
                raise FormatError(f"block is {raw.end - at} bytes, the index says "
                                  f"{e.end - e.pos}")
            records: list[Any]
            if lean:
                records = decode_lean(raw, b.header.codec)
                first, last = records[0][2], records[-1][2]
            else:
                records = decode_records(raw, b.header.codec)
                first, last = records[0]["offset"], records[-1]["offset"]
            if first != e.first_offset or last != e.last_offset:
                raise FormatError("records do not match the index (offsets differ)")
        except (FormatError, IndexError) as exc:
            self._problem(b.path, e.pos, f"{type(exc).__name__}: {exc}", None)
            return None
        return records
