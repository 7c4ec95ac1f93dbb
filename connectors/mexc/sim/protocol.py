"""MEXC spot v3 public wire protocol.

WS `/ws`: JSON `{"method": "SUBSCRIPTION" | "UNSUBSCRIPTION", "params": [...], "id": n}`
answered `{"id": n, "code": 0, "msg": "<the streams, comma-separated>"}`; a stream MEXC does
not serve, or one over the 30 a connection may hold, is answered as MEXC answers it, with code 0
and `"msg": "Not Subscribed successfully! [<streams>].  Reason： <why>"`; `{"method": "PING"}`
-> `{"id": 0, "code": 0, "msg": "PONG"}`; anything else `{"id": 0, "code": 0, "msg": "wrong
method"}`. Pushes are binary protobuf frames.
REST: `/api/v3/exchangeInfo`, `/api/v3/depth` (limit <= 5000), `/api/v3/time`; errors
`{"code": -1121, "msg": "Invalid symbol."}` with HTTP 400.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from aiohttp import web

from ttxt_kafka.connectors.mexc import endpoints as ep
from ttxt_kafka.simulator.feeds import UnknownStream, UnknownSymbol
from ttxt_kafka.simulator.publication import Publication
from ttxt_kafka.simulator.session import Renderer, Session, dumps, json_object

if TYPE_CHECKING:
    from ttxt_kafka.simulator.server import Simulator

_JSON = "application/json"


def _error(code: int, msg: str, status: int = 400) -> web.Response:
    return web.Response(text=dumps({"code": code, "msg": msg}), status=status,
                        content_type=_JSON)


def refused(params: list[str], why: str) -> str:
    """MEXC's answer to a subscription it will not serve (code 0, the reason in `msg`)."""
    return f"Not Subscribed successfully! [{','.join(params)}].  Reason： {why}"


class MexcProtocol:
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.feed = sim.feed

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get(ep.WS_PATH, self._ws)
        router.add_get(ep.EXCHANGE_INFO_PATH, self._exchange_info)
        router.add_get(ep.DEPTH_PATH, self._depth)
        router.add_get(ep.TIME_PATH, self._time)

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        if not web.WebSocketResponse().can_prepare(request).ok:
            return web.Response(status=400, text="WebSocket upgrade required")
        private = self.sim.private
        if "listenKey" in request.query and private is not None:  # the user data stream
            return await private.protocol.ws(request)  # type: ignore[no-any-return]
        return await self.sim.run_ws(request, _Connection(self))

    async def _exchange_info(self, request: web.Request) -> web.Response:
        self.sim.rest_requests += 1
        return web.Response(text=self.feed.instruments_body(None), content_type=_JSON)

    async def _depth(self, request: web.Request) -> web.Response:
        self.sim.rest_requests += 1
        symbol = request.query.get("symbol", "")
        if not symbol:
            return _error(700002, "Mandatory parameter 'symbol' was not sent")
        raw_limit = request.query.get("limit", "100")
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= ep.MAX_DEPTH_LIMIT:
            return _error(-1121, f"limit must be in [1, {ep.MAX_DEPTH_LIMIT}]")
        stale = self.sim.faults.take_stale(symbol)
        try:
            body = self.feed.depth_body(symbol, int(raw_limit), stale.behind if stale else None)
        except UnknownSymbol:
            return _error(-1121, "Invalid symbol.")
        return web.Response(text=body, content_type=_JSON)

    async def _time(self, request: web.Request) -> web.Response:
        self.sim.rest_requests += 1
        return web.Response(text=dumps({"serverTime": int(time.time() * 1000)}),
                            content_type=_JSON)


class _Connection:
    def __init__(self, proto: MexcProtocol) -> None:
        self.proto = proto
        self.feed = proto.feed

    def renderer(self, session: Session) -> Renderer:
        def render(pub: Publication, names: list[str]) -> list[str | bytes]:
            return [pub.payload]  # the push names its channel

        return render

    def opened(self, session: Session) -> None:
        pass

    def on_text(self, session: Session, text: str) -> None:
        req = json_object(text)
        if req is None:
            session.send_json({"id": 0, "code": 0, "msg": "wrong method"})
            return
        method, params, rid = req.get("method"), req.get("params"), req.get("id", 0)
        if method == "PING":
            session.send_json({"id": 0, "code": 0, "msg": "PONG"})
            return
        if method not in ("SUBSCRIPTION", "UNSUBSCRIPTION") or not (
                isinstance(params, list) and params and all(isinstance(p, str) for p in params)):
            session.send_json({"id": rid, "code": 0, "msg": "wrong method"})
            return
        if method == "UNSUBSCRIPTION":
            keys = [k for n in params if (k := session.unsubscribe(n))]
            session.send_json({"id": rid, "code": 0, "msg": ",".join(params)})
            if keys:
                self.feed.unsubscribed(session, keys)
            return
        if len(session.subs) + len({n for n in params if n not in session.subs}) > \
                ep.MAX_SUBSCRIPTIONS:
            session.send_json({"id": rid, "code": 0, "msg": refused(
                params, f"more than {ep.MAX_SUBSCRIPTIONS} subscriptions")})
            return
        try:
            resolved = [(n, self.feed.resolve(n)) for n in params]
        except UnknownStream:
            session.send_json({"id": rid, "code": 0, "msg": refused(params, "Blocked! ")})
            return
        fresh = [(n, k) for n, k in resolved if n not in session.subs]
        for name, key in fresh:
            session.subscribe(name, key)
        session.send_json({"id": rid, "code": 0, "msg": ",".join(params)})
        if fresh:
            self.feed.subscribed(session, [n for n, _ in fresh])
