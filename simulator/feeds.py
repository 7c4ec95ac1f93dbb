"""The source abstraction: where the market data comes from, behind one interface.

A `Source` is the user's choice (a capture, a synthetic market, later a matching engine); bound to
a venue it becomes a `Feed`, which is what the protocol code talks to: it resolves subscription
names, publishes into sessions, and answers the REST calls that carry market state.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ttxt_kafka.simulator.session import Session
    from ttxt_kafka.venues import VenueSpec


class UnknownStream(ValueError):
    """A subscription name the venue would reject (bad syntax, unknown symbol or channel)."""


class UnknownSymbol(KeyError):
    """A REST call for a symbol the source has no data for."""


class Feed(ABC):
    """A source bound to one venue."""

    kind: str = "feed"

    def __init__(self, spec: VenueSpec) -> None:
        self.spec = spec
        self.sessions: set[Session] = set()

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Start background work (market loop)."""

    async def stop(self) -> None:  # noqa: B027 - optional hook
        """Stop background work."""

    @property
    @abstractmethod
    def finished(self) -> bool:
        """No more market data will come (capture replayed to the end, synthetic limit hit)."""

    @abstractmethod
    def symbols(self) -> set[str]:
        """Native symbols this feed knows (upper case)."""

    @abstractmethod
    def resolve(self, name: str) -> str:
        """Publication key for a subscription name; raises UnknownStream."""

    def attach(self, session: Session) -> None:
        self.sessions.add(session)

    def detach(self, session: Session) -> None:
        self.sessions.discard(session)

    def subscribed(self, session: Session, names: list[str]) -> None:  # noqa: B027
        """Called after the protocol has recorded and acknowledged new subscriptions."""

    def unsubscribed(self, session: Session, keys: list[str]) -> None:  # noqa: B027
        """Called after subscriptions were removed."""

    @abstractmethod
    def depth_body(self, symbol: str, limit: int, stale_behind: int | None) -> str:
        """The venue's REST order-book snapshot body; stale_behind: serve an outdated id."""

    @abstractmethod
    def instruments_body(self, symbols: list[str] | None) -> str:
        """The venue's REST instrument list body (exchangeInfo / instruments-info)."""

    def state(self) -> dict[str, Any]:
        return {"kind": self.kind, "finished": self.finished}


class Source(ABC):
    """What the user passes to `Simulator(source=...)`."""

    @abstractmethod
    def bind(self, spec: VenueSpec) -> Feed:
        """The feed that serves this source's data for one venue."""


async def wait_writable(sessions: set[Session] | list[Session]) -> None:
    """Backpressure: wait until no session's queue is above its high-water mark."""
    for s in list(sessions):
        await s.wait_writable()
    await asyncio.sleep(0)
