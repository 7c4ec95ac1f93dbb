"""Bybit v5's order-book rule, as a pure state machine (one per symbol and depth).

From the v5 docs (`docs/v5/websocket/public/orderbook.mdx`): after subscribing, a `snapshot`,
then `delta`s; a new snapshot at any time resets the book; `u == 1` is a snapshot after a
service restart (the normalizer already turns it into a SNAPSHOT event). The docs state no gap
rule; `u` goes up by exactly 1 per delta (verified on the live capture), so a delta whose `u` is
not the book's `u + 1` means lost updates: the book is rebuilt by resubscribing.
"""

from __future__ import annotations

from ttxt_kafka.events import OrderBook

from ..base.book_sync import Action, BookSync


class BybitBookSync(BookSync):
    __slots__ = ()

    def on_snapshot(self, snap: OrderBook) -> Action:
        """Every snapshot replaces the book, whatever came before."""
        if snap.sequence is None:
            raise ValueError(f"{snap.symbol} snapshot without update id u")
        action = self._synced(snap, [], snap.sequence)
        self.bridging = False  # the stream's own snapshot: nothing to bridge
        return action

    def on_delta(self, ev: OrderBook) -> Action:
        u = ev.sequence
        if u is None:
            raise ValueError(f"{ev.symbol} delta without update id u")
        if not self.synced:
            # Only a snapshot can start a book; deltas of an old subscription are useless.
            return self._drop(f"delta u={u} before a snapshot")
        book_id = self.sequence
        assert book_id is not None
        if u == book_id + 1:
            self.sequence = u
            return Action.APPLY
        if u <= book_id:
            return self._drop(f"u={u} <= book id {book_id}")
        return self._gap(f"gap: u={u} != previous u {book_id} + 1")
