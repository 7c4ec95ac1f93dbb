"""Book keeping, the part of the connector base that guards book integrity.

For each symbol: the exchange's sync machine (`book_sync`), the connector's own `Book`, and the
rebuild bookkeeping. A DELTA is published only when the machine says APPLY, i.e. onto a whole
book; a gap, a stale snapshot or unusable data publishes BOOK_RESYNC, clears the book and starts
a rebuild (the exchange module's `rebuild`: a REST snapshot or a resubscription), bounded by
`max_snapshot_attempts`; a book still broken after `resync_timeout` is the connection watchdog's
business (it reconnects). Once rebuilt, the book goes out as one SNAPSHOT, then BOOK_SYNCED.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import ClassVar

from ttxt_kafka.book import Book
from ttxt_kafka.events import ConnectorState, ConnectorStatus, Event, OrderBook, UpdateType, now_us

from ..config import ConnectorConfig
from .book_sync import Action
from .numbers import NumberChecker
from .state import ConnectorStats, SymbolState

log = logging.getLogger(__name__)

_SNAPSHOT = UpdateType.SNAPSHOT


class BookKeeper:
    """Mixin of `Connector`: everything about books. Uses the connector's `states`, `stats`,
    `config`, `_publish` and the exchange's `rebuild`."""

    venue: ClassVar[str]
    # Rebuild requests (snapshot fetches, resubscriptions) per episode before leaving it to the
    # resync watchdog, which reconnects: a stale snapshot source is not hammered forever.
    max_snapshot_attempts: ClassVar[int] = 3
    # True where subscribing brings a snapshot (Bybit): the resync clock starts at connect. Where
    # the book starts at the first buffered delta (Binance), a quiet symbol is not a broken one.
    snapshot_on_subscribe: ClassVar[bool] = False
    snapshot_depth: int = 0  # the `depth` field of periodic snapshots (0 = full depth)
    # Where the exchange sends a book checksum (`OrderBook.checksum`, set by the normalizer):
    # the exchange's rule computing it from the connector's own book. Checked after every
    # snapshot and delta is applied, before the delta is published; a mismatch is a resync.
    book_checksum: ClassVar[Callable[[Book], int] | None] = None
    # A book crossed after an update (best bid >= best ask) is broken and rebuilt, unless the
    # venue documents crossed books. None of Binance (spot, USD-M) and Bybit (spot, linear)
    # does: their documented books never cross, so a crossed one means a lost or bad update.
    crossed_books_allowed: ClassVar[bool] = False
    numbers: NumberChecker
    config: ConnectorConfig
    stats: ConnectorStats
    states: dict[str, SymbolState]  # by native symbol

    async def _publish(self, event: Event) -> bool:
        raise NotImplementedError

    def _log_limited(self, kind: str, msg: str, *args: object) -> None:
        raise NotImplementedError

    async def rebuild(self, state: SymbolState) -> None:
        """Start rebuilding a broken book (fetch a snapshot, or resubscribe)."""
        raise NotImplementedError

    async def _reset_books(self, symbols: list[str], reason: str) -> None:
        """A new connection: every book of it starts over from a fresh snapshot."""
        now = time.monotonic()
        for native in symbols:
            state = self.states.get(native)
            if state is None:
                continue
            state.sync.reset()
            state.book.clear()
            state.unsynced_since = now if self.snapshot_on_subscribe else None
            state.snapshot_attempts = 0
            state.fetching = False
            if reason and state.was_synced:
                self.stats.resyncs += 1
                await self._book_status(state, ConnectorState.BOOK_RESYNC, reason)

    async def _on_book(self, ev: OrderBook) -> None:
        state = self.states.get(ev.native_symbol)
        if state is None:
            return  # a book we did not ask for
        bad = self.numbers.book(ev)
        if bad is not None:  # impossible numbers: a malformed frame, and the book is broken
            self.stats.malformed += 1
            self._log_limited("numbers", "%s %s: malformed book update refused (%d so far): %s",
                              self.venue, state.symbol, self.stats.malformed, bad)
            await self._resync(state, f"malformed numbers: {bad}")
            return
        if state.gate is not None:  # a snapshot of this book is on its way to the queue
            await state.gate.wait()
        sync = state.sync
        try:
            action = sync.on_snapshot(ev) if ev.update_type is _SNAPSHOT else sync.on_delta(ev)
        except ValueError as exc:  # an update without the ids the rule needs
            self.stats.malformed += 1
            await self._resync(state, f"unusable book update: {exc}")
            return
        if action is Action.APPLY:
            try:
                state.book.update(ev)
            except Exception as exc:  # levels that do not parse: the book may be half-updated
                self.stats.malformed += 1
                await self._resync(state, f"bad levels in a delta: {exc}")
                return
            if ev.checksum is not None and (problem := self._checksum_problem(state, ev)):
                await self._resync(state, problem)
                return
            if state.book.is_crossed() and not self.crossed_books_allowed:
                await self._resync(state, _crossed(state))
                return
            if await self._publish(ev):
                self.stats.book_deltas += 1
            else:
                await self._resync(state, "a delta could not be published")
        elif action is Action.BUFFER:
            if sync.waiting_snapshot:
                await self._want_snapshot(state)
        elif action is Action.DROP:
            self.stats.dropped_deltas += 1
        elif action is Action.SYNCED:
            await self._synced(state)
        elif action is Action.GAP:
            if sync.reason.startswith("stale snapshot"):  # the first delta did not bridge it
                self.stats.stale_snapshots += 1
            else:
                self.stats.gaps += 1
            await self._resync(state, sync.reason)
        elif action is Action.STALE:
            self.stats.stale_snapshots += 1
            await self._stale(state)

    def _checksum_problem(self, state: SymbolState, ev: OrderBook) -> str | None:
        """Why the book disagrees with the exchange's checksum of `ev`, or None."""
        rule = type(self).book_checksum
        if rule is None:
            return None
        ours = rule(state.book)
        if ours == ev.checksum:
            self.stats.checksums += 1
            return None
        self.stats.checksum_mismatches += 1
        return f"checksum mismatch: exchange {ev.checksum} != book {ours} at sequence {ev.sequence}"

    async def on_snapshot(self, state: SymbolState, snap: OrderBook) -> None:
        """A snapshot from REST (the exchange module fetched it)."""
        bad = self.numbers.book(snap)
        if bad is not None:  # left to the resync watchdog, as an unusable snapshot
            self.stats.malformed += 1
            log.warning("%s %s: snapshot with malformed numbers refused: %s",
                        self.venue, state.symbol, bad)
            return
        try:
            action = state.sync.on_snapshot(snap)
        except ValueError as exc:
            self.stats.malformed += 1
            log.warning("%s %s: unusable snapshot: %s", self.venue, state.symbol, exc)
            return
        if action is Action.SYNCED:
            await self._synced(state)
        elif action is Action.STALE:
            self.stats.stale_snapshots += 1
            await self._stale(state)
        elif action is Action.GAP:
            self.stats.gaps += 1
            await self._resync(state, state.sync.reason)

    async def _stale(self, state: SymbolState) -> None:
        """The snapshot is older than the stream: fetch another, a few times at most (after
        that the resync watchdog reconnects, which starts everything afresh)."""
        log.info("%s %s: %s (attempt %d)", self.venue, state.symbol, state.sync.reason,
                 state.snapshot_attempts)
        await self._want_snapshot(state)

    async def _want_snapshot(self, state: SymbolState) -> None:
        """Start a rebuild unless one is in flight or this episode used up its attempts."""
        if state.unsynced_since is None:
            state.unsynced_since = time.monotonic()
        if state.fetching or state.snapshot_attempts >= self.max_snapshot_attempts:
            return
        state.snapshot_attempts += 1
        await self.rebuild(state)

    async def _synced(self, state: SymbolState) -> None:
        """The sync machine has a snapshot plus the deltas that bridge it: build the book and
        publish it as one SNAPSHOT, so every DELTA after it continues it strictly."""
        state.announcing = True
        try:
            await self._announce_sync(state)
        finally:
            state.announcing = False

    async def _announce_sync(self, state: SymbolState) -> None:
        ready = state.sync.take()
        book = state.book
        try:
            for ev in ready:
                book.update(ev)
        except Exception as exc:
            self.stats.malformed += 1
            await self._resync(state, f"bad levels in the snapshot: {exc}")
            return
        if book.is_crossed() and not self.crossed_books_allowed:
            await self._resync(state, _crossed(state))
            return
        last = ready[-1]
        if last.checksum is not None and (problem := self._checksum_problem(state, last)):
            await self._resync(state, problem)
            return
        snap = book.snapshot(receive_ts=last.receive_ts)
        snap.exchange_ts = last.exchange_ts
        snap.depth = last.depth
        snap.checksum = last.checksum
        if not await self._publish_snapshot(state, snap):
            await self._resync(state, "the snapshot could not be published")
            return
        self.stats.book_snapshots += 1
        self.stats.syncs += 1
        state.unsynced_since = None
        state.snapshot_attempts = 0
        state.was_synced = True
        bids, asks = book.depth()
        await self._book_status(state, ConnectorState.BOOK_SYNCED,
                                f"sequence {book.sequence}, {bids}x{asks} levels")

    async def _resync(self, state: SymbolState, reason: str) -> None:
        """The book is broken: say so, forget it, rebuild it. No delta is published meanwhile."""
        self.stats.resyncs += 1
        log.warning("%s %s: book resync: %s", self.venue, state.symbol, reason)
        keep = list(state.sync.buffer)
        state.sync.reset(reason)
        state.sync.buffer.extend(keep)  # valid events past the gap help the rebuild
        state.book.clear()
        state.unsynced_since = time.monotonic()
        state.snapshot_attempts = 0
        await self._book_status(state, ConnectorState.BOOK_RESYNC, reason)
        await self._want_snapshot(state)

    async def _snapshot_loop(self) -> None:
        """Every `snapshot_interval`: a full SNAPSHOT of each whole book (late joiners)."""
        interval = self.config.snapshot_interval
        while True:
            await asyncio.sleep(interval)
            for state in list(self.states.values()):
                if state.sync.synced and state.book.ready and state.gate is None:
                    snap = state.book.snapshot()
                    snap.depth = self.snapshot_depth
                    if await self._publish_snapshot(state, snap):
                        self.stats.book_snapshots += 1

    async def _publish_snapshot(self, state: SymbolState, snap: OrderBook) -> bool:
        """Publish a SNAPSHOT with the symbol's deltas held back until it is in the queue.

        It is published from another task than the stream's (the REST fetch, the periodic
        loop); if the queue makes it wait (Kafka metadata, a full buffer), a delta applied
        meanwhile must not reach the topic before the snapshot it follows."""
        state.gate = gate = asyncio.Event()
        try:
            return await self._publish(snap)
        finally:
            state.gate = None
            gate.set()

    async def _book_status(self, state: SymbolState, status: ConnectorState, reason: str) -> None:
        ts = now_us()
        await self._publish(ConnectorStatus(
            venue=self.venue, symbol=state.symbol, native_symbol=state.native, exchange_ts=ts,
            receive_ts=ts, sequence=state.book.sequence if status is ConnectorState.BOOK_SYNCED
            else None, stream="book", status=status, reason=reason,
        ))


def _crossed(state: SymbolState) -> str:
    bid, ask = state.book.best_bid(), state.book.best_ask()
    return (f"crossed book after an update: best bid {bid[0] if bid else None} >= "
            f"best ask {ask[0] if ask else None}")
