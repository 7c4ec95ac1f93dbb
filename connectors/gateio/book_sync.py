"""Gate.io's order-book rule for `spot.obu` (the current channel, announced 2025-05-30), as a
pure state machine (one per symbol): a `full` push replaces the book (it may come again at any
time); each update must continue it, U == local u + 1, else the book is broken and rebuilt by
unsubscribing and subscribing again (Gate answers with a new `full` push). The shared
`StreamSnapshotSync` is exactly this rule.

The older `spot.order_book_update` channel (the captures') bridges a REST snapshot
(`with_id=true`) like Binance spot; the simulator presents those captures in `spot.obu` framing
(see `sim/capture.py`).
"""

from __future__ import annotations

from ..base.book_sync import StreamSnapshotSync


class GateObuSync(StreamSnapshotSync):
    __slots__ = ()
