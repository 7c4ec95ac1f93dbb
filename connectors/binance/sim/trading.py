"""Binance spot and USD-M private side: signed REST order endpoints and the user data streams.

Every signed request is checked as Binance checks it
(`ttxt_kafka.connectors.binance.auth.verify_rest`:
key, HMAC over the query and body exactly as received, timestamp within recvWindow), then
served by the matching engine. Refusals carry Binance's codes and messages
(`ttxt_kafka.connectors.binance.order_errors`).

  spot   POST|GET|DELETE /api/v3/order, GET|DELETE /api/v3/openOrders,
         POST /api/v3/order/cancelReplace, PUT /api/v3/order/amend/keepPriority,
         GET /api/v3/account; user data over the WebSocket API `/ws-api/v3`
         (`userDataStream.subscribe.signature`, `userDataStream.unsubscribe`, `ping`), events
         arriving as `{"subscriptionId": n, "event": {...}}`
  USD-M  POST|GET|PUT|DELETE /fapi/v1/order, GET /fapi/v1/openOrders,
         DELETE /fapi/v1/allOpenOrders, GET /fapi/v3/account, GET /fapi/v3/positionRisk,
         POST|PUT|DELETE /fapi/v1/listenKey (API key only), user data on `/ws/<listenKey>`
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ttxt_kafka.connectors.binance import auth
from ttxt_kafka.connectors.binance.order_errors import SPOT_REJECTS, USDM_REJECTS
from ttxt_kafka.credentials import AuthError
from ttxt_kafka.events import OrderType, Side, TimeInForce
from ttxt_kafka.matching import (
    EngineEvent,
    OrderRejected,
    OrderRequest,
    OrderState,
    OrderUpdated,
    Reason,
)
from ttxt_kafka.simulator.faults import FaultKind
from ttxt_kafka.simulator.publication import Publication
from ttxt_kafka.simulator.session import Renderer, Session, json_object
from ttxt_kafka.simulator.synthetic import now_ms
from ttxt_kafka.simulator.trading.exchange import SimExchange, final_state, rejection
from ttxt_kafka.simulator.trading.params import Refusal, decimal, integer, text
from ttxt_kafka.simulator.trading.rest import private_call

from .trading_render import BinanceRender

if TYPE_CHECKING:
    from ttxt_kafka.simulator.server import Simulator

Handler = Callable[[Mapping[str, str]], Any]
LISTEN_KEY_TTL = 3600.0  # seconds a listen key lives without a keepalive
_JSON = "application/json"


def _missing(name: str) -> Refusal:
    return Refusal(-1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or "
                          "malformed.")


def _illegal(name: str) -> Refusal:
    return Refusal(-1100, f"Illegal characters found in parameter '{name}'; legal range is "
                          "'^([0-9]{1,20})(\\.[0-9]{1,20})?$'.")


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, text=json.dumps(body, separators=(",", ":")),
                        content_type=_JSON, headers=headers)


def _error(code: int, msg: str, status: int = 400) -> web.Response:
    headers = {"Retry-After": "1"} if status == 429 else None
    return _json({"code": code, "msg": msg}, status, headers)


@dataclass
class ListenKey:
    key: str
    expires: float


class BinanceTrading:
    def __init__(self, sim: Simulator, exchange: SimExchange) -> None:
        self.sim = sim
        self.exchange = exchange
        self.futures = sim.spec.category == "usdm"
        self.render = BinanceRender(self.futures)
        self.rejects = USDM_REJECTS if self.futures else SPOT_REJECTS
        self.listen_key: ListenKey | None = None
        self.subscriptions = 0

    def add_routes(self, router: web.UrlDispatcher) -> None:
        signed = self._signed
        if self.futures:
            router.add_post("/fapi/v1/order", signed(self._create))
            router.add_get("/fapi/v1/order", signed(self._query))
            router.add_delete("/fapi/v1/order", signed(self._cancel))
            router.add_put("/fapi/v1/order", signed(self._modify))
            router.add_get("/fapi/v1/openOrders", signed(self._open_orders))
            router.add_delete("/fapi/v1/allOpenOrders", signed(self._cancel_all))
            router.add_get("/fapi/v3/account", signed(self._account))
            router.add_get("/fapi/v3/positionRisk", signed(self._positions))
            router.add_route("*", "/fapi/v1/listenKey", self._listen_key)
            router.add_get("/ws/{key:[A-Za-z0-9]{64}}", self._user_stream)
        else:
            router.add_post("/api/v3/order", signed(self._create))
            router.add_get("/api/v3/order", signed(self._query))
            router.add_delete("/api/v3/order", signed(self._cancel))
            router.add_get("/api/v3/openOrders", signed(self._open_orders))
            router.add_delete("/api/v3/openOrders", signed(self._cancel_all))
            router.add_post("/api/v3/order/cancelReplace", signed(self._cancel_replace))
            router.add_put("/api/v3/order/amend/keepPriority", signed(self._keep_priority))
            router.add_get("/api/v3/account", signed(self._account))
            router.add_get("/ws-api/v3", self._ws_api)

    # ------------------------------------------------------------------ signed REST

    def _signed(self, handler: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def serve(request: web.Request) -> web.Response:
            query, body = await private_call(self.sim, self.exchange, request)
            if self.exchange.take_fault(FaultKind.RATE_LIMIT):
                return _error(-1003, "Too many requests; current limit of IP is 6000 requests "
                                     "per minute.", 429)
            try:
                if self.exchange.take_fault(FaultKind.BAD_SIGNATURE):
                    raise AuthError(auth.ERR_SIGNATURE, auth.MSG_SIGNATURE)
                params = auth.verify_rest(self.exchange.credentials,
                                          request.headers.get(auth.API_KEY_HEADER), query, body,
                                          now_ms=now_ms())
            except AuthError as exc:
                return _error(exc.code, exc.message, 401 if exc.code == auth.ERR_API_KEY else 400)
            try:
                result = handler(params)
            except Refusal as exc:
                return _error(exc.code, exc.message, exc.status)
            return result if isinstance(result, web.Response) else _json(result)

        return serve

    def _symbol(self, params: Mapping[str, str]) -> str:
        symbol = text(params, "symbol", _missing("symbol"))
        assert symbol is not None
        if symbol not in self.exchange.instruments:
            raise Refusal(-1121, "Invalid symbol.")
        return symbol

    def _refuse(self, rejected: OrderRejected) -> Refusal:
        code, msg = self.rejects.get(rejected.reason.value, (-1013, rejected.message))
        return Refusal(code, msg)

    def _order_ref(self, params: Mapping[str, str], names: tuple[str, str] = (
            "orderId", "origClientOrderId")) -> tuple[int | None, str | None]:
        order_id = integer(text(params, names[0]), _illegal(names[0]))
        cid = text(params, names[1])
        if order_id is None and cid is None:
            raise Refusal(-1102, f"Param '{names[1]}' or '{names[0]}' must be sent, but both "
                                 "were empty/null!")
        return order_id, cid

    def _request(self, params: Mapping[str, str], prefix: str = "") -> OrderRequest:
        symbol = self._symbol(params)
        side = text(params, "side", _missing("side"))
        if side not in ("BUY", "SELL"):
            raise Refusal(-1117, "Invalid side.")
        kind = text(params, "type", _missing("type"))
        kinds = ("LIMIT", "MARKET") if self.futures else ("LIMIT", "LIMIT_MAKER", "MARKET")
        if kind not in kinds:
            raise Refusal(-1116, "Invalid orderType.")
        qty = decimal(text(params, "quantity", _missing("quantity")), _illegal("quantity"))
        price = decimal(text(params, "price"), _illegal("price"))
        tif_text = text(params, "timeInForce")
        post_only = kind == "LIMIT_MAKER" or tif_text == "GTX"
        tif = TimeInForce.GTC
        if kind == "LIMIT":
            if tif_text is None:
                raise _missing("timeInForce")
            if tif_text not in ("GTC", "IOC", "FOK") + (("GTX",) if self.futures else ()):
                raise Refusal(-1115, "Invalid timeInForce.")
            tif = TimeInForce.GTC if tif_text == "GTX" else TimeInForce(tif_text)
            if price is None:
                raise _missing("price")
        elif kind == "LIMIT_MAKER" and price is None:
            raise _missing("price")
        elif kind == "MARKET" and price is not None:
            raise Refusal(-1106, "Parameter 'price' sent when not required.")
        reduce_only = text(params, "reduceOnly") == "true"
        if reduce_only and not self.futures:
            raise Refusal(-1104, "Not all sent parameters were read; read 0 parameter(s) but "
                                 "was sent 1.")
        cid = text(params, f"{prefix}newClientOrderId") or f"sim{secrets.token_hex(10)}"
        assert qty is not None
        return OrderRequest(symbol=symbol, side=Side(side), order_type=OrderType(
            "MARKET" if kind == "MARKET" else "LIMIT"), qty=qty, price=price,
            time_in_force=tif, post_only=post_only, reduce_only=reduce_only,
            client_order_id=cid)

    def _place(self, request: OrderRequest) -> OrderState:
        if self.exchange.take_fault(FaultKind.INSUFFICIENT_BALANCE, request.symbol):
            raise Refusal(*self.rejects[Reason.INSUFFICIENT_BALANCE.value])
        events = self.exchange.submit(request)
        rejected = rejection(events)
        if rejected is not None:
            raise self._refuse(rejected)
        state = final_state(events)
        assert state is not None
        return state

    def _create(self, params: Mapping[str, str]) -> dict[str, Any]:
        return self.render.order(self._place(self._request(params)), transact=True)

    def _query(self, params: Mapping[str, str]) -> dict[str, Any]:
        symbol = self._symbol(params)
        order_id, cid = self._order_ref(params)
        state = self.exchange.order(symbol, order_id=order_id,
                                    client_order_id=None if order_id else cid)
        if state is None:
            raise Refusal(-2013, "Order does not exist.")
        return self.render.order(state)

    def _cancel(self, params: Mapping[str, str]) -> dict[str, Any]:
        symbol = self._symbol(params)
        order_id, cid = self._order_ref(params)
        events = self.exchange.cancel(symbol, order_id=order_id,
                                      client_order_id=None if order_id else cid)
        rejected = rejection(events)
        if rejected is not None:
            raise self._refuse(rejected)
        state = final_state(events)
        assert state is not None
        body = self.render.order(state, transact=not self.futures)
        if not self.futures:
            body = {"symbol": state.symbol, "origClientOrderId": state.client_order_id, **body}
            body["clientOrderId"] = f"sim{secrets.token_hex(10)}"  # the cancel's own id
        return body

    def _modify(self, params: Mapping[str, str]) -> dict[str, Any]:
        """USD-M PUT /fapi/v1/order: new quantity and price (both required, with the side)."""
        symbol = self._symbol(params)
        order_id, cid = self._order_ref(params)
        text(params, "side", _missing("side"))
        qty = decimal(text(params, "quantity", _missing("quantity")), _illegal("quantity"))
        price = decimal(text(params, "price", _missing("price")), _illegal("price"))
        events = self.exchange.amend(symbol, order_id=order_id,
                                     client_order_id=None if order_id else cid,
                                     new_qty=qty, new_price=price)
        rejected = rejection(events)
        if rejected is not None:
            raise self._refuse(rejected)
        state = final_state(events)
        assert state is not None
        return self.render.order(state)

    def _keep_priority(self, params: Mapping[str, str]) -> dict[str, Any]:
        """Spot: reduce an order's quantity in place (it keeps its queue position)."""
        symbol = self._symbol(params)
        order_id, cid = self._order_ref(params)
        new_qty = decimal(text(params, "newQty", _missing("newQty")), _illegal("newQty"))
        current = self.exchange.order(symbol, order_id=order_id,
                                      client_order_id=None if order_id else cid)
        if current is None or not current.is_open:
            raise Refusal(-2013, "Order does not exist.")
        assert new_qty is not None
        if new_qty >= current.qty:
            raise Refusal(-2038, "The requested quantity must be smaller than the order's "
                                 "current quantity.")
        events = self.exchange.amend(symbol, order_id=current.order_id, new_qty=new_qty)
        rejected = rejection(events)
        if rejected is not None:
            raise self._refuse(rejected)
        state = final_state(events)
        assert state is not None
        return {"transactTime": now_ms(), "executionId": state.updated_ts,
                "amendedOrder": self.render.order(state)}

    def _cancel_replace(self, params: Mapping[str, str]) -> web.Response:
        symbol = self._symbol(params)
        order_id, cid = self._order_ref(params, ("cancelOrderId", "cancelOrigClientOrderId"))
        request = self._request(params)
        events = self.exchange.cancel(symbol, order_id=order_id,
                                      client_order_id=None if order_id else cid)
        rejected = rejection(events)
        if rejected is not None:
            code, msg = self.rejects.get(rejected.reason.value, (-2011, rejected.message))
            return _json({"code": -2022, "msg": "Order cancel-replace failed.", "data": {
                "cancelResult": "FAILURE", "newOrderResult": "NOT_ATTEMPTED",
                "cancelResponse": {"code": code, "msg": msg}, "newOrderResponse": None}}, 400)
        canceled = final_state(events)
        assert canceled is not None
        cancel_body = {"symbol": symbol, "origClientOrderId": canceled.client_order_id,
                       **self.render.order(canceled, transact=True)}
        try:
            placed = self._place(request)
        except Refusal as exc:
            return _json({"code": -2021, "msg": "Order cancel-replace partially failed.",
                          "data": {"cancelResult": "SUCCESS", "newOrderResult": "FAILURE",
                                   "cancelResponse": cancel_body,
                                   "newOrderResponse": {"code": exc.code, "msg": exc.message}}},
                         409)
        return _json({"cancelResult": "SUCCESS", "newOrderResult": "SUCCESS",
                      "cancelResponse": cancel_body,
                      "newOrderResponse": self.render.order(placed, transact=True)})

    def _open_orders(self, params: Mapping[str, str]) -> list[dict[str, Any]]:
        symbol = self._symbol(params) if params.get("symbol") else None
        return [self.render.order(o) for o in self.exchange.open_orders(symbol)]

    def _cancel_all(self, params: Mapping[str, str]) -> Any:
        symbol = self._symbol(params)
        events = self.exchange.cancel_all(symbol)
        if self.futures:
            return {"code": 200, "msg": "The operation of cancel all open order is done."}
        canceled = [ev.order for ev in events if isinstance(ev, OrderUpdated)]
        if not canceled:
            raise Refusal(-2011, "Unknown order sent.")
        return [{"symbol": o.symbol, "origClientOrderId": o.client_order_id,
                 **self.render.order(o, transact=True)} for o in canceled]

    def _account(self, params: Mapping[str, str]) -> dict[str, Any]:
        if self.futures:
            return self.render.usdm_account(self.exchange.balances(), self.exchange.positions(),
                                            now_ms())
        return self.render.spot_account(self.exchange.balances(), now_ms())

    def _positions(self, params: Mapping[str, str]) -> list[dict[str, Any]]:
        symbol = params.get("symbol")
        return [self.render.position_risk(p, now_ms()) for p in self.exchange.positions()
                if p.size and (not symbol or p.symbol == symbol)]

    # ------------------------------------------------------------------ USD-M listen key

    def _key_ok(self) -> bool:
        key = self.listen_key
        return key is not None and key.expires > time.monotonic()

    async def _listen_key(self, request: web.Request) -> web.Response:
        self.sim.rest_requests += 1
        self.exchange.requests[f"{request.method} {request.path}"] += 1
        if request.headers.get(auth.API_KEY_HEADER) != self.exchange.credentials.api_key:
            return _error(auth.ERR_API_KEY, auth.MSG_API_KEY, 401)
        if request.method == "POST":
            if not self._key_ok():  # Binance hands out the active key again, extended
                self.listen_key = ListenKey(secrets.token_hex(32), 0.0)
            assert self.listen_key is not None
            self.listen_key.expires = time.monotonic() + LISTEN_KEY_TTL
            return _json({"listenKey": self.listen_key.key})
        if request.method == "PUT":
            if not self._key_ok():
                return _error(-1125, "This listenKey does not exist.")
            assert self.listen_key is not None
            self.listen_key.expires = time.monotonic() + LISTEN_KEY_TTL
            return _json({"listenKey": self.listen_key.key})
        if request.method == "DELETE":
            self.listen_key = None
            return _json({})
        return _error(-1000, f"method {request.method} not allowed", 405)

    async def _user_stream(self, request: web.Request) -> web.StreamResponse:
        key = self.listen_key
        if key is None or not self._key_ok() or request.match_info["key"] != key.key:
            return _error(-1125, "This listenKey does not exist.")
        stream = _UserStream(self)
        return await stream.run(request)

    # ------------------------------------------------------------------ spot WS API

    async def _ws_api(self, request: web.Request) -> web.StreamResponse:
        if not web.WebSocketResponse().can_prepare(request).ok:
            return _error(-1000, "WebSocket upgrade required")
        return await _WsApi(self).run(request)


class _PrivateSession:
    """A private WebSocket: engine events of the account go out as user data events."""

    def __init__(self, owner: BinanceTrading) -> None:
        self.owner = owner
        self.session: Session | None = None
        self.subscription: int | None = None

    async def run(self, request: web.Request) -> web.StreamResponse:
        listener = self._on_events
        self.owner.exchange.listeners.append(listener)
        try:
            return await self.owner.sim.run_ws(request, self)
        finally:
            self.owner.exchange.listeners.remove(listener)

    def opened(self, session: Session) -> None:
        self.session = session

    def renderer(self, session: Session) -> Renderer:
        def render(pub: Publication, names: list[str]) -> list[str]:
            return []

        return render

    def on_text(self, session: Session, text: str) -> None:
        pass

    def _on_events(self, events: list[EngineEvent]) -> None:
        session = self.session
        if session is None or session.closed or not self.wants_events():
            return
        for event in self.owner.render.user_data(events, self.owner.exchange.account):
            session.send_json(self.wrap(event))

    def wants_events(self) -> bool:
        return True

    def wrap(self, event: dict[str, Any]) -> dict[str, Any]:
        return event


class _UserStream(_PrivateSession):
    """USD-M `/ws/<listenKey>`: bare events; method requests answered like the market streams."""

    def on_text(self, session: Session, text: str) -> None:
        try:
            req = json.loads(text)
            rid = req.get("id") if isinstance(req, dict) else None
        except ValueError:
            rid = None
        session.send_json({"result": None, "id": rid})


class _WsApi(_PrivateSession):
    """Spot WebSocket API: a signed `userDataStream.subscribe.signature` starts the events."""

    def wants_events(self) -> bool:
        return self.subscription is not None

    def wrap(self, event: dict[str, Any]) -> dict[str, Any]:
        return {"subscriptionId": self.subscription, "event": event}

    def on_text(self, session: Session, text: str) -> None:
        req = json_object(text)
        if req is None:
            session.send_json({"id": None, "status": 400,
                               "error": {"code": -1100, "msg": "Malformed request."}})
            return
        rid, method, params = req.get("id"), req.get("method"), req.get("params") or {}
        owner = self.owner
        owner.exchange.requests[f"WS {method}"] += 1
        if method == "userDataStream.subscribe.signature":
            try:
                if owner.exchange.take_fault(FaultKind.BAD_SIGNATURE):
                    raise AuthError(auth.ERR_SIGNATURE, auth.MSG_SIGNATURE)
                auth.verify_ws_params(owner.exchange.credentials, params, now_ms=now_ms())
            except AuthError as exc:
                session.send_json({"id": rid, "status": 401 if exc.code == auth.ERR_API_KEY
                                   else 400, "error": {"code": exc.code, "msg": exc.message}})
                return
            if self.subscription is None:
                self.subscription = owner.subscriptions
                owner.subscriptions += 1
            session.send_json({"id": rid, "status": 200,
                               "result": {"subscriptionId": self.subscription}})
        elif method == "userDataStream.unsubscribe":
            self.subscription = None
            session.send_json({"id": rid, "status": 200, "result": {}})
        elif method == "ping":
            session.send_json({"id": rid, "status": 200, "result": {}})
        elif method == "time":
            session.send_json({"id": rid, "status": 200, "result": {"serverTime": now_ms()}})
        else:
            session.send_json({"id": rid, "status": 400, "error": {
                "code": -1100, "msg": f"Unknown method {str(method)[:40]!r}."}})
