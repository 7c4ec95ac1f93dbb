"""Binance's documented local-order-book rules, as pure state machines (one per symbol).

Events are normalized `OrderBook` deltas: `first_sequence` = U, `sequence` = u,
`prev_sequence` = pu (USD-M); REST snapshots carry `sequence` = lastUpdateId.

Spot (web-socket-streams.md, "How to manage a local order book correctly"):
  buffer the stream; fetch a snapshot; if lastUpdateId is older than the first buffered event
  (lastUpdateId + 1 < U) fetch again; drop events with u <= lastUpdateId; the first one left must
  bridge U <= lastUpdateId + 1 <= u; then each event: u < book id -> ignore, U > book id + 1 ->
  gap (restart), else apply and book id = u.

USD-M futures ("How to manage a local order book correctly", futures):
  buffer; snapshot; drop events with u < lastUpdateId; the first one processed must have
  U <= lastUpdateId <= u; afterwards each event's pu must equal the previous event's u, else
  re-initialize. (Futures ids are not contiguous: continuity is the pu chain, not U == u + 1.)

On the topic, a SNAPSHOT's `sequence` is the book id; the DELTA after it satisfies
spot: U <= seq + 1 <= u (then U == previous u + 1); USD-M: U <= seq <= u when the snapshot had
no buffered update to apply (the bridge), pu == seq otherwise — downstream can check each one.
"""

from __future__ import annotations

from ttxt_kafka.events import OrderBook

from ..base.book_sync import Action, BookSync, BridgedSync


def _ids(ev: OrderBook) -> tuple[int, int]:
    first, last = ev.first_sequence, ev.sequence
    if first is None or last is None:
        raise ValueError(f"{ev.symbol} depth update without U/u update ids")
    return first, last


class BinanceSpotBookSync(BridgedSync):
    """Spot rule: bridge `U <= lastUpdateId + 1 <= u`, then `U <= book id + 1` (the shared
    `BridgedSync`)."""

    __slots__ = ()


class BinanceUsdmBookSync(BookSync):
    """USD-M rule: bridge `U <= lastUpdateId <= u`, then the `pu` chain.

    With nothing newer than the snapshot buffered, the book is the snapshot and the machine
    stays `bridging`: the next update is checked by the bridge rule, later ones by `pu`.
    """

    __slots__ = ()

    def on_delta(self, ev: OrderBook) -> Action:
        first, last = _ids(ev)
        if not self.synced:
            self.buffer.append(ev)
            return Action.BUFFER
        book_id = self.sequence
        assert book_id is not None
        if self.bridging:
            if last < book_id:
                return self._drop(f"u={last} < lastUpdateId {book_id}")
            if first > book_id:
                return self._gap(f"stale snapshot: lastUpdateId {book_id} < U={first}",
                                 keep=(ev,))
            self.bridging = False
        elif ev.prev_sequence != book_id:
            if last <= book_id:
                return self._drop(f"u={last} <= book id {book_id}")
            return self._gap(f"gap: pu={ev.prev_sequence} != previous u {book_id}", keep=(ev,))
        self.sequence = last
        return Action.APPLY

    def on_snapshot(self, snap: OrderBook) -> Action:
        lid = snap.sequence
        if lid is None:
            raise ValueError(f"{snap.symbol} snapshot without lastUpdateId")
        buffered = self.buffer
        if buffered and _ids(buffered[0])[0] > lid:
            first = _ids(buffered[0])[0]
            self.reason = f"stale snapshot: lastUpdateId {lid} < first buffered U={first}"
            return Action.STALE
        keep = [ev for ev in buffered if _ids(ev)[1] >= lid]
        if not keep:
            return self._synced(snap, [], lid)
        book_id = _ids(keep[0])[1]
        for i, ev in enumerate(keep[1:], 1):
            if ev.prev_sequence != book_id:
                return self._gap(f"gap in the buffered stream: pu={ev.prev_sequence} != {book_id}",
                                 keep=keep[i:])
            book_id = _ids(ev)[1]
        return self._synced(snap, keep, book_id)
