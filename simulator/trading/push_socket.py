"""A private WebSocket of the simulator that pushes the matching engine's events (Bitget's and
OKX's `op` sockets, which log in on the socket; KuCoin's and MEXC's, authorized by the URL's token
or listen key, which start `authed`): the exchange module says how events are shaped (`pushes`),
how a message is sent (`send`: JSON unless told) and answers the client's requests (`on_text`,
which sets `authed` and `channels`); this keeps the session and pushes each engine call's
messages on the channels the client subscribed to, once authorized."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ttxt_kafka.matching import EngineEvent
from ttxt_kafka.simulator.publication import Publication
from ttxt_kafka.simulator.session import Renderer, Session

if TYPE_CHECKING:
    from ttxt_kafka.simulator.server import ConnectionHandler, Simulator
    from ttxt_kafka.simulator.trading.exchange import SimExchange

Pushes = Callable[[list[EngineEvent]], list[tuple[str, Any]]]  # (channel, message)


class PushSocket:
    def __init__(self, pushes: Pushes, authed: bool = False) -> None:
        self.pushes = pushes
        self.session: Session | None = None
        self.authed = authed
        self.channels: set[str] = set()

    def opened(self, session: Session) -> None:
        self.session = session

    def renderer(self, session: Session) -> Renderer:
        def render(pub: Publication, names: list[str]) -> list[str]:
            return []  # no market data on a private socket

        return render

    def on_events(self, events: list[EngineEvent]) -> None:
        session = self.session
        if session is None or session.closed or not self.authed:
            return
        for channel, message in self.pushes(events):
            if channel in self.channels:
                self.send(session, message)

    def send(self, session: Session, message: Any) -> None:
        session.send_json(message)


async def serve_push_socket(sim: Simulator, exchange: SimExchange, request: web.Request,
                            conn: PushSocket) -> web.StreamResponse:
    """Run `conn` on this request's WebSocket, fed every engine event while it is open."""
    if not web.WebSocketResponse().can_prepare(request).ok:
        return web.Response(status=400, text="WebSocket upgrade required")
    exchange.listeners.append(conn.on_events)
    try:
        handler: ConnectionHandler = conn  # type: ignore[assignment]
        return await sim.run_ws(request, handler)
    finally:
        exchange.listeners.remove(conn.on_events)
