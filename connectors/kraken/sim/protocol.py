"""Kraken spot WebSocket v2 public wire protocol.

WS `/v2`: on connect a `status` push; `{"method": "subscribe" | "unsubscribe", "params":
{"channel", "symbol": [...], "depth"?, "interval"?, "snapshot"?}, "req_id"}` answered once per
symbol `{"method", "result": {"channel", "symbol", ...}, "success": true, "time_in", "time_out",
"req_id"}`, or `{"error": "...", "method", "success": false, ...}` for a pair or parameter Kraken
does not serve; `{"method": "ping"}` -> `{"method": "pong"}`. Pushes are JSON with numbers.
REST: `/0/public/AssetPairs`, `/0/public/Time` (`{"error": [], "result": {...}}`).
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ttxt_kafka.connectors.kraken import endpoints as ep
from ttxt_kafka.simulator.feeds import UnknownStream
from ttxt_kafka.simulator.publication import Publication
from ttxt_kafka.simulator.session import Renderer, Session, json_object

from .streams import names_for

if TYPE_CHECKING:
    from ttxt_kafka.simulator.server import Simulator

_JSON = "application/json"


def _now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class KrakenProtocol:
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.feed = sim.feed

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get(ep.WS_PATH, self._ws)
        router.add_get(ep.ASSET_PAIRS_PATH, self._pairs)
        router.add_get(ep.TIME_PATH, self._time)

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        if not web.WebSocketResponse().can_prepare(request).ok:
            return web.Response(status=400, text="WebSocket upgrade required")
        conn = _Connection(self)
        private = self.sim.private
        if private is not None:  # the simulator trades: the same socket takes private methods
            return await private.protocol.ws(request, conn)  # type: ignore[no-any-return]
        return await self.sim.run_ws(request, conn)

    async def _pairs(self, request: web.Request) -> web.Response:
        self.sim.rest_requests += 1
        return web.Response(text=self.feed.instruments_body(None), content_type=_JSON)

    async def _time(self, request: web.Request) -> web.Response:
        self.sim.rest_requests += 1
        now = time.time()
        body = {"error": [], "result": {"unixtime": int(now), "rfc1123": time.strftime(
            "%a, %d %b %y %H:%M:%S +0000", time.gmtime(now))}}
        return web.Response(text=json.dumps(body), content_type=_JSON)


class _Connection:
    def __init__(self, proto: KrakenProtocol) -> None:
        self.proto = proto
        self.feed = proto.feed

    def renderer(self, session: Session) -> Renderer:
        def render(pub: Publication, names: list[str]) -> list[str | bytes]:
            return [pub.payload]  # the push names its channel and symbol

        return render

    def opened(self, session: Session) -> None:
        session.send_json({"channel": "status", "type": "update", "data": [{
            "version": "2.0.9", "system": "online", "api_version": "v2",
            "connection_id": 12893442133962345962}]})

    def _answer(self, session: Session, req: dict[str, Any], error: str | None = None,
                result: dict[str, Any] | None = None) -> None:
        now = _now_iso()
        msg: dict[str, Any] = {"method": req.get("method")}
        if error is None:
            msg |= {"result": result or {}, "success": True}
        else:
            msg |= {"error": error, "success": False}
        msg |= {"time_in": now, "time_out": now}
        if "req_id" in req:
            msg["req_id"] = req["req_id"]
        session.send_json(msg)

    def on_text(self, session: Session, text: str) -> None:
        req = json_object(text)
        if req is None:
            session.send_json({"error": "Malformed request", "success": False})
            return
        method = req.get("method")
        if method == "ping":
            now = _now_iso()
            pong: dict[str, Any] = {"method": "pong", "time_in": now, "time_out": now}
            if "req_id" in req:
                pong["req_id"] = req["req_id"]
            session.send_json(pong)
            return
        if method not in ("subscribe", "unsubscribe"):
            self._answer(session, req, f"Method not found: {method}")
            return
        params = req.get("params")
        try:
            if not isinstance(params, dict):
                raise UnknownStream("params must be an object")
            names = names_for(params)
        except UnknownStream as exc:
            self._answer(session, req, str(exc))
            return
        for name, symbol in zip(names, params["symbol"], strict=True):
            result = {k: v for k, v in params.items() if k != "symbol"} | {"symbol": symbol}
            if method == "unsubscribe":
                key = session.unsubscribe(name)
                self._answer(session, req, result=result)
                if key:
                    self.feed.unsubscribed(session, [key])
                continue
            try:
                key = self.feed.resolve(name)
            except UnknownStream:
                self._answer(session, req, f"Currency pair not supported {symbol}")
                continue
            self._answer(session, req, result=result)
            if name not in session.subs:
                session.subscribe(name, key)
                self.feed.subscribed(session, [name])
