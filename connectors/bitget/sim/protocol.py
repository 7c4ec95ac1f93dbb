"""Bitget v2 public market-data wire protocol (spot and USDT-M), as the simulator speaks it.

WS `/v2/ws/public`: `{"op":"subscribe"|"unsubscribe","args":[{"instType","channel","instId"}]}`,
each arg answered by `{"event":"subscribe","arg":{..}}`, or `{"event":"error","arg":{..},
"code":30001,"msg":"..."}` for a channel or instId that does not exist; the text `ping` is
answered by `pong`; anything else that is not a request: `{"event":"error","code":30002,...}`
(illegal request) / 30003 (invalid op). A client silent (no ping) for 120 s is dropped.
REST: `/api/v2/spot/public/symbols` (spot), `/api/v2/mix/market/contracts` (USDT-M), the book
(`/api/v2/spot/market/orderbook`, `/api/v2/mix/market/merge-depth`), `/api/v2/public/time`.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ttxt_kafka.simulator.feeds import UnknownStream, UnknownSymbol
from ttxt_kafka.simulator.op_args import OpArgsConnection, Problem
from ttxt_kafka.simulator.session import Session, dumps

from .topics import INST_TYPES, key_of

if TYPE_CHECKING:
    from ttxt_kafka.simulator.server import Simulator

_JSON = "application/json"


def _ok(data: Any) -> web.Response:
    body = {"code": "00000", "msg": "success", "requestTime": int(time.time() * 1000),
            "data": data}
    return web.Response(text=dumps(body), content_type=_JSON)


def _error(code: str, msg: str, status: int = 400) -> web.Response:
    body = {"code": code, "msg": msg, "requestTime": int(time.time() * 1000), "data": None}
    return web.Response(text=dumps(body), content_type=_JSON, status=status)


class BitgetProtocol:
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.feed = sim.feed
        self.category = sim.spec.category
        self.inst_type = INST_TYPES[self.category]

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/v2/ws/public", self._ws)
        router.add_get("/api/v2/public/time", self._time)
        if self.category == "spot":
            router.add_get("/api/v2/spot/public/symbols", self._instruments)
            router.add_get("/api/v2/spot/market/orderbook", self._orderbook)
        else:
            router.add_get("/api/v2/mix/market/contracts", self._instruments)
            router.add_get("/api/v2/mix/market/merge-depth", self._orderbook)

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        if not web.WebSocketResponse().can_prepare(request).ok:
            return web.Response(status=400, text="WebSocket upgrade required")
        return await self.sim.run_ws(request, _Connection(self))

    # -- REST ----------------------------------------------------------------------------

    def _product_error(self, request: web.Request) -> web.Response | None:
        if self.category != "spot" and request.query.get("productType") != self.inst_type:
            return _error("40020", "Parameter productType error")
        return None

    async def _instruments(self, request: web.Request) -> web.Response:
        self.sim.rest_requests += 1
        if err := self._product_error(request):
            return err
        symbol = request.query.get("symbol")
        try:
            body = self.feed.instruments_body([symbol] if symbol else None)
        except UnknownSymbol:
            return _error("40034", "Parameter does not exist")
        return web.Response(text=body, content_type=_JSON)

    async def _orderbook(self, request: web.Request) -> web.Response:
        self.sim.rest_requests += 1
        if err := self._product_error(request):
            return err
        symbol = request.query.get("symbol", "")
        if not symbol:
            return _error("40019", "Parameter symbol cannot be empty")
        raw_limit = request.query.get("limit", "100")
        if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= 200:
            return _error("40017", "Parameter limit error")
        stale = self.sim.faults.take_stale(symbol)
        try:
            body = self.feed.depth_body(symbol, int(raw_limit), stale.behind if stale else None)
        except UnknownSymbol:
            return _error("40034", "Parameter does not exist")
        return web.Response(text=body, content_type=_JSON)

    async def _time(self, request: web.Request) -> web.Response:
        self.sim.rest_requests += 1
        return _ok({"serverTime": str(time.time_ns() // 1_000_000)})


class _Connection(OpArgsConnection):
    def __init__(self, proto: BitgetProtocol) -> None:
        super().__init__(proto.feed)
        self.proto = proto
        self.inst_type = proto.inst_type

    def refuse(self, session: Session, problem: Problem, text: str) -> None:
        code, msg = {"json": (30002, "illegal request"), "op": (30003, "invalid op"),
                     "args": (30002, "args must be a list")}[problem]
        session.send_json({"event": "error", "code": code, "msg": msg})

    def check(self, session: Session, arg: Any) -> tuple[str, str] | None:
        if not isinstance(arg, dict) or not all(
                isinstance(arg.get(k), str) for k in ("instType", "channel", "instId")):
            session.send_json({"event": "error", "arg": arg, "code": 30002,
                               "msg": "illegal request"})
            return None
        if arg["instType"] != self.inst_type:
            session.send_json({"event": "error", "arg": arg, "code": 30001,
                               "msg": f"instType:{arg['instType']} doesn't exist"})
            return None
        name = key_of(arg["channel"], arg["instId"])
        try:
            return name, self.feed.resolve(name)
        except UnknownStream:
            session.send_json({"event": "error", "arg": arg, "code": 30001,
                               "msg": f"instId:{arg['instId']} doesn't exist"})
            return None
