"""The interleaved top-of-book CRC32 that Bitget (v2 `books`) and OKX (v5 `books`) both send.

The rule, as both exchanges document it (`../shared/fixtures/SYNC_RULES.md`): take the first N
(25) bids and asks of the book, best first, and join `bid1px:bid1sz:ask1px:ask1sz:bid2px:...`
with `:` (a side that runs out is skipped), over the price and size strings exactly as received
("0.5000", not "0.5"); CRC32 of that text, compared as a signed 32-bit integer. The connector
base checks it on its own book after every snapshot and update (`BookKeeper.book_checksum`).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence

from ttxt_kafka.book import Book

CHECKSUM_LEVELS = 25


def interleaved_crc32(bids: Sequence[Sequence[str]], asks: Sequence[Sequence[str]],
                      levels: int = CHECKSUM_LEVELS) -> int:
    """The signed CRC32 of the top `levels` of each side, interleaved bid/ask (exact strings)."""
    parts: list[str] = []
    for i in range(levels):
        if i < len(bids):
            parts.append(f"{bids[i][0]}:{bids[i][1]}")
        if i < len(asks):
            parts.append(f"{asks[i][0]}:{asks[i][1]}")
    crc = zlib.crc32(":".join(parts).encode())
    return crc - (1 << 32) if crc & 0x80000000 else crc


def book_rule(levels: int = CHECKSUM_LEVELS) -> Callable[[Book], int]:
    """`BookKeeper.book_checksum` for an exchange hashing its top `levels`: the checksum of the
    connector's own book, to compare with the exchange's."""
    def book_checksum(book: Book) -> int:
        return interleaved_crc32(book.bids(levels), book.asks(levels), levels)

    return book_checksum
