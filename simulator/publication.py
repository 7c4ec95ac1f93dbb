"""What a source hands to the sessions: one market-data message, already in the venue's format."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Channel(StrEnum):
    """Kind of message; faults pick their targets by it (e.g. `drop_message` hits BOOK only)."""

    BOOK = "book"  # an incremental book update: dropping one makes a sequence gap
    BOOK_SNAPSHOT = "book_snapshot"
    TRADES = "trades"
    KLINE = "kline"
    TICKER = "ticker"  # Binance bookTicker, Bybit tickers
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Publication:
    key: str  # subscription key: Binance stream name, Bybit topic (sources define the mapping)
    # what the venue sends for it on a plain connection (Binance: the event JSON; bytes go out
    # as a binary frame: MEXC's protobuf)
    payload: str | bytes
    channel: Channel
    symbol: str  # native symbol, upper case
    ts: float = 0.0  # capture time (replay pacing); 0 for synthetic messages
    # Binance combined-stream frame exactly as captured, so replay sends the original bytes
    wrapped: str | None = None

    @property
    def text(self) -> str:
        """The payload of a venue whose pushes are text (JSON)."""
        if not isinstance(self.payload, str):
            raise TypeError(f"{self.key}: a binary payload where text was expected")
        return self.payload
