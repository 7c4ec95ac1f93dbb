"""A directory of recorder files: what is in each file, checked against the file itself.

`scan_file` reads a file's header and index, checks the index against the file (and rebuilds
what is missing by reading the blocks after the last indexed one), and finds a torn tail: bytes
after the last complete block that are not followed by any complete block — what a crash in the
middle of a block write leaves. `repair=True` (the recorder, at start) cuts such a tail off,
removes a file whose header never made it to disk, and rewrites a stale index. Without it
(the replayer, `ttxt files`) nothing on disk changes.

Damage that is not a tail (a bad block followed by good ones: bit rot, a bad copy) is never cut:
it is reported in `FileInfo.damage`, the blocks after it stay indexed, and the recorder never
appends to such a file.
"""

from __future__ import annotations

import logging
import os
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from .blocks import entry_of, find_sync, fsync_dir, read_block_at
from .index import BlockEntry, load_index, write_index
from .naming import index_path, parse_file_name
from .ocf import FileHeader, FormatError, read_header

log = logging.getLogger(__name__)

_HEADER_READ = 64 * 1024  # our headers are ~1.5 KB


@dataclass
class FileInfo:
    path: Path
    stream: str
    start_us: int  # from the name: exchange time of the first record
    size: int
    header: FileHeader | None
    entries: list[BlockEntry] = field(default_factory=list)
    torn_bytes: int = 0  # bytes after the last complete block (0 once repaired)
    # Problems other than a torn tail: (byte position, what is wrong).
    damage: list[tuple[int, str]] = field(default_factory=list)

    @property
    def valid_end(self) -> int:
        if self.entries:
            return self.entries[-1].end
        return self.header.size if self.header else 0

    @property
    def count(self) -> int:
        return sum(e.count for e in self.entries)

    @property
    def min_ts(self) -> int | None:
        return min((e.min_ts for e in self.entries), default=None)

    @property
    def max_ts(self) -> int | None:
        return max((e.max_ts for e in self.entries), default=None)


def list_files(directory: Path) -> list[Path]:
    """Recorder files in a directory, by stream then start time."""
    found = []
    for p in directory.iterdir() if directory.is_dir() else ():
        parsed = parse_file_name(p.name)
        if parsed is not None and p.is_file():
            found.append((parsed[0], parsed[1], p.name, p))
    return [p for *_, p in sorted(found)]


def scan_file(path: Path, repair: bool = False) -> FileInfo | None:
    """What `path` holds (see the module doc). None if `repair` removed it."""
    parsed = parse_file_name(path.name)
    if parsed is None:
        raise ValueError(f"{path} is not a recorder file name")
    stream, start_us = parsed
    size = path.stat().st_size
    with path.open("rb") as fo:
        head = fo.read(_HEADER_READ)
        try:
            header = read_header(head)
        except (FormatError, IndexError) as exc:
            if repair and size < _HEADER_READ:
                # Created, then the process died before the header was durable: no data.
                log.warning("removing %s: incomplete header (%s)", path, exc)
                path.unlink()
                index_path(path).unlink(missing_ok=True)
                fsync_dir(path.parent)
                return None
            info = FileInfo(path, stream, start_us, size, None)
            info.damage.append((0, f"unreadable header: {exc}"))
            return info
        info = FileInfo(path, stream, start_us, size, header)
        loaded = load_index(index_path(path))
        indexed = _agreeing(fo, path, header, size, loaded)
        info.entries = indexed + _scan_blocks(fo, info, indexed[-1].end if indexed else
                                              header.size)
    changed = info.entries != loaded
    if repair and info.torn_bytes:
        log.warning("%s: cutting a torn last block (%d bytes after byte %d)",
                    path, info.torn_bytes, info.valid_end)
        with path.open("r+b") as fo:
            fo.truncate(info.valid_end)
            fo.flush()
            os.fsync(fo.fileno())
        info.size, info.torn_bytes = info.valid_end, 0
    if repair and changed:
        write_index(index_path(path), info.entries)
    return info


def _agreeing(fo: BinaryIO, path: Path, header: FileHeader, size: int,
              loaded: list[BlockEntry]) -> list[BlockEntry]:
    """The index entries that agree with the file."""
    entries = list(loaded)
    if entries and entries[0].pos != header.size:
        return []
    while entries and entries[-1].end > size:
        entries.pop()
    if entries:
        last = entries[-1]
        fo.seek(last.end - len(header.sync))
        if fo.read(len(header.sync)) != header.sync:
            log.warning("%s: index does not match the file; rebuilding it", path)
            return []
    return entries


def _scan_blocks(fo: BinaryIO, info: FileInfo, pos: int) -> list[BlockEntry]:
    """Entries for the blocks from `pos` on; sets `info.torn_bytes` / `info.damage`."""
    assert info.header is not None
    found: list[BlockEntry] = []
    while pos < info.size:
        try:
            block = read_block_at(fo, pos, info.header, info.size)
            found.append(entry_of(block, pos, info.header))
            pos = block.end
            continue
        except (IndexError, FormatError) as exc:
            problem = f"{type(exc).__name__}: {exc}"
        # Torn tail, or damage with good blocks after it? Look for the next complete block.
        nxt = _next_good_block(fo, info, pos)
        if nxt is None:
            info.torn_bytes = info.size - pos
            break
        info.damage.append((pos, f"corrupt block ({problem}); {nxt - pos} bytes skipped "
                                 f"up to the next block"))
        pos = nxt
    return found


def _next_good_block(fo: BinaryIO, info: FileInfo, pos: int) -> int | None:
    assert info.header is not None
    start = pos + 1
    while True:
        after = find_sync(fo, start, info.header.sync)
        if after is None or after >= info.size:
            return None
        try:
            read_block_at(fo, after, info.header, info.size)
            return after
        except (IndexError, FormatError):
            start = after


def high_water_marks(files: Iterable[FileInfo]) -> dict[tuple[str, str, int], int]:
    """Highest offset written, per (stream, topic, partition)."""
    hw: dict[tuple[str, str, int], int] = defaultdict(lambda: -1)
    for info in files:
        for e in info.entries:
            key = (info.stream, e.topic, e.partition)
            if e.last_offset > hw[key]:
                hw[key] = e.last_offset
    return dict(hw)
