"""What a strategy reads: venues x channels as topics, and which symbols it keeps.

Group topics are read by the strategy's consumer group, partitions split between its instances
(market data, `executions`). Broadcast topics are read whole by every instance, outside the
group: `account` holds venue-wide balances keyed by venue, which one partition owner alone
would see.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ttxt_kafka.events import Event
from ttxt_kafka.topics import DEFAULT_PREFIX, topic

BROADCAST_CHANNELS = frozenset({"account"})


class SubscriptionError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Subscription:
    venues: tuple[str, ...]
    symbols: frozenset[str]  # empty: every symbol
    channels: tuple[str, ...]
    prefix: str = DEFAULT_PREFIX

    @classmethod
    def of(cls, venues: Iterable[str], symbols: Iterable[str], channels: Iterable[str],
           prefix: str = DEFAULT_PREFIX) -> Subscription:
        sub = cls(tuple(dict.fromkeys(venues)), frozenset(symbols),
                  tuple(dict.fromkeys(channels)), prefix)
        if not sub.venues:
            raise SubscriptionError("a strategy needs at least one venue (set `venues` or "
                                    "pass --venue)")
        if not sub.channels:
            raise SubscriptionError("a strategy needs at least one channel")
        sub.topics()  # validates the names
        return sub

    def topics(self) -> list[str]:
        return self.group_topics() + self.broadcast_topics()

    def group_topics(self) -> list[str]:
        return [topic(v, c, self.prefix) for v in self.venues for c in self.channels
                if c not in BROADCAST_CHANNELS]

    def broadcast_topics(self) -> list[str]:
        return [topic(v, c, self.prefix) for v in self.venues for c in self.channels
                if c in BROADCAST_CHANNELS]

    def orders_topic(self, venue: str) -> str:
        return topic(venue, "orders", self.prefix)

    @property
    def has_books(self) -> bool:
        return "book" in self.channels

    def wants_symbol(self, symbol: str) -> bool:
        """Venue-wide events (symbol "") always pass; others only if listed (or none listed)."""
        return not self.symbols or not symbol or symbol in self.symbols

    def wants(self, event: Event) -> bool:
        return event.venue in self.venues and self.wants_symbol(event.symbol)
