"""OKX v5 public market-data wire protocol (spot and swaps), as the simulator speaks it.

WS `/ws/v5/public` (books, trades, tickers, bbo-tbt) and `/ws/v5/business` (candles):
`{"op":"subscribe"|"unsubscribe","args":[{"channel","instId"}]}`, each arg answered by
`{"event":"subscribe","arg":{..},"connId":..}`; errors as OKX sends them:
`{"event":"error","code":"60012","msg":"Invalid request: ...","connId":..}` (not JSON, bad op,
args not a list), 60018 for a channel or instId that does not exist or is asked on the wrong URL;
the text `ping` is answered by `pong`.
REST: GET `/api/v5/public/instruments?instType=SPOT|SWAP` (50014 without instType; another
instType lists nothing here), `/api/v5/market/books?instId=..&sz=..`, `/api/v5/public/time`.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ttxt_kafka.simulator.feeds import UnknownStream, UnknownSymbol
from ttxt_kafka.simulator.op_args import OpArgsConnection, Problem
from ttxt_kafka.simulator.session import Session, dumps

from .topics import CANDLES, INST_TYPES, key_of

if TYPE_CHECKING:
    from ttxt_kafka.simulator.server import Simulator

_JSON = "application/json"


def rest_ok(data: Any) -> web.Response:
    return web.Response(text=dumps({"code": "0", "msg": "", "data": data}), content_type=_JSON)


def rest_error(code: str, msg: str, status: int = 400) -> web.Response:
    return web.Response(text=dumps({"code": code, "msg": msg, "data": []}),
                        content_type=_JSON, status=status)


class OkxProtocol:
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.feed = sim.feed
        self.inst_type = INST_TYPES[sim.spec.category]

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/ws/v5/public", self._public)
        router.add_get("/ws/v5/business", self._business)
        router.add_get("/api/v5/public/time", self._time)
        router.add_get("/api/v5/public/instruments", self._instruments)
        router.add_get("/api/v5/market/books", self._books)

    async def _public(self, request: web.Request) -> web.StreamResponse:
        return await self._ws(request, business=False)

    async def _business(self, request: web.Request) -> web.StreamResponse:
        return await self._ws(request, business=True)

    async def _ws(self, request: web.Request, business: bool) -> web.StreamResponse:
        if not web.WebSocketResponse().can_prepare(request).ok:
            return web.Response(status=400, text="WebSocket upgrade required")
        return await self.sim.run_ws(request, _Connection(self, business))

    # -- REST ----------------------------------------------------------------------------

    async def _instruments(self, request: web.Request) -> web.Response:
        self.sim.rest_requests += 1
        inst_type = request.query.get("instType")
        if not inst_type:
            return rest_error("50014", "Parameter instType can not be empty")
        if inst_type != self.inst_type:
            return rest_ok([])  # another venue's instruments: none here
        inst_id = request.query.get("instId")
        try:
            body = self.feed.instruments_body([inst_id] if inst_id else None)
        except UnknownSymbol:
            return rest_error("51001", "Instrument ID does not exist")
        return web.Response(text=body, content_type=_JSON)

    async def _books(self, request: web.Request) -> web.Response:
        self.sim.rest_requests += 1
        inst_id = request.query.get("instId", "")
        if not inst_id:
            return rest_error("50014", "Parameter instId can not be empty")
        raw = request.query.get("sz", "1")
        if not raw.isdigit() or not 1 <= int(raw) <= 400:
            return rest_error("51000", "Parameter sz error")
        stale = self.sim.faults.take_stale(inst_id)
        try:
            body = self.feed.depth_body(inst_id, int(raw), stale.behind if stale else None)
        except UnknownSymbol:
            return rest_error("51001", "Instrument ID does not exist")
        return web.Response(text=body, content_type=_JSON)

    async def _time(self, request: web.Request) -> web.Response:
        self.sim.rest_requests += 1
        return rest_ok([{"ts": str(time.time_ns() // 1_000_000)}])


def _conn_id(session: Session) -> str:
    return f"{session.id:08x}"  # OKX names each connection in its answers


class _Connection(OpArgsConnection):
    all_or_nothing = True  # OKX refuses the whole request

    def __init__(self, proto: OkxProtocol, business: bool) -> None:
        super().__init__(proto.feed)
        self.proto = proto
        self.business = business

    def _error(self, session: Session, code: str, msg: str) -> None:
        session.send_json({"event": "error", "code": code, "msg": msg,
                           "connId": _conn_id(session)})

    def refuse(self, session: Session, problem: Problem, text: str) -> None:
        if problem == "args":
            self._error(session, "60013", "Invalid args")
        else:
            self._error(session, "60012", f"Invalid request: {text[:100]}")

    def ack(self, session: Session, op: str, arg: Any) -> None:
        session.send_json({"event": op, "arg": arg, "connId": _conn_id(session)})

    def check(self, session: Session, arg: Any) -> tuple[str, str] | None:
        if not isinstance(arg, dict) or not all(
                isinstance(arg.get(k), str) for k in ("channel", "instId")):
            self._error(session, "60012", f"Invalid request: {dumps(arg)[:100]}")
            return None
        channel, inst_id = arg["channel"], arg["instId"]
        wrong_url = (channel in CANDLES) != self.business
        name = key_of(channel, inst_id)
        try:
            if wrong_url:
                raise UnknownStream(name)
            return name, self.feed.resolve(name)
        except UnknownStream:
            self._error(session, "60018", f"Wrong URL or channel:{channel},instId:{inst_id} "
                                          "doesn't exist. Please use the correct URL, channel "
                                          "and parameters referring to API document.")
            return None
