"""MEXC's order-book rule (`fixtures/SYNC_RULES.md`, MEXC spot v3), as a pure state machine (one
per symbol): buffer the `aggre.depth` pushes, fetch GET /api/v3/depth (`lastUpdateId` = the
book's version), drop pushes whose toVersion is not above it, start at the push that bridges
it (fromVersion <= version + 1 <= toVersion); from then on each push's fromVersion must be the
previous toVersion + 1, else the book is rebuilt from a new snapshot. That is the shared
`BridgedSync` with (U, u) = (fromVersion, toVersion).

MEXC's text says "start applying when the snapshot version is within [fromVersion, toVersion]";
a push whose toVersion equals the version only repeats levels the snapshot already holds
(quantities are absolute), so starting one push later, as here, gives the same book.
"""

from __future__ import annotations

from ..base.book_sync import BridgedSync


class MexcBookSync(BridgedSync):
    __slots__ = ()
