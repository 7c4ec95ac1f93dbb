"""Capture replay: the frames of a real capture, in order, to each client that subscribes.

Each WebSocket session gets its own replay from the start of the capture, as a fresh connection
to the exchange would have got that session's traffic. It starts `settle` seconds after the
client's last subscription (so a client that subscribes topic by topic misses nothing), runs at
full speed or paced by the recorded receive times divided by `speed`, sends only the streams the
client subscribed to, and then leaves the socket open and idle (still answering pings) so the
client's final state can be inspected.
"""

from __future__ import annotations

import asyncio
import logging
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from ttxt_kafka.simulator.captures import Capture, Frame, HttpRecord, read_capture
from ttxt_kafka.simulator.feeds import Feed, Source, UnknownStream
from ttxt_kafka.simulator.publication import Publication
from ttxt_kafka.simulator.session import HIGH_WATER, Session
from ttxt_kafka.venues import Part, VenueSpec

log = logging.getLogger(__name__)


class CaptureDialect(ABC):
    """How one exchange's capture is read: which frames are data, what REST bodies to serve."""

    def __init__(self, spec: VenueSpec) -> None:
        self.spec = spec

    @abstractmethod
    def wants_connection(self, url: str) -> bool:
        """Whether a captured connection belongs to this venue."""

    @abstractmethod
    def classify(self, frame: Frame) -> Publication | None:
        """The publication for a received frame; None for control frames (acks, pongs)."""

    @abstractmethod
    def index_http(self, records: list[HttpRecord]) -> None:
        """Keep the REST responses this venue serves (snapshots, instrument lists)."""

    @abstractmethod
    def symbols(self) -> set[str]: ...

    @abstractmethod
    def resolve(self, name: str, captured: set[str]) -> str: ...

    def resolve_known(self, name: str, captured: set[str], symbol_of: Callable[[str], str]
                      ) -> str:
        """`resolve` of the venues whose stream names are the capture's keys: a captured name
        as it is, else the name of a symbol the capture knows (`symbol_of` parses it, refusing a
        malformed name) that it happens not to hold; UnknownStream otherwise."""
        if name in captured:
            return name
        if symbol_of(name) not in self.symbols():
            raise UnknownStream(name)
        return name

    @abstractmethod
    def depth_body(self, symbol: str, limit: int, stale_behind: int | None, position: float) -> str:
        """REST book snapshot; `position` is the furthest replay time reached by any client."""

    @abstractmethod
    def instruments_body(self, symbols: list[str] | None) -> str: ...


class CaptureSource(Source):
    """Replay capture file(s).

    `paths`: capture files; for a cryptofeed v1 WS file the sibling HTTP/exchange-info files of
    the same feed (`__cryptofeed_<FEED>.http.*`, `__cryptofeed_<FEED>.0.txt`) are added unless
    `discover=False`. `speed`: None = as fast as the client reads, else recorded time / speed.
    """

    def __init__(
        self,
        *paths: str | Path,
        speed: float | None = None,
        settle: float = 0.1,
        discover: bool = True,
    ) -> None:
        if not paths:
            raise ValueError("CaptureSource needs at least one capture file")
        if speed is not None and speed <= 0:
            raise ValueError("speed must be positive (None = as fast as possible)")
        self.paths = (
            _with_siblings([Path(p) for p in paths]) if discover else [Path(p) for p in paths]
        )
        self.speed = speed
        self.settle = settle

    def bind(self, spec: VenueSpec) -> Feed:
        captures = [read_capture(p) for p in self.paths]
        return CaptureFeed(spec, _dialect(spec), captures, self.speed, self.settle)


_CF_FEED = re.compile(r"__cryptofeed_(?P<feed>[A-Z0-9_]+)\.(?:ws|http\.|\d)")


def _with_siblings(paths: list[Path]) -> list[Path]:
    out = list(paths)
    for p in paths:
        m = _CF_FEED.search(p.name)
        if not m or p.name.endswith(".jsonl"):
            continue
        marker = f"__cryptofeed_{m['feed']}."  # the dot keeps BINANCE from matching BINANCE_FUTURES
        for sib in sorted(p.parent.glob(f"*{marker}*")):
            if sib not in out and not sib.name.endswith((".zst", ".gz")):
                out.append(sib)
    return out


def _dialect(spec: VenueSpec) -> CaptureDialect:
    dialect: CaptureDialect = spec.part(Part.SIM_CAPTURE)(spec)
    return dialect


class CaptureFeed(Feed):
    kind = "capture"

    def __init__(
        self,
        spec: VenueSpec,
        dialect: CaptureDialect,
        captures: Iterable[Capture],
        speed: float | None,
        settle: float,
    ) -> None:
        super().__init__(spec)
        self.dialect = dialect
        self.speed = speed
        self.settle = settle
        captures = list(captures)
        frames: list[Frame] = []
        for cap in captures:
            conns = {c for c, info in cap.connections.items() if dialect.wants_connection(info.url)}
            frames += [f for f in cap.received() if f.conn in conns]
            dialect.index_http(cap.http)
        frames.sort(key=lambda f: f.ts)  # stable: frames of one connection keep file order
        self.publications = [p for f in frames if (p := dialect.classify(f)) is not None]
        if not self.publications:
            files = ", ".join(str(c.path) for c in captures)
            raise ValueError(f"no {spec.name} market data in {files}")
        self.keys = {p.key for p in self.publications}
        self._replays: dict[Session, asyncio.Task[None]] = {}
        self._due: dict[Session, float] = {}
        self._position: dict[Session, float] = {}
        self.replays_finished = 0

    @property
    def finished(self) -> bool:
        running = any(not s.replay_finished for s in self._replays if not s.closed)
        return self.replays_finished > 0 and not running

    def symbols(self) -> set[str]:
        return self.dialect.symbols()

    def resolve(self, name: str) -> str:
        return self.dialect.resolve(name, self.keys)

    def subscribed(self, session: Session, names: list[str]) -> None:
        for name in names:
            if session.subs.get(name) not in self.keys:
                session.unserved.add(name)
                log.warning("capture has no frames for %s; it will stay silent", name)
        self._due[session] = asyncio.get_running_loop().time() + self.settle
        if session not in self._replays:
            self._replays[session] = asyncio.get_running_loop().create_task(self._replay(session))

    def detach(self, session: Session) -> None:
        super().detach(session)
        task = self._replays.pop(session, None)
        if task is not None:
            task.cancel()
        self._due.pop(session, None)
        self._position.pop(session, None)

    async def _replay(self, session: Session) -> None:
        loop = asyncio.get_running_loop()
        while (wait := self._due[session] - loop.time()) > 0:
            await asyncio.sleep(wait)  # subscriptions still arriving: start after they settle
        session.replay_started = True
        t0, ts0 = loop.time(), self.publications[0].ts
        for i, pub in enumerate(self.publications):
            if session.closed:
                return
            if self.speed is not None:
                delay = t0 + (pub.ts - ts0) / self.speed - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
            session.publish(pub)
            self._position[session] = pub.ts
            if session.queued >= HIGH_WATER:
                await session.wait_writable()
            elif i % 256 == 255:
                await asyncio.sleep(0)  # full speed must still let the sender run
        session.replay_finished = True
        self.replays_finished += 1

    def depth_body(self, symbol: str, limit: int, stale_behind: int | None) -> str:
        position = max(self._position.values(), default=float("-inf"))
        return self.dialect.depth_body(symbol, limit, stale_behind, position)

    def instruments_body(self, symbols: list[str] | None) -> str:
        return self.dialect.instruments_body(symbols)

    def state(self) -> dict[str, Any]:
        return {
            **super().state(),
            "frames": len(self.publications),
            "keys": len(self.keys),
            "replays_finished": self.replays_finished,
            "speed": self.speed,
        }
