"""`Simulator`: one venue's exchange endpoints (WS + REST + control API) on one local port."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, Literal, Protocol

from aiohttp import WSMsgType, web

from ttxt_kafka import venues
from ttxt_kafka.simulator import control
from ttxt_kafka.simulator.faults import Fault, FaultController, FaultKind
from ttxt_kafka.simulator.feeds import Feed, Source
from ttxt_kafka.simulator.session import Renderer, Session
from ttxt_kafka.simulator.trading import PrivateSide, SimExchange, TradingSettings
from ttxt_kafka.venues import Part, VenueSpec

log = logging.getLogger(__name__)

VENUE_DEFAULT: Literal["venue"] = "venue"  # use the venue's own ping policy
KEEP_CLOSED_SESSIONS = 100  # closed sessions kept for `state()`; older ones are forgotten
CLOSE_TIMEOUT = 1.0  # seconds to wait for a client's close frame: a stuck client must not stall us


class ConnectionHandler(Protocol):
    """What a protocol supplies for one accepted WebSocket."""

    def opened(self, session: Session) -> None: ...

    def on_text(self, session: Session, text: str) -> None: ...

    def renderer(self, session: Session) -> Renderer: ...


class Simulator:
    """Serve one venue's market data from `source` at `host:port` (0 = any free port).

    >>> sim = Simulator("binance", SyntheticSource(seed=1))   # doctest: +SKIP
    >>> await sim.start(); print(sim.ws_url, sim.rest_url)     # doctest: +SKIP
    """

    def __init__(
        self,
        venue: str,
        source: Source,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        ping_interval: float | None | Literal["venue"] = VENUE_DEFAULT,
        pong_timeout: float | None | Literal["venue"] = VENUE_DEFAULT,
        trading: TradingSettings | None = None,
    ) -> None:
        self.spec: VenueSpec = venues.venue(venue)
        self.venue = self.spec.name
        self.feed: Feed = source.bind(self.spec)
        self.host = host
        self.port = port
        beat = self.spec.heartbeat
        self.ping_interval = beat.server_ping if ping_interval == "venue" else ping_interval
        self.pong_timeout = beat.pong_timeout if pong_timeout == "venue" else pong_timeout
        self.faults = FaultController()
        self.sessions: dict[int, Session] = {}
        self.connections_total = 0
        self.rest_requests = 0
        self.started_at = 0.0
        self._runner: web.AppRunner | None = None
        self.protocol: _RouteProvider | None = None
        # The private side (orders, user data) when `trading` is given: simulator/trading/.
        self.private: PrivateSide | None = PrivateSide(self, trading) if trading else None

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> Simulator:
        app = web.Application()
        if self.private is not None:  # first: its /ws/<listenKey> must win over /ws/<streams>
            self.private.add_routes(app.router)
        self.protocol = _protocol_for(self)  # kept: tests tune a venue's rules on it
        self.protocol.add_routes(app.router)
        control.add_routes(app.router, self)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        self.port = self._runner.addresses[0][1]  # what port 0 became
        await self.feed.start()
        if self.private is not None:
            await self.private.start()
        self.started_at = time.time()
        log.info("simulator %s listening on %s", self.venue, self.rest_url)
        return self

    async def stop(self) -> None:
        if self.private is not None:
            await self.private.stop()
        await self.feed.stop()
        for session in list(self.sessions.values()):
            await session.shutdown()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Simulator:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def ws_url(self) -> str:
        """Base of the WebSocket endpoints, e.g. `ws://127.0.0.1:PORT` (append the venue path)."""
        return f"ws://{self.host}:{self.port}"

    @property
    def rest_url(self) -> str:
        """Base of the REST endpoints, e.g. `http://127.0.0.1:PORT`."""
        return f"http://{self.host}:{self.port}"

    @property
    def ws_endpoint(self) -> str:
        """The venue's public WS URL here (its `VenueSpec.public_ws_path` on this host)."""
        return f"{self.ws_url}{self.spec.public_ws_path}"

    # -- faults and state ----------------------------------------------------------------

    def inject(self, fault: Fault | FaultKind | str, **params: Any) -> dict[str, Any]:
        """Inject a fault now: `sim.inject("drop_message", count=2)` or `sim.inject(Fault(...))`."""
        if not isinstance(fault, Fault):
            fault = Fault(kind=FaultKind(fault), **params)
        return self.faults.inject(fault, self.open_sessions())

    def open_sessions(self) -> list[Session]:
        return [s for s in self.sessions.values() if not s.closed]

    @property
    def exchange(self) -> SimExchange:
        """The matching engine side (only with `trading=`)."""
        if self.private is None:
            raise RuntimeError("this simulator has no private side: pass trading=")
        return self.private.exchange

    @property
    def finished(self) -> bool:
        """The source has nothing more to send and every open socket has flushed its queue."""
        return self.feed.finished and all(s.queued == 0 for s in self.open_sessions())

    async def wait_finished(self, timeout: float | None = None) -> None:
        """Wait until `finished` (capture replayed to its end, synthetic step limit reached)."""

        async def poll() -> None:
            while not self.finished:
                await asyncio.sleep(0.005)

        await asyncio.wait_for(poll(), timeout)

    def state(self) -> dict[str, Any]:
        sessions = [s.state() for s in self.sessions.values()]
        return {
            "venue": self.venue,
            "source": self.feed.state(),
            "ws_url": self.ws_url,
            "rest_url": self.rest_url,
            "connections_total": self.connections_total,
            "connections_open": sum(1 for s in sessions if s["open"]),
            "frames_sent": sum(s["frames_sent"] for s in sessions),
            "rest_requests": self.rest_requests,
            "replay_finished": self.finished,
            "faults_applied": list(self.faults.applied),
            "faults_pending": self.faults.pending,
            "sessions": sessions,
            **({"trading": self.private.state()} if self.private is not None else {}),
        }

    # -- WebSocket plumbing shared by the protocols ---------------------------------------

    async def run_ws(
        self, request: web.Request, handler: ConnectionHandler
    ) -> web.WebSocketResponse:
        """Accept a WebSocket and run it until either side closes."""
        # autoping off: we answer pings ourselves so pongs can be counted (tests, pong timeout)
        ws = web.WebSocketResponse(
            autoping=False, compress=False, max_msg_size=1 << 20, timeout=CLOSE_TIMEOUT
        )
        await ws.prepare(request)
        self.connections_total += 1
        session = Session(self.connections_total, request.path_qs, ws, request, self.faults)
        session.render = handler.renderer(session)
        self.sessions[session.id] = session
        self.feed.attach(session)
        session.start_task(session.run_sender())
        if self.ping_interval:
            session.start_task(session.run_pinger(self.ping_interval, self.pong_timeout))
        try:
            handler.opened(session)
            self.faults.session_opened(session)
            await self._receive_loop(session, handler.on_text)
        finally:
            session.closed = True
            self.feed.detach(session)
            await session.shutdown()
            self._forget_old_sessions()
        return ws

    def _forget_old_sessions(self) -> None:
        closed = [sid for sid, s in self.sessions.items() if s.closed]
        for sid in closed[:-KEEP_CLOSED_SESSIONS]:
            del self.sessions[sid]

    async def _receive_loop(
        self, session: Session, on_text: Callable[[Session, str], None]
    ) -> None:
        ws = session.ws
        while not session.closed:
            msg = await ws.receive()
            if msg.type is WSMsgType.TEXT:
                try:
                    on_text(session, msg.data)
                except Exception:  # a protocol bug must not take the server down
                    log.exception("session %s: error handling %r", session.id, msg.data[:200])
            elif msg.type is WSMsgType.PING:
                session.pings_received += 1
                await ws.pong(msg.data)
            elif msg.type is WSMsgType.PONG:
                session.pongs_received += 1
            elif msg.type in (
                WSMsgType.CLOSE,
                WSMsgType.CLOSING,
                WSMsgType.CLOSED,
                WSMsgType.ERROR,
            ):
                if msg.type is WSMsgType.CLOSE:
                    await ws.close()
                return


class _RouteProvider(Protocol):
    def add_routes(self, router: web.UrlDispatcher) -> None: ...


def _protocol_for(sim: Simulator) -> _RouteProvider:
    protocol: _RouteProvider = sim.spec.part(Part.SIM_PROTOCOL)(sim)
    return protocol
