"""The file a stream is currently writing: blocks appended, fsynced on demand.

Durability order: a new file's header is written and fsynced and the directory fsynced before
any block goes in; a block is one `write` call; `sync()` fsyncs the file. The caller commits
Kafka offsets only after `sync()` returned for every file it wrote to. The index line of a block
is written after the block and flushed at `sync()`, without fsync (it is rebuilt from the file
if it falls behind).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import TextIO

from ttxt_kafka.archive.blocks import fsync_dir
from ttxt_kafka.archive.files import FileInfo
from ttxt_kafka.archive.index import BlockEntry
from ttxt_kafka.archive.naming import file_name, index_path
from ttxt_kafka.archive.ocf import META_CREATED, META_STREAM, SYNC_SIZE, encode_header

from .rotation import RotatePolicy


class StreamFile:
    def __init__(self, path: Path, stream: str, codec: str, sync_marker: bytes, size: int,
                 blocks: int, window: int) -> None:
        self.path = path
        self.stream = stream
        self.codec = codec
        self.sync_marker = sync_marker
        self.size = size
        self.blocks = blocks
        self.window = window  # rotation window of the file's first record
        self._fd: int | None = None
        self._index: TextIO | None = None
        self._dirty = False
        self.reopen_fds()

    @property
    def is_open(self) -> bool:
        return self._fd is not None

    def reopen_fds(self) -> None:
        if self._fd is None:
            self._fd = os.open(self.path, os.O_WRONLY)
            self._index = index_path(self.path).open("a", encoding="utf-8")

    @classmethod
    def create(cls, directory: Path, stream: str, codec: str, first_ts: int,
               policy: RotatePolicy, now_us: int) -> StreamFile:
        sync_marker = secrets.token_bytes(16)
        header = encode_header(codec, sync_marker, {META_STREAM: stream.encode(),
                                                    META_CREATED: str(now_us).encode()})
        n = 0
        while True:
            path = directory / file_name(stream, first_ts, n)
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                break
            except FileExistsError:
                n += 1
        try:
            os.write(fd, header)
            os.fsync(fd)
        finally:
            os.close(fd)
        index_path(path).write_bytes(b"")
        fsync_dir(directory)
        return cls(path, stream, codec, sync_marker, len(header), 0, policy.window(first_ts))

    @classmethod
    def reopen(cls, info: FileInfo, policy: RotatePolicy) -> StreamFile:
        """Append to an existing (repaired, undamaged) file."""
        assert info.header is not None and not info.torn_bytes and not info.damage
        return cls(info.path, info.stream, info.header.codec, info.header.sync, info.valid_end,
                   len(info.entries), policy.window(info.start_us))

    def append(self, block: bytes, entry: BlockEntry) -> None:
        """Write one block (from `ocf.encode_block`) and its sync marker at the end of the
        file; `entry` describes it (entry.pos == self.size)."""
        if entry.pos != self.size or entry.end != self.size + len(block) + SYNC_SIZE:
            raise ValueError(f"index entry {entry} does not describe the block at {self.size}")
        if self._fd is None or self._index is None:
            self.reopen_fds()
        assert self._fd is not None and self._index is not None
        written = os.pwritev(self._fd, [block, self.sync_marker], self.size)
        if written != len(block) + SYNC_SIZE:  # a short write to a regular file: disk full
            raise OSError(f"short write to {self.path}: {written} of "
                          f"{len(block) + SYNC_SIZE} bytes")
        self.size = entry.end
        self.blocks += 1
        self._index.write(entry.line())
        self._dirty = True

    def sync(self) -> None:
        if self._dirty and self._fd is not None and self._index is not None:
            os.fsync(self._fd)
            self._index.flush()
            self._dirty = False

    def close(self) -> None:
        """Sync and release the file descriptors; `append` opens them again if needed."""
        try:
            self.sync()
        finally:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
            if self._index is not None:
                self._index.close()
                self._index = None
