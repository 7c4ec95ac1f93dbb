"""Coinbase Advanced Trade's order-book rule, as a pure state machine (one per product).

`sequence_num` counts every message of a connection, whatever its channel or product. The
connector checks that counter on every frame (see `connector.py`): any gap means any book of
the connection may have missed an update, and each is rebuilt (BOOK_RESYNC, resubscribe
`level2`, a new `snapshot`). What remains per book is this machine:

* a `snapshot` event replaces the book; its sequence is the message's sequence_num;
* an `update` before a snapshot is useless (dropped); one with sequence_num <= the book's is
  out of order and dropped, as Coinbase's docs allow;
* any later `update` applies: with no gap on the connection since the book's last message,
  nothing of this product was missed. Its `first_sequence` is set to the book's sequence + 1,
  which states exactly that: downstream checks DELTA.first_sequence == previous sequence + 1 on
  the topic alone, as for Gate.io's `spot.obu`.
"""

from __future__ import annotations

from ttxt_kafka.events import OrderBook

from ..base.book_sync import Action, StreamSnapshotSync


class CoinbaseL2Sync(StreamSnapshotSync):
    """Snapshots as in `StreamSnapshotSync`; updates as above."""

    __slots__ = ()

    def on_delta(self, ev: OrderBook) -> Action:
        last = ev.sequence
        if last is None:
            raise ValueError(f"{ev.symbol} update without a sequence_num")
        if not self.synced:
            return self._drop(f"update {last} before a snapshot")
        book_id = self.sequence
        assert book_id is not None
        if last <= book_id:
            return self._drop(f"sequence_num {last} <= book's {book_id}")
        ev.first_sequence = book_id + 1
        self.sequence = last
        return Action.APPLY
