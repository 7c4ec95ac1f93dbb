"""What every book-sync state machine answers, and the common machinery they share.

A sync machine is pure (no I/O, no clock): the connector feeds it the normalized `OrderBook`
events of one symbol — deltas from the stream, snapshots from REST or the stream — and it says
what to do with each. Every exchange module implements its own documented rule on top of this.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from enum import Enum

from ttxt_kafka.events import OrderBook


class Action(Enum):
    APPLY = "apply"  # apply this delta to the book and publish it
    BUFFER = "buffer"  # not synced yet: kept inside the machine (ask for a snapshot if none)
    DROP = "drop"  # older than the book: ignore it
    GAP = "gap"  # the book is broken: discard it, tell downstream, rebuild (see `reason`)
    SYNCED = "synced"  # the book is (re)built: `take()` gives the snapshot + deltas to apply
    STALE = "stale"  # the snapshot is older than the buffered stream: fetch another one


class BookSync:
    """Shared state: the buffer of deltas received before a snapshot and the book's sequence.

    `buffer_limit` bounds memory while a snapshot is awaited; when it overflows the oldest
    deltas go, which at worst makes the next snapshot stale (and it is fetched again).
    """

    __slots__ = ("sequence", "synced", "bridging", "reason", "buffer", "dropped", "_ready")

    def __init__(self, buffer_limit: int = 10_000) -> None:
        self.sequence: int | None = None  # the book's update id once synced
        self.synced = False
        self.bridging = False  # synced on a snapshot alone: the next delta must bridge it
        self.reason = ""  # why the last GAP / STALE / DROP happened
        self.buffer: deque[OrderBook] = deque(maxlen=buffer_limit)
        self.dropped = 0  # stale deltas ignored
        self._ready: list[OrderBook] = []

    def on_delta(self, ev: OrderBook) -> Action:
        """A delta from the stream: APPLY, BUFFER, DROP, GAP, SYNCED or STALE."""
        raise NotImplementedError

    def on_snapshot(self, snap: OrderBook) -> Action:
        """A snapshot (REST or stream): SYNCED, STALE or GAP."""
        raise NotImplementedError

    @property
    def waiting_snapshot(self) -> bool:
        """True while the machine needs a snapshot."""
        return not self.synced

    def take(self) -> list[OrderBook]:
        """After SYNCED: the snapshot first, then the deltas to apply on it, in order."""
        ready, self._ready = self._ready, []
        return ready

    def reset(self, reason: str = "") -> None:
        """Forget everything (reconnect, resubscribe): wait for a new snapshot."""
        self.sequence = None
        self.synced = False
        self.bridging = False
        self.buffer.clear()
        self._ready = []
        if reason:
            self.reason = reason

    def _gap(self, reason: str, keep: Iterable[OrderBook] = ()) -> Action:
        """Break the book; `keep`: valid events past the gap, buffered for the rebuild."""
        self.reset(reason)
        self.buffer.extend(keep)
        return Action.GAP

    def _drop(self, reason: str) -> Action:
        self.dropped += 1
        self.reason = reason
        return Action.DROP

    def _synced(self, snapshot: OrderBook, deltas: list[OrderBook], sequence: int) -> Action:
        self._ready = [snapshot, *deltas]
        self.buffer.clear()
        self.sequence = sequence
        self.synced = True
        self.bridging = not deltas
        return Action.SYNCED
