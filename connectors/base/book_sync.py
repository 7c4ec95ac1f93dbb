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


def _ids(ev: OrderBook) -> tuple[int, int]:
    """(first, last) update ids of a delta: (U, u), or (u, u) where the venue sends one id."""
    last = ev.sequence
    if last is None:
        raise ValueError(f"{ev.symbol} book update without an update id")
    first = ev.first_sequence
    return (last if first is None else first), last


def _bridge_ids(ev: OrderBook) -> tuple[int, int]:
    first, last = ev.first_sequence, ev.sequence
    if first is None or last is None:
        raise ValueError(f"{ev.symbol} depth update without U/u update ids")
    return first, last


class BridgedSync(BookSync):
    """A REST snapshot bridged into a buffered stream of (U, u) updates (Binance spot, Gate.io's
    `spot.order_book_update`): drop updates with u <= snapshot id; the first one kept must bridge
    U <= id + 1 <= u; then each update's U <= book id + 1 (normally U == previous u + 1).

    With nothing newer than the snapshot buffered, the book is the snapshot (book id = its id)
    and the next update must bridge it — the steady-state rule says exactly that.
    """

    __slots__ = ()

    def on_delta(self, ev: OrderBook) -> Action:
        first, last = _bridge_ids(ev)
        if not self.synced:
            self.buffer.append(ev)
            return Action.BUFFER
        book_id = self.sequence
        assert book_id is not None
        if last <= book_id:
            return self._drop(f"u={last} <= book id {book_id}")
        if first > book_id + 1:
            what = "stale snapshot: id" if self.bridging else "gap: book id"
            return self._gap(f"{what} {book_id} + 1 < U={first}", keep=(ev,))
        self.sequence = last
        self.bridging = False
        return Action.APPLY

    def on_snapshot(self, snap: OrderBook) -> Action:
        """A REST snapshot arrived (sequence = its update id)."""
        lid = snap.sequence
        if lid is None:
            raise ValueError(f"{snap.symbol} snapshot without an update id")
        buffered = self.buffer
        if buffered and lid + 1 < _bridge_ids(buffered[0])[0]:
            first = _bridge_ids(buffered[0])[0]
            self.reason = f"stale snapshot: id {lid} + 1 < first buffered U={first}"
            return Action.STALE
        keep = [ev for ev in buffered if _bridge_ids(ev)[1] > lid]
        book_id = lid
        for i, ev in enumerate(keep):  # each continues the one before; the first bridges
            first, last = _bridge_ids(ev)
            if first > book_id + 1:
                return self._gap(f"gap in the buffered stream: U={first} > {book_id} + 1",
                                 keep=keep[i:])
            book_id = last
        return self._synced(snap, keep, book_id)


class StreamSnapshotSync(BookSync):
    """The stream sends its own snapshots (Bybit, Gate.io's `spot.obu`): every snapshot replaces
    the book; each update must start right after the book: U == book id + 1 (with one id per
    update, u == book id + 1). Anything else is a gap, rebuilt by resubscribing."""

    __slots__ = ()

    def on_snapshot(self, snap: OrderBook) -> Action:
        if snap.sequence is None:
            raise ValueError(f"{snap.symbol} snapshot without an update id")
        action = self._synced(snap, [], snap.sequence)
        self.bridging = False  # the stream's own snapshot: nothing to bridge
        return action

    def on_delta(self, ev: OrderBook) -> Action:
        first, last = _ids(ev)
        if not self.synced:
            # Only a snapshot can start a book; updates of an old subscription are useless.
            return self._drop(f"update u={last} before a snapshot")
        book_id = self.sequence
        assert book_id is not None
        if first == book_id + 1:
            self.sequence = last
            return Action.APPLY
        if last <= book_id:
            return self._drop(f"u={last} <= book id {book_id}")
        name = "u" if ev.first_sequence is None else "U"
        return self._gap(f"gap: {name}={first} != previous u {book_id} + 1")
