"""What to replay: venues, symbols, channels and a time range [since, until)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from ttxt_kafka.archive.naming import stream_name

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NUMBER = re.compile(r"^\d+(\.\d+)?$")


def parse_time(text: str) -> int:
    """A time given on the command line, in microseconds since the epoch.

    ISO 8601 (`2023-11-14T22:13:20Z`, `2023-11-14 22:13:20.5`, `2023-11-14`; no zone = UTC),
    or a number since the epoch whose size says the unit: seconds (up to 10 digits before any
    decimal point), milliseconds (13), microseconds (16).
    """
    text = text.strip()
    if _NUMBER.match(text):
        whole = len(text.split(".")[0])
        scale = 1_000_000 if whole <= 10 else 1_000 if whole <= 13 else 1
        return int(Decimal(text) * scale)
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"bad time {text!r}: use ISO 8601 (2023-11-14T22:13:20Z) or seconds / ms / µs "
            f"since the epoch"
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return (dt - _EPOCH) // timedelta(microseconds=1)


def venue_channel(topic: str) -> tuple[str, str]:
    """(venue, channel) of a platform topic, whatever its prefix (`<prefix>.<venue>.<channel>`,
    replay topics included); a topic outside the scheme is its own venue, channel ''."""
    parts = topic.rsplit(".", 2)
    if len(parts) < 3:
        return topic, ""
    return parts[1], parts[2]


@dataclass(frozen=True)
class Selection:
    venues: frozenset[str] = frozenset()  # empty: all
    symbols: frozenset[str] = frozenset()  # BASE/QUOTE; empty: all
    channels: frozenset[str] = frozenset()  # empty: all
    since: int | None = None  # µs, inclusive
    until: int | None = None  # µs, exclusive

    @classmethod
    def of(cls, venues: list[str] | None = None, symbols: list[str] | None = None,
           channels: list[str] | None = None, since: int | None = None,
           until: int | None = None) -> Selection:
        if since is not None and until is not None and until <= since:
            raise ValueError("until must be after since")
        return cls(frozenset(venues or ()), frozenset(symbols or ()), frozenset(channels or ()),
                   since, until)

    def topic_ok(self, topic: str) -> bool:
        venue, channel = venue_channel(topic)
        return (not self.venues or venue in self.venues) and (
            not self.channels or channel in self.channels)

    def stream_ok(self, stream: str, topic: str) -> bool:
        """Does a file stream hold one of the selected symbols (for this topic's venue)?"""
        if not self.symbols:
            return True
        venue = venue_channel(topic)[0]
        return any(stream_name(venue, s) == stream for s in self.symbols)

    def symbol_ok(self, symbol: str) -> bool:
        return not self.symbols or symbol in self.symbols

    def span_ok(self, min_ts: int, max_ts: int) -> bool:
        """Does [min_ts, max_ts] overlap [since, until)?"""
        return (self.since is None or max_ts >= self.since) and (
            self.until is None or min_ts < self.until)
