"""A private WebSocket of the simulator that pushes the matching engine's events (Bitget's and
OKX's `op` sockets, which log in on the socket; KuCoin's and MEXC's, authorized by the URL's token
or listen key, which start `authed`): the exchange module says how events are shaped (`pushes`),
how a message is sent (`send`: JSON unless told) and answers the client's requests (`on_text`,
which sets `authed` and `channels`); this keeps the session and pushes each engine call's
messages on the channels the client subscribed to, once authorized."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal

from aiohttp import web

from ttxt_kafka.credentials import AuthError
from ttxt_kafka.matching import EngineEvent
from ttxt_kafka.simulator.faults import FaultKind
from ttxt_kafka.simulator.op_args import op_request
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


class OpLoginSocket(PushSocket, ABC):
    """Bitget's and OKX's private socket: the text `ping` (answered `pong`), `{"op": "login"}`
    (verified by the venue; a BAD_SIGNATURE fault refuses it with `bad_signature()`), then
    `{"op": "subscribe"|"unsubscribe", "args": [...]}` of private channels, each arg answered
    on its own. Every op is counted in the exchange's requests; the venue words the answers."""

    def __init__(self, pushes: Pushes, exchange: SimExchange) -> None:
        super().__init__(pushes)
        self.exchange = exchange

    @abstractmethod
    def refuse(self, session: Session, problem: Literal["json", "op"], text: str) -> None:
        """Answer a request that is not JSON (`json`) or whose op is not known (`op`)."""

    @abstractmethod
    def bad_signature(self) -> AuthError:
        """The login error of a bad signature (the BAD_SIGNATURE fault)."""

    @abstractmethod
    def verify_login(self, req: dict[str, Any]) -> None:
        """Check a login request against the account's credentials; raises AuthError."""

    @abstractmethod
    def login_answer(self, session: Session, error: AuthError | None) -> None:
        """Answer a login: refused (`error`) or done."""

    @abstractmethod
    def subscribable(self, session: Session, arg: Any) -> str | None:
        """The private channel a subscribe arg names; None after refusing it (not logged in,
        no such channel)."""

    @abstractmethod
    def ack(self, session: Session, op: str, arg: Any) -> None: ...

    def on_text(self, session: Session, text: str) -> None:
        req = op_request(session, text, lambda: self.refuse(session, "json", text),
                         count_ping=False)  # pings_received: the public keepalives only
        if req is None:
            return
        op = req.get("op")
        self.exchange.requests[f"WS {op}"] += 1
        if op == "login":
            try:
                if self.exchange.take_fault(FaultKind.BAD_SIGNATURE):
                    raise self.bad_signature()
                self.verify_login(req)
            except AuthError as exc:
                self.login_answer(session, exc)
                return
            self.authed = True
            self.login_answer(session, None)
        elif op == "subscribe":
            for arg in req.get("args") or []:
                channel = self.subscribable(session, arg)
                if channel is not None:
                    self.channels.add(channel)
                    self.ack(session, "subscribe", arg)
        elif op == "unsubscribe":
            for arg in req.get("args") or []:
                if isinstance(arg, dict):
                    self.channels.discard(str(arg.get("channel")))
                    self.ack(session, "unsubscribe", arg)
        else:
            self.refuse(session, "op", text)


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
