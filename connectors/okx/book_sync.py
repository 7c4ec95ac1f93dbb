"""OKX v5's order-book rule (`books`), as a pure state machine.

From the OKX docs and `../shared/fixtures/SYNC_RULES.md` (with its 2026 notes): the first push
after subscribing is `action: snapshot` with `prevSeqId = -1`, then `update`s; each update's
`prevSeqId` must equal the `seqId` of the push before it (steps are not 1; a keep-alive push
with no levels has `seqId == prevSeqId`; after a sequence reset `seqId` may be smaller than
`prevSeqId`, which the chain accepts). Same price: size "0" deletes, else replaces.
The CRC32 of the top 25 levels (`base/checksums.py`, Bitget's rule too) is checked by the
connector base on its own book whenever OKX sends a non-zero checksum: since 2026 OKX sends 0
("not sent", the normalizer reads it as none) and the chain alone guards the book. A broken
chain or a mismatch is rebuilt by unsubscribing and subscribing `books` (a fresh snapshot).
"""

from __future__ import annotations

from ttxt_kafka.events import OrderBook

from ..base.book_sync import Action, StreamSnapshotSync
from ..base.checksums import CHECKSUM_LEVELS, book_rule

# The checksum of the connector's own book, to compare with a non-zero one OKX sends.
book_checksum = book_rule(CHECKSUM_LEVELS)


class OkxBookSync(StreamSnapshotSync):
    """Snapshots as `StreamSnapshotSync` (each replaces the book); updates by the seqId chain."""

    __slots__ = ()

    def on_delta(self, ev: OrderBook) -> Action:
        seq, prev = ev.sequence, ev.prev_sequence
        if seq is None or prev is None:
            raise ValueError(f"{ev.symbol} update without seqId/prevSeqId")
        if not self.synced:
            # Only a snapshot starts a book; updates of an old subscription are useless.
            return self._drop(f"update seqId={seq} before a snapshot")
        if prev == self.sequence:
            self.sequence = seq
            return Action.APPLY
        return self._gap(f"gap: prevSeqId={prev} != previous seqId {self.sequence}")
