"""Records waiting to become a block: one buffer per (stream, topic, partition).

A block never mixes topic-partitions, so each block is one partition's records in offset order:
the index can say exactly which offsets a block holds, and a replay can follow one partition
through a file without decoding the others. A buffer becomes a block when it holds
`block_size` records or `block_bytes` bytes, when its oldest record has waited `max_delay`
seconds (a quiet ticker), or when all buffers together exceed `max_bytes` (memory stays bounded
whatever the rate and however many tickers).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from aiokafka import TopicPartition

BufferKey = tuple[str, str, int]  # stream, topic, partition


@dataclass(slots=True)
class BlockBuffer:
    """A block being filled: its records already Avro-encoded (`archive.encoder`), as the byte
    strings they are made of, joined once when the block is written."""

    stream: str
    tp: TopicPartition
    since: float  # monotonic time of its oldest record
    first_offset: int
    first_ts: int  # exchange time of its first record (names a new file)
    min_ts: int
    max_ts: int
    last_offset: int = -1
    count: int = 0
    parts: list[bytes] = field(default_factory=list)
    nbytes: int = 0

    def data(self) -> bytes:
        return b"".join(self.parts)


@dataclass(frozen=True, slots=True)
class FlushPolicy:
    block_size: int = 150
    block_bytes: int = 1 << 20
    max_delay: float = 1.0  # seconds
    max_bytes: int = 64 << 20  # all buffers together

    def __post_init__(self) -> None:
        if self.block_size < 1 or self.block_bytes < 1 or self.max_bytes < 1:
            raise ValueError("block size, block bytes and buffer bytes must be positive")
        if self.max_delay <= 0:
            raise ValueError("max delay must be positive")


class Buffers:
    """Open buffers (still filling) and sealed ones (full, waiting to be written)."""

    def __init__(self, policy: FlushPolicy) -> None:
        self.policy = policy
        self.open: dict[BufferKey, BlockBuffer] = {}
        self.sealed: list[BlockBuffer] = []
        self.nbytes = 0

    def seal(self, key: BufferKey) -> None:
        """The open buffer of `key` is full: it waits to be written."""
        self.sealed.append(self.open.pop(key))

    def take_ready(self, now: float, everything: bool = False) -> list[BlockBuffer]:
        """Remove and return the buffers to write now: the sealed ones, the open ones that
        waited too long, or every one (`everything`, or when over the memory limit)."""
        out, self.sealed = self.sealed, []
        if everything or self.nbytes > self.policy.max_bytes:
            due = list(self.open)
        else:
            deadline = now - self.policy.max_delay
            due = [k for k, b in self.open.items() if b.since <= deadline]
        out.extend(self.open.pop(k) for k in due)
        self.nbytes -= sum(b.nbytes for b in out)
        return out

    def oldest_pending(self) -> dict[TopicPartition, int]:
        """Per topic-partition, the smallest offset still only in memory."""
        out: dict[TopicPartition, int] = {}
        for buf in (*self.open.values(), *self.sealed):
            first = buf.first_offset
            if first < out.get(buf.tp, first + 1):
                out[buf.tp] = first
        return out

    def records(self) -> int:
        return sum(b.count for b in (*self.open.values(), *self.sealed))
