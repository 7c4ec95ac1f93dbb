"""Reading blocks out of a file on disk: one at a time, by position, bounded in size."""

from __future__ import annotations

import os
from typing import BinaryIO

from .index import BlockEntry
from .ocf import FileHeader, FormatError, RawBlock, decode_long, decode_records, parse_block

# A block header is two varints: at most 10 bytes each.
_HEAD_READ = 20
MAX_BLOCK_BYTES = 1 << 30  # refuse sizes no recorder writes: a corrupt size varint


def read_block_at(fo: BinaryIO, pos: int, header: FileHeader, file_size: int) -> RawBlock:
    """The block at `pos`. IndexError: the file ends inside it; FormatError: not a block."""
    fo.seek(pos)
    head = fo.read(_HEAD_READ)
    count, p = decode_long(head, 0)
    size, p = decode_long(head, p)
    if count <= 0 or size < 0 or size > MAX_BLOCK_BYTES:
        raise FormatError(f"bad block header (count {count}, size {size})")
    end = pos + p + size + len(header.sync)
    if end > file_size:
        raise IndexError("block extends past the end of the file")
    fo.seek(pos)
    data = fo.read(end - pos)
    block = parse_block(data, 0, header.sync)
    return RawBlock(block.count, block.body, pos + block.end)


def entry_of(block: RawBlock, pos: int, header: FileHeader) -> BlockEntry:
    """Decode a block and describe it as an index entry."""
    records = decode_records(block, header.codec)
    first = records[0]
    topic, partition = first["topic"], first["partition"]
    for r in records:
        if r["topic"] != topic or r["partition"] != partition:
            raise FormatError("block mixes topic-partitions (not written by the recorder)")
    ts = [r["ts"] for r in records]
    return BlockEntry(pos, block.end, block.count, topic, partition, first["offset"],
                      records[-1]["offset"], min(ts), max(ts))


def find_sync(fo: BinaryIO, start: int, sync: bytes, chunk: int = 1 << 20) -> int | None:
    """Position just after the first sync marker at or after `start`; None if there is none."""
    overlap = len(sync) - 1  # windows overlap so a marker across two reads is still found
    pos = start
    while True:
        fo.seek(pos)
        data = fo.read(chunk + overlap)
        i = data.find(sync)
        if i >= 0:
            return pos + i + len(sync)
        if len(data) < chunk + overlap:
            return None
        pos += chunk


def fsync_dir(path: os.PathLike[str] | str) -> None:
    """Make a file's creation (or removal) in `path` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
