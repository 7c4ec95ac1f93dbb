"""The recorder's side of the output directory: recovery at start, then blocks in, fsync.

One writer per directory, enforced with an exclusive lock on `<dir>/.lock` (released by the
kernel if the process dies). At start every file is scanned and repaired (`archive.scan_file`),
which yields the highest offset already written per (stream, topic, partition): records at or
below it are not written again. Each stream then continues in its most recently created file
when that file is healthy and has the requested codec, else in a new file.
"""

from __future__ import annotations

import fcntl
import logging
import os
import time
from collections import OrderedDict
from pathlib import Path

from ttxt_kafka.archive.files import FileInfo, high_water_marks, list_files, scan_file
from ttxt_kafka.archive.index import BlockEntry
from ttxt_kafka.archive.ocf import (
    DEFAULT_CODEC,
    META_CREATED,
    SYNC_SIZE,
    FileRecord,
    check_codec,
    encode_block,
    frame_block,
)

from .buffers import BlockBuffer
from .rotation import RotatePolicy
from .streamfile import StreamFile

log = logging.getLogger(__name__)

LOCK_NAME = ".lock"


class DirectoryLockedError(RuntimeError):
    pass


class ArchiveWriter:
    def __init__(self, directory: Path, codec: str = DEFAULT_CODEC,
                 policy: RotatePolicy | None = None, max_open: int = 256) -> None:
        self.directory = directory
        self.codec = check_codec(codec)
        self.policy = policy or RotatePolicy()
        self.high_water: dict[tuple[str, str, int], int] = {}
        self.files_created = 0
        self.blocks_written = 0
        self.bytes_written = 0
        self.repaired: list[str] = []
        # Every stream's current file; at most `max_open` of them hold file descriptors (a
        # recorder of a whole exchange has thousands of tickers), least recently used first.
        self._files: dict[str, StreamFile] = {}
        self._open_lru: OrderedDict[str, StreamFile] = OrderedDict()
        self.max_open = max(1, max_open)
        self._resume: dict[str, FileInfo] = {}  # stream -> file to continue, until first block
        self._dirty: set[StreamFile] = set()
        self._lock_fd: int | None = None

    # ------------------------------------------------------------------ lifecycle

    def open(self) -> ArchiveWriter:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock()
        infos: list[FileInfo] = []
        for path in list_files(self.directory):
            info = scan_file(path, repair=True)
            if info is None:
                self.repaired.append(f"{path.name}: removed (incomplete header)")
                continue
            if info.damage:
                log.error("%s is damaged, new records go to a new file: %s", path,
                          "; ".join(f"at byte {pos}: {what}" for pos, what in info.damage))
            infos.append(info)
        self.high_water = high_water_marks(infos)
        latest: dict[str, tuple[int, FileInfo]] = {}
        for info in infos:
            if info.header is None:
                continue
            created = int(info.header.meta.get(META_CREATED, b"0") or 0)
            if info.stream not in latest or created >= latest[info.stream][0]:
                latest[info.stream] = (created, info)
        self._resume = {
            stream: info for stream, (_, info) in latest.items()
            if info.header is not None and info.header.codec == self.codec and not info.damage
            and info.entries
        }
        return self

    def close(self) -> None:
        try:
            for f in self._files.values():
                f.close()
        finally:
            self._files.clear()
            self._open_lru.clear()
            self._dirty.clear()
            if self._lock_fd is not None:
                os.close(self._lock_fd)  # releases the flock
                self._lock_fd = None

    def _lock(self) -> None:
        fd = os.open(self.directory / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise DirectoryLockedError(
                f"another recorder (pid {holder}) is writing to {self.directory}; "
                f"one recorder per directory"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._lock_fd = fd

    # ------------------------------------------------------------------ writing

    def write_block(self, stream: str, records: list[FileRecord]) -> BlockEntry:
        """Append the records (one topic-partition, offset order) as one block of `stream`.
        Durable only after `sync()`."""
        first = records[0]
        ts = [r["ts"] for r in records]
        return self._append(stream, encode_block(records, self.codec), len(records),
                            first["topic"], first["partition"], first["offset"],
                            records[-1]["offset"], first["ts"], min(ts), max(ts))

    def write_encoded(self, buf: BlockBuffer) -> BlockEntry:
        """`write_block` for a buffer of records already encoded (the recorder's hot path)."""
        return self._append(buf.stream, frame_block(buf.count, buf.data(), self.codec),
                            buf.count, buf.tp.topic, buf.tp.partition, buf.first_offset,
                            buf.last_offset, buf.first_ts, buf.min_ts, buf.max_ts)

    def _append(self, stream: str, block: bytes, count: int, topic: str, partition: int,
                first_offset: int, last_offset: int, first_ts: int, min_ts: int,
                max_ts: int) -> BlockEntry:
        f = self._file_for(stream, len(block) + SYNC_SIZE, first_ts)
        entry = BlockEntry(f.size, f.size + len(block) + SYNC_SIZE, count, topic, partition,
                           first_offset, last_offset, min_ts, max_ts)
        f.append(block, entry)
        self._dirty.add(f)
        self.blocks_written += 1
        self.bytes_written += entry.end - entry.pos
        key = (stream, entry.topic, entry.partition)
        if entry.last_offset > self.high_water.get(key, -1):
            self.high_water[key] = entry.last_offset
        return entry

    def sync(self) -> int:
        """fsync every file written to since the last sync; returns how many."""
        n = len(self._dirty)
        for f in self._dirty:
            f.sync()
        self._dirty.clear()
        return n

    def _file_for(self, stream: str, block_len: int, first_ts: int) -> StreamFile:
        f = self._files.get(stream)
        if f is None and stream in self._resume:
            f = self._files[stream] = StreamFile.reopen(self._resume.pop(stream), self.policy)
        if f is not None and self.policy.rotate(f.size, f.blocks, f.window, block_len,
                                                first_ts):
            f.close()
            self._dirty.discard(f)
            f = None
        if f is None:
            f = StreamFile.create(self.directory, stream, self.codec, first_ts, self.policy,
                                  time.time_ns() // 1000)
            self._files[stream] = f
            self.files_created += 1
        f.reopen_fds()
        self._open_lru[stream] = f
        self._open_lru.move_to_end(stream)
        while len(self._open_lru) > self.max_open:
            _, idle = self._open_lru.popitem(last=False)
            idle.close()  # fsyncs first if it was written to: never less durable
            self._dirty.discard(idle)
        return f
