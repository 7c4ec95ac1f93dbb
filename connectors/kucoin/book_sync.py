"""KuCoin's order-book rule for `/market/level2` (docs "Level-2 Market Data", calibration
procedure), as a pure state machine per symbol: buffer the pushes; fetch the REST snapshot
(`sequence`); a push is applied only if `sequenceStart <= book sequence + 1` and `sequenceEnd >
book sequence`, and the book's sequence becomes its `sequenceEnd`. That is the shared
`BridgedSync` (U = sequenceStart, u = sequenceEnd): older pushes dropped, the first one kept
bridges the snapshot, each later one continues the book (in practice sequenceStart == previous
sequenceEnd + 1); anything else is a gap, rebuilt from a new snapshot.

Per change `[price, size, sequence]` KuCoin says to skip those with `sequence <= book sequence`.
Only the push that bridges the snapshot can hold such changes, and applying them anyway gives the
same book: a push names each price once, with its last change in the push's range, so a change
at or below the snapshot's sequence is already in the snapshot with that same size. The
connector therefore applies every change of an accepted push (and a downstream consumer, from
the topic, can too).
"""

from __future__ import annotations

from ..base.book_sync import BridgedSync


class KucoinBookSync(BridgedSync):
    __slots__ = ()
