"""Bybit v5's order-book rule, as a pure state machine (one per symbol and depth).

From the v5 docs (`docs/v5/websocket/public/orderbook.mdx`): after subscribing, a `snapshot`,
then `delta`s; a new snapshot at any time resets the book; `u == 1` is a snapshot after a
service restart (the normalizer already turns it into a SNAPSHOT event). The docs state no gap
rule; `u` goes up by exactly 1 per delta (verified on the live capture), so a delta whose `u` is
not the book's `u + 1` means lost updates: the book is rebuilt by resubscribing.
"""

from __future__ import annotations

from ..base.book_sync import StreamSnapshotSync


class BybitBookSync(StreamSnapshotSync):
    """u == book id + 1, snapshots from the stream (the shared `StreamSnapshotSync`)."""

    __slots__ = ()
