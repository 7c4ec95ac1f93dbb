"""Gate.io v4 spot public wire protocol.

WS `/ws/v4/`: `{"time": s, "channel": C, "event": "subscribe"|"unsubscribe", "payload": [...]}`
answered `{"time", "time_ms", "channel", "event", "payload", "error": null, "result":
{"status": "success"}}`; a stream Gate does not know is answered with `"error": {"code": 2,
"message": ...}` and `"result": {"status": "fail"}`; `spot.ping` -> `spot.pong`.
REST: `/api/v4/spot/currency_pairs`, `/api/v4/spot/order_book` (`with_id=true` adds `id`),
`/api/v4/spot/time`; errors `{"label": ..., "message": ...}` with HTTP 400. Private channels
(spot.orders, spot.usertrades, spot.balances) share the endpoint: their requests are handed to
the private side (`sim/trading.py`) when the simulator has one.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ttxt_kafka.connectors.gateio import endpoints as ep
from ttxt_kafka.simulator.feeds import UnknownStream, UnknownSymbol
from ttxt_kafka.simulator.publication import Publication
from ttxt_kafka.simulator.session import Renderer, Session, dumps, json_object

from .streams import names_for

if TYPE_CHECKING:
    from ttxt_kafka.simulator.server import Simulator

_JSON = "application/json"
_MAX_LIMIT = 1000  # order_book limit


def _error(label: str, message: str, status: int = 400) -> web.Response:
    return web.Response(text=dumps({"label": label, "message": message}), status=status,
                        content_type=_JSON)


class GateProtocol:
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.feed = sim.feed

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get(ep.WS_PATH, self._ws)
        router.add_get(ep.CURRENCY_PAIRS_PATH, self._pairs)
        router.add_get(ep.ORDER_BOOK_PATH, self._order_book)
        router.add_get(ep.TIME_PATH, self._time)

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        if not web.WebSocketResponse().can_prepare(request).ok:
            return web.Response(status=400, text="WebSocket upgrade required")
        return await self.sim.run_ws(request, _Connection(self))

    async def _pairs(self, request: web.Request) -> web.Response:
        self.sim.rest_requests += 1
        return web.Response(text=self.feed.instruments_body(None), content_type=_JSON)

    async def _order_book(self, request: web.Request) -> web.Response:
        self.sim.rest_requests += 1
        pair = request.query.get("currency_pair", "")
        if not pair:
            return _error("MISSING_REQUIRED_PARAM", "Missing required parameter: currency_pair")
        raw_limit = request.query.get("limit", "10")
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= _MAX_LIMIT:
            return _error("INVALID_PARAM_VALUE", f"limit must be in [1, {_MAX_LIMIT}]")
        stale = self.sim.faults.take_stale(pair)
        try:
            body = self.feed.depth_body(pair, int(raw_limit), stale.behind if stale else None)
        except UnknownSymbol:
            return _error("INVALID_CURRENCY_PAIR", f"Invalid currency pair {pair}")
        if request.query.get("with_id") != "true":
            obj = json.loads(body)
            obj.pop("id", None)
            body = dumps(obj)
        return web.Response(text=body, content_type=_JSON)

    async def _time(self, request: web.Request) -> web.Response:
        self.sim.rest_requests += 1
        return web.Response(text=dumps({"server_time": int(time.time() * 1000)}),
                            content_type=_JSON)


class _Connection:
    def __init__(self, proto: GateProtocol) -> None:
        self.proto = proto
        self.feed = proto.feed

    def renderer(self, session: Session) -> Renderer:
        def render(pub: Publication, names: list[str]) -> list[str | bytes]:
            return [pub.payload]  # the push already names its stream

        return render

    def opened(self, session: Session) -> None:
        pass

    def _answer(self, session: Session, channel: str, event: str, payload: Any,
                error: dict[str, Any] | None = None) -> None:
        ms = int(time.time() * 1000)
        session.send_json({"time": ms // 1000, "time_ms": ms, "channel": channel,
                           "event": event, "payload": payload, "error": error,
                           "result": {"status": "fail" if error else "success"}})

    def on_text(self, session: Session, text: str) -> None:
        req = json_object(text)
        if req is None:
            self._answer(session, "", "", None, {"code": 1, "message": "invalid request body"})
            return
        channel, event, payload = req.get("channel"), req.get("event"), req.get("payload")
        if channel in ep.PRIVATE_CHANNELS:  # same endpoint: the private side answers them
            private = self.proto.sim.private
            if private is None:
                self._answer(session, channel, str(event), payload,
                             {"code": 2, "message": "this simulator has no private side"})
            else:
                private.protocol.on_private(session, req)
            return
        if channel == ep.PING:
            ms = int(time.time() * 1000)
            session.send_json({"time": ms // 1000, "time_ms": ms, "channel": ep.PONG,
                               "event": "", "result": None})
            return
        if event not in ("subscribe", "unsubscribe") or not isinstance(channel, str) or not (
                isinstance(payload, list) and all(isinstance(p, str) for p in payload)):
            self._answer(session, str(channel), str(event), payload,
                         {"code": 1, "message": "invalid request body"})
            return
        try:
            names = names_for(channel, payload)
        except UnknownStream:
            self._answer(session, channel, event, payload,
                         {"code": 2, "message": f"invalid argument: {payload}"})
            return
        if event == "unsubscribe":
            keys = [k for n in names if (k := session.unsubscribe(n))]
            self._answer(session, channel, event, payload)
            if keys:
                self.feed.unsubscribed(session, keys)
            return
        try:
            resolved = [(n, self.feed.resolve(n)) for n in names]
        except UnknownStream:
            self._answer(session, channel, event, payload,
                         {"code": 2, "message": f"unknown currency pair: {payload}"})
            return
        fresh = []
        for name, key in resolved:
            if name not in session.subs:
                session.subscribe(name, key)
                fresh.append(name)
        self._answer(session, channel, event, payload)
        if fresh:
            self.feed.subscribed(session, fresh)
