"""Bybit v5 public market-data wire protocol (spot and linear).

WS `/v5/public/<category>`: `{"op":"subscribe"|"unsubscribe","args":[topics],"req_id":..}`,
app-level `{"op":"ping"}`; answers shaped as the capture and docs show them (spot and linear
differ: spot acks say `"ret_msg":"subscribe"` and echo `req_id` only when given; linear acks say
`"ret_msg":""` and always carry `req_id`). One bad topic fails the whole batch
(`error:handler not found,topic:<t>`), as on the venue.
REST: `/v5/market/instruments-info`, `/v5/market/orderbook`, `/v5/market/time`.
"""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ttxt_kafka.simulator.feeds import UnknownStream, UnknownSymbol
from ttxt_kafka.simulator.publication import Publication
from ttxt_kafka.simulator.session import Renderer, Session, dumps, json_object

if TYPE_CHECKING:
    from ttxt_kafka.simulator.server import Simulator

_JSON = "application/json"
_SPOT_MAX_ARGS = 10
_BOOK_LIMITS = {"spot": (1, 200, 1), "linear": (1, 500, 25)}  # min, max, default


def _envelope(result: Any, code: int = 0, msg: str = "OK") -> web.Response:
    body = {
        "retCode": code,
        "retMsg": msg,
        "result": result,
        "retExtInfo": {},
        "time": int(time.time() * 1000),
    }
    return web.Response(text=dumps(body), content_type=_JSON)


def _params_error(msg: str) -> web.Response:
    return _envelope({}, 10001, msg)


class BybitProtocol:
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.feed = sim.feed
        self.category = sim.spec.category

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get(f"/v5/public/{self.category}", self._ws)
        router.add_get("/v5/market/instruments-info", self._instruments)
        router.add_get("/v5/market/orderbook", self._orderbook)
        router.add_get("/v5/market/time", self._time)

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        if not web.WebSocketResponse().can_prepare(request).ok:
            return web.Response(status=400, text="WebSocket upgrade required")
        return await self.sim.run_ws(request, _Connection(self))

    # -- REST ----------------------------------------------------------------------------

    def _category_error(self, request: web.Request) -> web.Response | None:
        category = request.query.get("category", "")
        if category != self.category:
            return _params_error(f"params error: category {category!r} is not served here")
        return None

    async def _instruments(self, request: web.Request) -> web.Response:
        self.sim.rest_requests += 1
        if err := self._category_error(request):
            return err
        symbol = request.query.get("symbol")
        try:
            body = self.feed.instruments_body([symbol] if symbol else None)
        except UnknownSymbol:
            return _envelope({"category": self.category, "list": [], "nextPageCursor": ""})
        return web.Response(text=body, content_type=_JSON)

    async def _orderbook(self, request: web.Request) -> web.Response:
        self.sim.rest_requests += 1
        if err := self._category_error(request):
            return err
        symbol = request.query.get("symbol", "")
        if not symbol:
            return _params_error("params error: symbol is required")
        lo, hi, default = _BOOK_LIMITS[self.category]
        raw_limit = request.query.get("limit", str(default))
        if not raw_limit.isdigit() or not lo <= int(raw_limit) <= hi:
            return _params_error(f"params error: limit must be in [{lo}, {hi}]")
        if symbol not in self.feed.symbols():
            return _params_error("params error: symbol invalid")
        stale = self.sim.faults.take_stale(symbol)
        try:
            body = self.feed.depth_body(symbol, int(raw_limit), stale.behind if stale else None)
        except UnknownSymbol:
            return _params_error("params error: symbol invalid")
        return web.Response(text=body, content_type=_JSON)

    async def _time(self, request: web.Request) -> web.Response:
        self.sim.rest_requests += 1
        ns = time.time_ns()
        return _envelope({"timeSecond": str(ns // 10**9), "timeNano": str(ns)})


class _Connection:
    def __init__(self, proto: BybitProtocol) -> None:
        self.proto = proto
        self.feed = proto.feed
        self.linear = proto.category == "linear"
        self.conn_id = ""

    def renderer(self, session: Session) -> Renderer:
        def render(pub: Publication, names: list[str]) -> list[str | bytes]:
            return [pub.payload]  # one topic name per key: the message already names it

        return render

    def opened(self, session: Session) -> None:
        self.conn_id = f"{uuid.uuid4().hex[:20]}-{session.id}"

    def _reply(
        self, session: Session, op: str, success: bool, ret_msg: str, req_id: Any = None
    ) -> None:
        reply: dict[str, Any] = {"success": success, "ret_msg": ret_msg, "conn_id": self.conn_id}
        if self.linear:
            reply["req_id"] = "" if req_id is None else req_id
        elif req_id is not None:
            reply["req_id"] = req_id
        reply["op"] = op
        session.send_json(reply)

    def on_text(self, session: Session, text: str) -> None:
        req = json_object(text)
        if req is None:
            found = text.strip()[:1] or "EOF"
            msg = (
                f"Failed to decode incoming data:readObjectStart: expect {{ or n, but found {found}"
            )
            self._reply(session, "", False, msg)
            return
        op, req_id, args = req.get("op"), req.get("req_id"), req.get("args")
        if op == "ping":
            self._reply(session, "ping", True, "pong", req_id)
        elif op == "subscribe":
            self._subscribe(session, req_id, args)
        elif op == "unsubscribe":
            self._unsubscribe(session, req_id, args)
        else:
            self._reply(
                session, op if isinstance(op, str) else "", False, "error:invalid op", req_id
            )

    def _subscribe(self, session: Session, req_id: Any, args: Any) -> None:
        if not isinstance(args, list) or not all(isinstance(a, str) for a in args) or not args:
            self._reply(session, "subscribe", False, "error:args must be a list of topics", req_id)
            return
        if not self.linear and len(args) > _SPOT_MAX_ARGS:
            self._reply(session, "subscribe", False, f"args size >{_SPOT_MAX_ARGS}", req_id)
            return
        resolved: list[tuple[str, str]] = []
        for topic in args:
            try:
                resolved.append((topic, self.feed.resolve(topic)))
            except UnknownStream:
                msg = f"error:handler not found,topic:{topic}"
                self._reply(session, "subscribe", False, msg, req_id)
                return  # one bad topic fails the whole batch, as on Bybit
        fresh: list[tuple[str, str]] = []
        dups: list[str] = []
        for topic, key in resolved:
            if topic in session.subs:
                dups.append(topic)
            else:
                session.subscribe(topic, key)
                fresh.append((topic, key))
        if dups:
            dup = dups[0]
            self._reply(
                session, "subscribe", False, f"error:already subscribed,topic:{dup}", req_id
            )
        else:
            self._reply(session, "subscribe", True, "" if self.linear else "subscribe", req_id)
        if fresh:
            self.feed.subscribed(session, [t for t, _ in fresh])

    def _unsubscribe(self, session: Session, req_id: Any, args: Any) -> None:
        topics = [a for a in args if isinstance(a, str)] if isinstance(args, list) else []
        keys = [k for t in topics if (k := session.unsubscribe(t))]
        self._reply(session, "unsubscribe", True, "" if self.linear else "unsubscribe", req_id)
        if keys:
            self.feed.unsubscribed(session, keys)
