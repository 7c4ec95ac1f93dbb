"""OKX helpers for the tests: the live capture's reference books and checksum tally, written
from `../shared/fixtures/SYNC_RULES.md` independently of `connectors/okx`."""

from __future__ import annotations

import json
from dataclasses import dataclass

from connector_support import RefBook, bitget_crc, v1_frames
from fixtures_path import OKX_WS

__all__ = ["OKX_WS", "OkxReference", "okx_crc", "okx_frames", "okx_reference"]

# OKX's checksum is Bitget's rule (SYNC_RULES.md): top 25 interleaved, signed CRC32 of the strings
okx_crc = bitget_crc


def _kind(inst_id: str) -> str:
    parts = inst_id.split("-")
    return "spot" if len(parts) == 2 else "swap" if parts[-1] == "SWAP" else "futures"


def okx_frames(channel: str, kind: str | None = None) -> list[str]:
    """The captured pushes of one channel (raw), of one instrument kind (spot/swap/futures)."""
    out = []
    for _, raw in v1_frames(OKX_WS):
        msg = json.loads(raw)
        arg = msg.get("arg", {})
        if "data" in msg and arg.get("channel") == channel and (
                kind is None or _kind(arg["instId"]) == kind):
            out.append(raw)
    return out


@dataclass
class OkxReference:
    books: dict[str, RefBook]  # by instId; `last` = the symbol's book pushes (the seqId given)
    checksums: int  # book pushes whose checksum was compared
    matched: int  # ... and matched the reference book


def okx_reference(kind: str | None = None) -> OkxReference:
    """OKX's `books` rule on the capture: a snapshot replaces the book, an update merges (size
    "0" deletes); after each push the book's checksum must equal the pushed one."""
    books: dict[str, RefBook] = {}
    checked = matched = 0
    for raw in okx_frames("books", kind):
        msg = json.loads(raw)
        sym = msg["arg"]["instId"]
        for d in msg["data"]:
            bids = [lv[:2] for lv in d["bids"]]
            asks = [lv[:2] for lv in d["asks"]]
            if msg["action"] == "snapshot":
                books[sym] = RefBook.of(bids, asks, books[sym].last if sym in books else 0)
            else:
                books[sym].set(bids, asks)
            book = books[sym]
            book.last += 1
            b, a = book.levels()
            checked += 1
            matched += okx_crc(b, a) == d["checksum"]
    return OkxReference(books, checked, matched)
