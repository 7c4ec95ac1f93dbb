"""Event time: the exchange clock as the events tell it, overall and per source partition.

Records of one partition are in order, so a partition's latest exchange time is a watermark for
every symbol on it; across partitions there is no order (a consumer may read one partition's
backlog before another's). Whatever must wait for time to pass for a symbol — closing a candle
of a quiet symbol, say — asks `of(venue, symbol)`, never the overall maximum `now_us`.
In-process sources have a single origin (None), where both are the same.
"""

from __future__ import annotations

from ttxt_kafka.events import Event

from .books import Origin


class EventClock:
    def __init__(self) -> None:
        self.now_us = 0  # the latest exchange time seen on any input
        self._by_origin: dict[Origin | None, int] = {}
        self._origin_of: dict[tuple[str, str], Origin | None] = {}

    def advance(self, event: Event, origin: Origin | None) -> int:
        """Account for an event; returns its origin's time."""
        ts = event.exchange_ts
        if ts > self.now_us:
            self.now_us = ts
        current = self._by_origin.get(origin, 0)
        if ts > current:
            self._by_origin[origin] = current = ts
        if event.symbol:
            self._origin_of[(event.venue, event.symbol)] = origin
        return current

    def of(self, venue: str, symbol: str) -> int:
        """The exchange time of the partition the symbol's events come from."""
        key = (venue, symbol)
        if key not in self._origin_of:
            return self.now_us
        return self._by_origin.get(self._origin_of[key], self.now_us)

    def forget(self, origin: Origin) -> list[tuple[str, str]]:
        """Drop a partition's clock; returns the (venue, symbol)s seen on it."""
        self._by_origin.pop(origin, None)
        gone = [k for k, o in self._origin_of.items() if o == origin]
        for key in gone:
            del self._origin_of[key]
        return gone
