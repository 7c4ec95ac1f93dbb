"""KuCoin spot public wire protocol.

REST answers `{"code": "200000", "data": ...}`, errors `{"code": "400100", "msg": ...}`:
`POST /api/v1/bullet-public` (a token, and this server's `/endpoint` with pingInterval 18000 and
pingTimeout 10000 ms), `GET /api/v2/symbols` and `/api/v1/symbols`,
`/api/v1/market/orderbook/level2_100`, `/api/v3/market/orderbook/level2` (the whole book,
signed: verified against the private side's account; without one every key is unknown,
`400003`), `/api/v1/timestamp`.
WS `/endpoint?token=..&connectId=..`: a `welcome` with the connectId first; `{"type": "ping"}` ->
`pong`; `subscribe` / `unsubscribe` of `/market/level2|match|ticker:A,B` (up to 100 symbols) and
`/market/candles:A_<type>`, answered `ack` when `response` is true, else an `error` frame
(`code` 404 for a topic KuCoin does not know, 400 for a bad request).
"""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ttxt_kafka.connectors.kucoin import auth
from ttxt_kafka.connectors.kucoin import endpoints as ep
from ttxt_kafka.credentials import AuthError
from ttxt_kafka.simulator.feeds import UnknownStream, UnknownSymbol
from ttxt_kafka.simulator.publication import Publication
from ttxt_kafka.simulator.session import Renderer, Session, dumps, json_object

from .streams import names_for

if TYPE_CHECKING:
    from ttxt_kafka.simulator.server import Simulator

_JSON = "application/json"
FULL_DEPTH = 10**6  # the v3 snapshot: every level


def ok(data: Any) -> web.Response:
    return web.Response(text=dumps({"code": ep.OK, "data": data}), content_type=_JSON)


def ok_raw(data_json: str) -> web.Response:
    """An answer around `data` already in JSON (captured bodies pass byte for byte)."""
    return web.Response(text=f'{{"code":"{ep.OK}","data":{data_json}}}', content_type=_JSON)


def error(code: str, msg: str, status: int = 400) -> web.Response:
    return web.Response(text=dumps({"code": code, "msg": msg}), status=status,
                        content_type=_JSON)


class KucoinProtocol:
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.feed = sim.feed
        self.tokens: set[str] = set()

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get(ep.WS_PATH, self._ws)
        router.add_post(ep.BULLET_PUBLIC, self._bullet)
        router.add_get(ep.SYMBOLS_PATH, self._symbols)
        router.add_get(ep.SYMBOLS_V1_PATH, self._symbols)
        router.add_get(ep.BOOK_PART_PATH, self._book_part)
        router.add_get(ep.BOOK_FULL_PATH, self._book_full)
        router.add_get(ep.TIME_PATH, self._time)

    def bullet(self) -> dict[str, Any]:
        token = uuid.uuid4().hex
        self.tokens.add(token)
        return {"token": token, "instanceServers": [{
            "endpoint": self.sim.ws_url + ep.WS_PATH, "encrypt": False, "protocol": "websocket",
            "pingInterval": 18000, "pingTimeout": 10000}]}

    async def _bullet(self, request: web.Request) -> web.Response:
        self.sim.rest_requests += 1
        return ok(self.bullet())

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        if not web.WebSocketResponse().can_prepare(request).ok:
            return web.Response(status=400, text="WebSocket upgrade required")
        if request.query.get("token") not in self.tokens:
            return error("401", "token is invalid", status=401)
        connect_id = request.query.get("connectId") or uuid.uuid4().hex
        return await self.sim.run_ws(request, _Connection(self, connect_id))

    async def _symbols(self, request: web.Request) -> web.Response:
        self.sim.rest_requests += 1
        return ok_raw(self.feed.instruments_body(None))

    async def _book(self, request: web.Request, limit: int) -> web.Response:
        symbol = request.query.get("symbol", "")
        if not symbol:
            return error("400100", "symbol is required")
        stale = self.sim.faults.take_stale(symbol)
        try:
            body = self.feed.depth_body(symbol, limit, stale.behind if stale else None)
        except UnknownSymbol:
            return error("400100", "This pair is not provided at present")
        return ok_raw(body)

    async def _book_part(self, request: web.Request) -> web.Response:
        self.sim.rest_requests += 1
        return await self._book(request, ep.PART_DEPTH)

    async def _book_full(self, request: web.Request) -> web.Response:
        """The whole book, signed: verified against the private side's account (none: every
        key is unknown)."""
        self.sim.rest_requests += 1
        exchange = getattr(self.sim.private, "exchange", None)
        if exchange is None:
            return error(str(auth.ERR_KEY), "KC-API-KEY not exists", status=401)
        try:
            auth.verify_rest(exchange.credentials, dict(request.headers), "GET", request.path,
                             request.raw_path.partition("?")[2], "",
                             now_ms=time.time_ns() // 1_000_000)
        except AuthError as exc:
            return error(str(exc.code), exc.message, status=401)
        return await self._book(request, FULL_DEPTH)

    async def _time(self, request: web.Request) -> web.Response:
        self.sim.rest_requests += 1
        return ok(int(time.time() * 1000))


class _Connection:
    def __init__(self, proto: KucoinProtocol, connect_id: str) -> None:
        self.proto = proto
        self.feed = proto.feed
        self.connect_id = connect_id

    def renderer(self, session: Session) -> Renderer:
        def render(pub: Publication, names: list[str]) -> list[str | bytes]:
            return [pub.payload]  # the push already names its topic

        return render

    def opened(self, session: Session) -> None:
        session.send_json({"id": self.connect_id, "type": "welcome"})

    def on_text(self, session: Session, text: str) -> None:
        req = json_object(text)
        if req is None:
            session.send_json({"id": "", "type": "error", "code": 400,
                               "data": "the request is not JSON"})
            return
        msg_id, kind, topic = str(req.get("id", "")), req.get("type"), req.get("topic")
        if kind == "ping":
            session.pings_received += 1  # KuCoin's keepalive is this message, not a WS ping
            session.send_json({"id": msg_id, "type": "pong",
                               "timestamp": time.time_ns() // 1000})
            return
        if kind not in ("subscribe", "unsubscribe") or not isinstance(topic, str):
            session.send_json({"id": msg_id, "type": "error", "code": 400,
                               "data": f"unsupported type {kind!r}"})
            return
        try:
            names = names_for(topic)
            resolved = [(n, self.feed.resolve(n)) for n in names] if kind == "subscribe" else []
        except UnknownStream:
            session.send_json({"id": msg_id, "type": "error", "code": 404,
                               "data": f"topic {topic} is not found"})
            return
        if kind == "unsubscribe":
            keys = [k for n in names if (k := session.unsubscribe(n))]
            if req.get("response"):
                session.send_json({"id": msg_id, "type": "ack"})
            if keys:
                self.feed.unsubscribed(session, keys)
            return
        fresh = []
        for name, key in resolved:
            if name not in session.subs:
                session.subscribe(name, key)
                fresh.append(name)
        if req.get("response"):
            session.send_json({"id": msg_id, "type": "ack"})
        if fresh:
            self.feed.subscribed(session, fresh)
