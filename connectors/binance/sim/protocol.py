"""Binance spot and USD-M market-data wire protocol (public streams and REST).

WS: `/stream?streams=a/b/c` (combined: frames `{"stream":..,"data":..}`), `/ws/<stream>` and
`/ws` (raw payloads), live `SUBSCRIBE` / `UNSUBSCRIBE` / `LIST_SUBSCRIPTIONS` / `SET_PROPERTY` /
`GET_PROPERTY` requests answered `{"result":..,"id":N}` or `{"error":{"code":..,"msg":..},"id":N}`.
The server sends ping frames; clients answer pongs.
REST (spot `/api/v3`, USD-M `/fapi/v1`): `depth`, `exchangeInfo`, `time`, `ping`.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ttxt_kafka.simulator.feeds import UnknownStream, UnknownSymbol
from ttxt_kafka.simulator.publication import Publication
from ttxt_kafka.simulator.session import Renderer, Session, dumps

if TYPE_CHECKING:
    from ttxt_kafka.simulator.server import Simulator

_METHODS = ("SUBSCRIBE", "UNSUBSCRIBE", "LIST_SUBSCRIPTIONS", "SET_PROPERTY", "GET_PROPERTY")
_USDM_DEPTH_LIMITS = (5, 10, 20, 50, 100, 500, 1000)
_JSON = "application/json"


def _rest_error(code: int, msg: str, status: int = 400) -> web.Response:
    return web.Response(status=status, text=dumps({"code": code, "msg": msg}), content_type=_JSON)


class BinanceProtocol:
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.feed = sim.feed
        self.futures = sim.spec.category == "usdm"
        self.prefix = "/fapi/v1" if self.futures else "/api/v3"

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/stream", self._ws_combined)
        router.add_get("/ws", self._ws_raw)
        router.add_get("/ws/{streams:.+}", self._ws_raw)
        router.add_get(f"{self.prefix}/depth", self._depth)
        router.add_get(f"{self.prefix}/exchangeInfo", self._exchange_info)
        router.add_get(f"{self.prefix}/time", self._time)
        router.add_get(f"{self.prefix}/ping", self._ping)

    # -- WebSocket -----------------------------------------------------------------------

    async def _ws_combined(self, request: web.Request) -> web.StreamResponse:
        raw = request.query.get("streams", "")
        return await self._open(request, [n for n in raw.split("/") if n], combined=True)

    async def _ws_raw(self, request: web.Request) -> web.StreamResponse:
        raw = request.match_info.get("streams", "")
        return await self._open(request, [n for n in raw.split("/") if n], combined=False)

    async def _open(
        self, request: web.Request, names: list[str], combined: bool
    ) -> web.StreamResponse:
        if not web.WebSocketResponse().can_prepare(request).ok:
            return _rest_error(-1000, "WebSocket upgrade required", status=400)
        try:
            keys = [self.feed.resolve(n) for n in names]
        except UnknownStream as exc:
            # refused before the upgrade, so the client sees why it cannot connect
            return _rest_error(2, f"Invalid request: {exc}")
        return await self.sim.run_ws(request, _Connection(self, names, keys, combined))

    # -- REST ----------------------------------------------------------------------------

    def _symbol_error(self) -> web.Response:
        return _rest_error(-1121, "Invalid symbol.")

    async def _depth(self, request: web.Request) -> web.Response:
        self.sim.rest_requests += 1
        symbol = request.query.get("symbol", "")
        if not symbol:
            return _rest_error(
                -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."
            )
        raw_limit = request.query.get("limit", "500" if self.futures else "100")
        if not raw_limit.isdigit():
            return _rest_error(
                -1100,
                "Illegal characters found in parameter 'limit'; legal range is '^[0-9]{1,20}$'.",
            )
        limit = int(raw_limit)
        if self.futures and limit not in _USDM_DEPTH_LIMITS:
            return _rest_error(-1130, "Data sent for parameter 'limit' is not valid.")
        limit = min(max(limit, 1), 5000)  # spot truncates anything above 5000
        if symbol not in self.feed.symbols():
            return self._symbol_error()
        stale = self.sim.faults.take_stale(symbol)
        try:
            body = self.feed.depth_body(symbol, limit, stale.behind if stale else None)
        except UnknownSymbol:
            return self._symbol_error()
        return web.Response(text=body, content_type=_JSON)

    async def _exchange_info(self, request: web.Request) -> web.Response:
        self.sim.rest_requests += 1
        wanted: list[str] | None = None
        if "symbol" in request.query:
            wanted = [request.query["symbol"]]
        elif "symbols" in request.query:
            try:
                wanted = json.loads(request.query["symbols"])
                assert isinstance(wanted, list) and all(isinstance(s, str) for s in wanted)
            except (ValueError, AssertionError):
                return _rest_error(-1100, "Illegal characters found in parameter 'symbols'.")
        try:
            return web.Response(text=self.feed.instruments_body(wanted), content_type=_JSON)
        except UnknownSymbol:
            return self._symbol_error()

    async def _time(self, request: web.Request) -> web.Response:
        self.sim.rest_requests += 1
        return web.Response(
            text=dumps({"serverTime": int(time.time() * 1000)}), content_type=_JSON
        )

    async def _ping(self, request: web.Request) -> web.Response:
        self.sim.rest_requests += 1
        return web.Response(text="{}", content_type=_JSON)


class _Connection:
    """One Binance WebSocket: URL streams, then live method requests."""

    def __init__(self, proto: BinanceProtocol, names: list[str], keys: list[str], combined: bool):
        self.proto = proto
        self.feed = proto.feed
        self.names = names
        self.keys = keys
        self.combined = combined

    def renderer(self, session: Session) -> Renderer:
        def render(pub: Publication, names: list[str]) -> list[str | bytes]:
            if not self.combined:
                return [pub.payload] * len(names)
            out: list[str | bytes] = []
            for name in names:
                if pub.wrapped is not None and name == pub.key:
                    out.append(pub.wrapped)  # the captured frame, byte for byte
                else:
                    out.append(f'{{"stream":"{name}","data":{pub.text}}}')
            return out

        return render

    def opened(self, session: Session) -> None:
        for name, key in zip(self.names, self.keys, strict=True):
            if name not in session.subs:
                session.subscribe(name, key)
        if self.names:
            self.feed.subscribed(session, list(self.names))

    def on_text(self, session: Session, text: str) -> None:
        try:
            req = json.loads(text)
        except ValueError as exc:
            line, col = getattr(exc, "lineno", 1), getattr(exc, "colno", 1)
            msg = f"Invalid JSON: expected value at line {line} column {col}"
            session.send_json({"error": {"code": 3, "msg": msg}, "id": None})
            return
        if not isinstance(req, dict):
            session.send_json(
                {"error": {"code": 2, "msg": "Invalid request: expected an object"}, "id": None}
            )
            return
        rid = req.get("id")
        if (
            "id" not in req
            or not (rid is None or isinstance(rid, (int, str)))
            or isinstance(rid, bool)
        ):
            self._error(session, None, "Invalid request: request ID must be an unsigned integer")
            return
        method = req.get("method")
        if method is None:
            self._error(session, rid, "Invalid request: missing field `method`")
            return
        if method not in _METHODS:
            expected = ", ".join(f"`{m}`" for m in _METHODS)
            self._error(
                session,
                rid,
                f"Invalid request: unknown variant `{method}`, expected one of {expected}",
            )
            return
        params = req.get("params", [])
        if not isinstance(params, list):
            self._error(session, rid, "Invalid request: params must be an array")
            return
        getattr(self, f"_m_{method.lower()}")(session, rid, params)

    def _error(self, session: Session, rid: Any, msg: str, code: int = 2) -> None:
        session.send_json({"error": {"code": code, "msg": msg}, "id": rid})

    def _m_subscribe(self, session: Session, rid: Any, params: list[Any]) -> None:
        if not all(isinstance(p, str) for p in params):
            self._error(session, rid, "Invalid request: stream names must be strings")
            return
        try:
            resolved = [(n, self.feed.resolve(n)) for n in params if n not in session.subs]
        except UnknownStream as exc:
            self._error(session, rid, f"Invalid request: {exc}")
            return
        for name, key in resolved:
            session.subscribe(name, key)
        session.send_json({"result": None, "id": rid})
        if resolved:
            self.feed.subscribed(session, [n for n, _ in resolved])

    def _m_unsubscribe(self, session: Session, rid: Any, params: list[Any]) -> None:
        keys = [k for p in params if isinstance(p, str) and (k := session.unsubscribe(p))]
        session.send_json({"result": None, "id": rid})
        if keys:
            self.feed.unsubscribed(session, keys)

    def _m_list_subscriptions(self, session: Session, rid: Any, params: list[Any]) -> None:
        session.send_json({"result": list(session.subs), "id": rid})

    def _m_set_property(self, session: Session, rid: Any, params: list[Any]) -> None:
        if len(params) != 2 or not isinstance(params[0], str):
            self._error(session, rid, "Invalid request: property name must be a string")
        elif params[0] != "combined":
            session.send_json({"error": {"code": 0, "msg": "Unknown property"}, "id": rid})
        elif not isinstance(params[1], bool):
            self._error(session, rid, "Invalid value type: expected Boolean", code=1)
        else:
            self.combined = params[1]
            session.send_json({"result": None, "id": rid})

    def _m_get_property(self, session: Session, rid: Any, params: list[Any]) -> None:
        if len(params) != 1 or not isinstance(params[0], str):
            self._error(session, rid, "Invalid request: property name must be a string")
        elif params[0] != "combined":
            session.send_json({"error": {"code": 0, "msg": "Unknown property"}, "id": rid})
        else:
            session.send_json({"result": self.combined, "id": rid})
