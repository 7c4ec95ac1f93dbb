"""The block index beside each file (`<file>.idx`): one JSON line per block.

    {"pos": 1234, "end": 20480, "count": 150, "topic": "ttxt.binance.book", "partition": 0,
     "first_offset": 1000, "last_offset": 1149, "min_ts": ..., "max_ts": ...}

Every block holds the records of one topic-partition, in offset order, so a line says which
offsets and which exchange-time span the block covers. The replayer picks blocks by time, venue
and channel from these lines and seeks straight to them; the recorder rebuilds from them, per
stream and topic-partition, the highest offset it has written.

The index is a cache of what the file says, never the other way round: it is written after its
block, not fsynced, and whenever it disagrees with the file (lines missing after a crash, lines
for a block that was cut) it is rebuilt from the file's blocks.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class BlockEntry:
    pos: int  # first byte of the block in the file
    end: int  # first byte after its sync marker
    count: int
    topic: str
    partition: int
    first_offset: int
    last_offset: int
    min_ts: int  # exchange time, µs
    max_ts: int

    def line(self) -> str:
        return (f'{{"pos":{self.pos},"end":{self.end},"count":{self.count},'
                f'"topic":{json.dumps(self.topic)},"partition":{self.partition},'
                f'"first_offset":{self.first_offset},"last_offset":{self.last_offset},'
                f'"min_ts":{self.min_ts},"max_ts":{self.max_ts}}}\n')


_FIELDS = frozenset(BlockEntry.__dataclass_fields__)


def load_index(path: Path) -> list[BlockEntry]:
    """The entries of an index file; stops at the first line that does not parse (a torn
    last line), since everything after it is suspect. Missing file: no entries."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    entries: list[BlockEntry] = []
    for line in text.splitlines(keepends=True):
        if not line.endswith("\n"):
            break
        try:
            raw = json.loads(line)
            if not isinstance(raw, dict) or set(raw) != _FIELDS:
                break
            entry = BlockEntry(**raw)
        except (ValueError, TypeError):
            break
        if entries and entry.pos != entries[-1].end:
            break  # blocks follow each other: a gap means this index is not about this file
        entries.append(entry)
    return entries


def write_index(path: Path, entries: Iterable[BlockEntry]) -> None:
    """Replace an index atomically (rename over it)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("".join(e.line() for e in entries), encoding="utf-8")
    os.replace(tmp, path)
