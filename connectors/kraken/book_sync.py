"""Kraken WS v2's order-book rule and its CRC32 checksum, as pure functions and a state machine.

From the v2 docs ("Book", "book checksum v2"; `../shared/fixtures/SYNC_RULES.md`): a `snapshot`
replaces the book; each `update` sets levels (qty 0 removes one), then the book is truncated to
the subscribed depth. Kraken sends no sequence numbers: every push carries `checksum`, the CRC32
(unsigned) of the top 10 asks (best first) then the top 10 bids (best first), each level written
as price then qty, each with the pair's precision, `.` removed and leading zeros stripped. The
connector checks it on its own book after every push (`book_checksum`); a mismatch is the book
broken (a lost update shows only this way), rebuilt by unsubscribing and subscribing (Kraken
answers with a new snapshot).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence

from ttxt_kafka.book import Book
from ttxt_kafka.events import OrderBook

from ..base.book_sync import Action, BookSync
from .endpoints import CHECKSUM_LEVELS


def _digits(text: str) -> str:
    return text.replace(".", "").lstrip("0")


def checksum(bids: Sequence[Sequence[str]], asks: Sequence[Sequence[str]]) -> int:
    """Kraken's CRC32 of the top 10 levels (best first; the strings as written)."""
    payload = "".join(_digits(p) + _digits(q) for p, q, *_ in asks[:CHECKSUM_LEVELS])
    payload += "".join(_digits(p) + _digits(q) for p, q, *_ in bids[:CHECKSUM_LEVELS])
    return zlib.crc32(payload.encode())


def book_checksum(book: Book) -> int:
    """The checksum of the connector's own book, to compare with the exchange's."""
    return checksum(book.bids(CHECKSUM_LEVELS), book.asks(CHECKSUM_LEVELS))


class KrakenBookSync(BookSync):
    """A snapshot replaces the book; updates apply while synced (the checksum, checked by the
    base after each one, is the only loss detector). `sequence` counts the pushes applied."""

    __slots__ = ()

    def on_snapshot(self, snap: OrderBook) -> Action:
        action = self._synced(snap, [], 0)
        self.bridging = False  # the stream's own snapshot: nothing to bridge
        return action

    def on_delta(self, ev: OrderBook) -> Action:
        if not self.synced:
            return self._drop("update before a snapshot")
        assert self.sequence is not None
        self.sequence += 1
        return Action.APPLY
