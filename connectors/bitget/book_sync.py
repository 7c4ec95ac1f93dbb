"""Bitget v2's order-book rule, as a pure state machine, and its CRC32 checksum.

From the v2 docs ("Depth Channel", `../shared/fixtures/SYNC_RULES.md`): `books` pushes a
`snapshot` first, then `update`s; same price: qty "0" deletes, else replaces; a new price is
inserted in order. `seq` increases with each update (out-of-order detection; its steps are not
1). Every push carries `checksum`: CRC32 of the first 25 bids and asks interleaved
`bid1px:bid1qty:ask1px:ask1qty:bid2px:...` (a side that runs out is skipped), over the strings as
received, compared as a signed 32-bit integer (the rule OKX shares: `base/checksums.py`). The
connector checks it on its own book after every snapshot and update; a mismatch or an
out-of-order `seq` breaks the book, which is rebuilt by resubscribing (Bitget answers with a
fresh snapshot).
"""

from __future__ import annotations

from ttxt_kafka.events import OrderBook

from ..base.book_sync import Action, BookSync
from ..base.checksums import CHECKSUM_LEVELS, book_rule
from ..base.checksums import interleaved_crc32 as checksum

__all__ = ["CHECKSUM_LEVELS", "BitgetBookSync", "book_checksum", "checksum"]

# The checksum of the connector's own book (the shared interleaved-CRC32 rule, top 25).
book_checksum = book_rule(CHECKSUM_LEVELS)


class BitgetBookSync(BookSync):
    __slots__ = ()

    def on_snapshot(self, snap: OrderBook) -> Action:
        """Every snapshot replaces the book, whatever came before."""
        if snap.sequence is None:
            raise ValueError(f"{snap.symbol} snapshot without seq")
        action = self._synced(snap, [], snap.sequence)
        self.bridging = False  # the stream's own snapshot: nothing to bridge
        return action

    def on_delta(self, ev: OrderBook) -> Action:
        seq = ev.sequence
        if seq is None:
            raise ValueError(f"{ev.symbol} update without seq")
        if not self.synced:
            return self._drop(f"update seq={seq} before a snapshot")
        book_seq = self.sequence
        assert book_seq is not None
        if seq > book_seq:
            self.sequence = seq
            return Action.APPLY
        return self._gap(f"out of order: seq={seq} <= previous seq {book_seq}")
