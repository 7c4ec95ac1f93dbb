"""Bybit v5 private side (spot or linear, the simulator's category): REST trading endpoints, the
WebSocket trade API and the private stream.

  REST  POST /v5/order/create | amend | cancel | cancel-all, GET /v5/order/realtime,
        GET /v5/account/wallet-balance, GET /v5/position/list — signed as Bybit signs them
        (`ttxt_kafka.connectors.bybit.auth.verify_rest`: key, HMAC over timestamp + key + window +
        the
        query string or JSON body as received, timestamp window)
  WS    /v5/trade: `auth`, then `order.create` / `order.amend` / `order.cancel` with the
        X-BAPI-TIMESTAMP header checked against the window; answered by reqId
  WS    /v5/private: `auth`, `subscribe` to order / execution / wallet / position, `ping`

Bybit's own rules kept here: an orderLinkId is unique among all of the account's orders, not
just the open ones (110072 / 170141); a PostOnly order that would take is accepted, then
cancelled with rejectReason EC_PostOnlyWillTakeLiquidity.
"""

from __future__ import annotations

import json
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from aiohttp import web

from ttxt_kafka.connectors.bybit import auth
from ttxt_kafka.connectors.bybit.order_errors import LINEAR_REJECTS, SPOT_REJECTS
from ttxt_kafka.credentials import AuthError
from ttxt_kafka.events import OrderStatus, OrderType, Side, TimeInForce
from ttxt_kafka.matching import (
    EngineEvent,
    ExecType,
    OrderRequest,
    OrderUpdated,
    Reason,
)
from ttxt_kafka.matching import OrderState as EngineOrder
from ttxt_kafka.simulator.faults import FaultKind
from ttxt_kafka.simulator.publication import Publication
from ttxt_kafka.simulator.session import Renderer, Session, json_object
from ttxt_kafka.simulator.synthetic import now_ms
from ttxt_kafka.simulator.trading.exchange import SimExchange, final_state, rejection
from ttxt_kafka.simulator.trading.params import Refusal, decimal
from ttxt_kafka.simulator.trading.rest import json_reply, private_call

from .trading_render import BybitRender, envelope

if TYPE_CHECKING:
    from ttxt_kafka.simulator.server import Simulator

_SIDES = {"Buy": Side.BUY, "Sell": Side.SELL}
_TOPICS = frozenset({"order", "execution", "wallet", "position"})
ERR_PARAMS = 10001
ERR_RATE = 10006
ERR_NOT_AUTHORIZED = 10003


def _envelope(result: Any, code: int = 0, msg: str = "OK") -> dict[str, Any]:
    return {"retCode": code, "retMsg": msg, "result": result, "retExtInfo": {},
            "time": now_ms()}


def _params(msg: str) -> Refusal:
    return Refusal(ERR_PARAMS, msg)


class BybitTrading:
    def __init__(self, sim: Simulator, exchange: SimExchange) -> None:
        self.sim = sim
        self.exchange = exchange
        self.category = sim.spec.category
        self.render = BybitRender(self.category)
        self.rejects = LINEAR_REJECTS if self.category == "linear" else SPOT_REJECTS
        # PostOnly orders Bybit accepted and cancelled at once: the engine never saw them
        self.ghosts: dict[str, EngineOrder] = {}

    def add_routes(self, router: web.UrlDispatcher) -> None:
        for op in ("create", "amend", "cancel", "cancel-all"):
            router.add_post(f"/v5/order/{op}", self._rest(self._op_handler(op)))
        router.add_get("/v5/order/realtime", self._rest(self._realtime))
        router.add_get("/v5/account/wallet-balance", self._rest(self._wallet))
        router.add_get("/v5/position/list", self._rest(self._positions))
        router.add_get("/v5/trade", self._ws(_TradeWs))
        router.add_get("/v5/private", self._ws(_PrivateWs))

    # ------------------------------------------------------------------ REST

    def _rest(self, handler: Callable[[Mapping[str, Any]], Any]
              ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def serve(request: web.Request) -> web.Response:
            query, body = await private_call(self.sim, self.exchange, request)
            payload = body if request.method == "POST" else query
            try:
                if self.exchange.take_fault(FaultKind.BAD_SIGNATURE):
                    raise AuthError(auth.ERR_SIGN, auth.MSG_SIGN)
                auth.verify_rest(self.exchange.credentials, dict(request.headers), payload,
                                 now_ms=now_ms())
            except AuthError as exc:
                return json_reply(_envelope({}, exc.code, exc.message))
            if self.exchange.take_fault(FaultKind.RATE_LIMIT):
                return json_reply(_envelope({}, ERR_RATE, "Too many visits!"))
            try:
                args: Any = json.loads(body) if request.method == "POST" else dict(
                    parse_qsl(query, keep_blank_values=True))
                if not isinstance(args, dict):
                    raise _params("params error: the body must be a JSON object")
                result = handler(args)
            except ValueError:
                return json_reply(_envelope({}, ERR_PARAMS, "params error: invalid JSON"))
            except Refusal as exc:
                return json_reply(_envelope({}, exc.code, exc.message))
            return json_reply(_envelope(result))

        return serve

    def _op_handler(self, op: str) -> Callable[[Mapping[str, Any]], Any]:
        return lambda args: self.op(f"order.{op}", args)

    # ------------------------------------------------------------------ operations

    def op(self, name: str, args: Mapping[str, Any]) -> dict[str, Any]:
        """One trading operation (REST or trade WS); raises Refusal with Bybit's code."""
        if args.get("category") != self.category:
            raise _params(f"params error: category {args.get('category')!r} is not served here")
        if name == "order.create":
            return self._create(args)
        if name == "order.cancel-all":
            return self._cancel_all(args)
        symbol = self._symbol(args)
        order_id, cid = self._ref(args)
        if name == "order.cancel":
            events = self.exchange.cancel(symbol, order_id=order_id,
                                          client_order_id=None if order_id else cid)
        elif name == "order.amend":
            qty = decimal(_str(args.get("qty")), _params("params error: qty invalid"))
            price = decimal(_str(args.get("price")), _params("params error: price invalid"))
            events = self.exchange.amend(symbol, order_id=order_id,
                                         client_order_id=None if order_id else cid,
                                         new_qty=qty, new_price=price)
        else:
            raise _params(f"params error: unknown op {name}")
        return self._answer(events)

    def _answer(self, events: list[EngineEvent]) -> dict[str, Any]:
        rejected = rejection(events)
        if rejected is not None:
            raise Refusal(*self.rejects.get(rejected.reason.value,
                                            (ERR_PARAMS, rejected.message)))
        state = final_state(events)
        assert state is not None
        return {"orderId": str(state.order_id), "orderLinkId": state.client_order_id}

    def _symbol(self, args: Mapping[str, Any]) -> str:
        symbol = args.get("symbol")
        if not isinstance(symbol, str) or symbol not in self.exchange.instruments:
            raise Refusal(*self.rejects["UNKNOWN_SYMBOL"])
        return symbol

    def _ref(self, args: Mapping[str, Any]) -> tuple[int | None, str | None]:
        order_id = _str(args.get("orderId"))
        cid = _str(args.get("orderLinkId"))
        if order_id is None and cid is None:
            raise _params("params error: orderId or orderLinkId is required")
        if order_id is not None and not order_id.isdigit():
            raise Refusal(*self.rejects["UNKNOWN_ORDER"])  # not one of ours
        return (int(order_id) if order_id else None), cid

    def _create(self, args: Mapping[str, Any]) -> dict[str, Any]:
        symbol = self._symbol(args)
        side = _SIDES.get(str(args.get("side")))
        if side is None:
            raise _params("params error: side invalid")
        kind = args.get("orderType")
        if kind not in ("Limit", "Market"):
            raise _params("params error: orderType invalid")
        qty = decimal(_str(args.get("qty")), _params("params error: qty invalid"))
        price = decimal(_str(args.get("price")), _params("params error: price invalid"))
        tif_text = _str(args.get("timeInForce")) or ("IOC" if kind == "Market" else "GTC")
        if tif_text not in ("GTC", "IOC", "FOK", "PostOnly"):
            raise _params("params error: timeInForce invalid")
        if kind == "Market":
            price = None  # Bybit ignores a market order's price
            if args.get("marketUnit", "baseCoin") != "baseCoin":
                raise _params("params error: the simulator sizes market orders in baseCoin")
        elif price is None:
            raise _params("params error: price is required for a Limit order")
        cid = _str(args.get("orderLinkId")) or uuid.uuid4().hex
        if self.exchange.order(symbol, client_order_id=cid) is not None or cid in self.ghosts:
            raise Refusal(*self.rejects["DUPLICATE_CLIENT_ORDER_ID"])
        if self.exchange.take_fault(FaultKind.INSUFFICIENT_BALANCE, symbol):
            raise Refusal(*self.rejects["INSUFFICIENT_BALANCE"])
        assert qty is not None
        request = OrderRequest(
            symbol=symbol, side=side, order_type=OrderType.LIMIT if kind == "Limit"
            else OrderType.MARKET, qty=qty, price=price,
            time_in_force=TimeInForce.GTC if tif_text == "PostOnly" else TimeInForce(tif_text),
            post_only=tif_text == "PostOnly", reduce_only=args.get("reduceOnly") is True,
            client_order_id=cid)
        events = self.exchange.submit(request)
        rejected = rejection(events)
        if rejected is not None and rejected.reason is Reason.POST_ONLY_WOULD_TAKE:
            return self._post_only_cancelled(request)
        return self._answer(events)

    def _post_only_cancelled(self, request: OrderRequest) -> dict[str, Any]:
        ts = time.time_ns() // 1000
        ghost = EngineOrder(
            order_id=10**12 + len(self.ghosts) + 1, account=self.exchange.account,
            symbol=request.symbol, client_order_id=request.client_order_id, side=request.side,
            order_type=request.order_type, time_in_force=request.time_in_force,
            post_only=True, reduce_only=request.reduce_only, price=request.price,
            qty=request.qty, filled_qty=Decimal(0), cum_quote=Decimal(0),
            status=OrderStatus.CANCELED, created_ts=ts, updated_ts=ts)
        self.ghosts[request.client_order_id] = ghost
        update = OrderUpdated(seq=0, ts=ts, order=ghost, exec_type=ExecType.CANCELED,
                              reason=Reason.POST_ONLY_WOULD_TAKE)
        self.exchange.notify([update])
        return {"orderId": str(ghost.order_id), "orderLinkId": ghost.client_order_id}

    def _cancel_all(self, args: Mapping[str, Any]) -> dict[str, Any]:
        symbol = self._symbol(args) if args.get("symbol") else None
        if symbol is None and self.category == "linear" and not (
                args.get("settleCoin") or args.get("baseCoin")):
            raise _params("params error: symbol, baseCoin or settleCoin is required")
        events = self.exchange.cancel_all(symbol)
        canceled = [ev.order for ev in events if isinstance(ev, OrderUpdated)]
        return {"list": [{"orderId": str(o.order_id), "orderLinkId": o.client_order_id}
                         for o in canceled], "success": "1"}

    # ------------------------------------------------------------------ queries

    def _realtime(self, args: Mapping[str, Any]) -> dict[str, Any]:
        if args.get("category") != self.category:
            raise _params("params error: category invalid")
        symbol = args.get("symbol") or None
        order_id, cid = _str(args.get("orderId")), _str(args.get("orderLinkId"))
        if order_id or cid:
            found = self._find(symbol, order_id, cid)
            items = [] if found is None else [self.render.order(found)]
        else:
            items = [self.render.order(o) for o in self.exchange.open_orders(symbol)]
        return {"category": self.category, "list": items, "nextPageCursor": ""}

    def _find(self, symbol: str | None, order_id: str | None,
              cid: str | None) -> EngineOrder | None:
        if cid in self.ghosts and not order_id:
            return self.ghosts[cid]  # type: ignore[index]
        numeric = int(order_id) if order_id and order_id.isdigit() else None
        if order_id and numeric is None:
            return None
        for sym in [symbol] if symbol else list(self.exchange.instruments):
            found = self.exchange.order(sym, order_id=numeric,
                                        client_order_id=None if numeric else cid)
            if found is not None:
                return found
        return None

    def _wallet(self, args: Mapping[str, Any]) -> dict[str, Any]:
        coins = [self.render.coin(a, *b) for a, b in sorted(self.exchange.balances().items())]
        return {"list": [self.render.wallet(coins)]}

    def _positions(self, args: Mapping[str, Any]) -> dict[str, Any]:
        symbol = args.get("symbol")
        items = [self.render.position(p) for p in self.exchange.positions()
                 if not symbol or p.symbol == symbol]
        return {"category": self.category, "list": items, "nextPageCursor": ""}

    # ------------------------------------------------------------------ WebSockets

    def _ws(self, cls: type[_BybitWs]) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def serve(request: web.Request) -> web.StreamResponse:
            if not web.WebSocketResponse().can_prepare(request).ok:
                return web.Response(status=400, text="WebSocket upgrade required")
            return await cls(self).run(request)

        return serve


def _str(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        return "invalid"  # a non-string number or object: refused by the decimal check
    return str(value)


class _BybitWs:
    """One private or trade WebSocket: `auth` first; engine events out as private topics."""

    def __init__(self, owner: BybitTrading) -> None:
        self.owner = owner
        self.session: Session | None = None
        self.authed = False
        self.topics: set[str] = set()
        self.conn_id = f"{secrets.token_hex(10)}-sim"

    async def run(self, request: web.Request) -> web.StreamResponse:
        self.owner.exchange.listeners.append(self._on_events)
        try:
            return await self.owner.sim.run_ws(request, self)
        finally:
            self.owner.exchange.listeners.remove(self._on_events)

    def opened(self, session: Session) -> None:
        self.session = session

    def renderer(self, session: Session) -> Renderer:
        def render(pub: Publication, names: list[str]) -> list[str]:
            return []

        return render

    def _on_events(self, events: list[EngineEvent]) -> None:
        session = self.session
        if session is None or session.closed or not self.authed or not self.topics:
            return
        for message in self.owner.render.stream(events, self.owner.exchange.account):
            if message["topic"] in self.topics:
                session.send_json(message)

    def on_text(self, session: Session, text: str) -> None:
        req = json_object(text)
        if req is None:
            self.reply(session, "", False, "Failed to decode incoming data")
            return
        op = req.get("op")
        self.owner.exchange.requests[f"WS {op}"] += 1
        if op == "auth":
            try:
                if self.owner.exchange.take_fault(FaultKind.BAD_SIGNATURE):
                    raise AuthError(auth.ERR_SIGN, auth.MSG_SIGN)
                auth.verify_ws_auth(self.owner.exchange.credentials, req, now_ms=now_ms())
            except AuthError as exc:
                self.reply(session, "auth", False, exc.message, code=exc.code)
                return
            self.authed = True
            self.reply(session, "auth", True, "")
        else:
            self.handle(session, op, req)

    def reply(self, session: Session, op: str, ok: bool, msg: str, *, code: int = 0,
              req_id: Any = None) -> None:
        raise NotImplementedError

    def handle(self, session: Session, op: Any, req: dict[str, Any]) -> None:
        raise NotImplementedError


class _PrivateWs(_BybitWs):
    def reply(self, session: Session, op: str, ok: bool, msg: str, *, code: int = 0,
              req_id: Any = None) -> None:
        body: dict[str, Any] = {"success": ok, "ret_msg": msg, "op": op, "conn_id": self.conn_id}
        if req_id is not None:
            body["req_id"] = req_id
        session.send_json(body)

    def handle(self, session: Session, op: Any, req: dict[str, Any]) -> None:
        req_id = req.get("req_id")
        if op == "ping":
            session.send_json({"req_id": req_id or "", "op": "pong",
                               "args": [str(now_ms())], "conn_id": self.conn_id})
        elif op == "subscribe":
            args = req.get("args")
            if not self.authed:
                self.reply(session, "subscribe", False, "Request not authorized", req_id=req_id)
            elif not isinstance(args, list) or not args or not set(args) <= _TOPICS:
                self.reply(session, "subscribe", False, f"error:invalid topic {args}",
                           req_id=req_id)
            else:
                self.topics |= set(args)
                self.reply(session, "subscribe", True, "", req_id=req_id)
        elif op == "unsubscribe":
            self.topics -= set(req.get("args") or ())
            self.reply(session, "unsubscribe", True, "", req_id=req_id)
        else:
            self.reply(session, str(op), False, "error:invalid op", req_id=req_id)


class _TradeWs(_BybitWs):
    def reply(self, session: Session, op: str, ok: bool, msg: str, *, code: int = 0,
              req_id: Any = None) -> None:
        session.send_json({"retCode": 0 if ok else code or ERR_PARAMS,
                           "retMsg": "OK" if ok else msg, "op": op, "connId": self.conn_id})

    def handle(self, session: Session, op: Any, req: dict[str, Any]) -> None:
        req_id = req.get("reqId", "")
        if op == "ping":
            session.send_json({"retCode": 0, "retMsg": "OK", "op": "pong",
                               "data": [str(now_ms())], "connId": self.conn_id})
            return
        code, msg, data = 0, "OK", {}
        header = req.get("header") if isinstance(req.get("header"), dict) else {}
        args = req.get("args")
        try:
            if not self.authed:
                raise Refusal(ERR_NOT_AUTHORIZED, "Request not authorized")
            if op not in ("order.create", "order.amend", "order.cancel"):
                raise _params(f"Illegal operation {str(op)[:40]}")
            auth.check_timestamp(header.get(auth.HEADER_TIMESTAMP),  # type: ignore[union-attr]
                                 header.get(auth.HEADER_RECV_WINDOW),  # type: ignore[union-attr]
                                 now_ms())
            if self.owner.exchange.take_fault(FaultKind.RATE_LIMIT):
                raise Refusal(ERR_RATE, "Too many visits!")
            if not isinstance(args, list) or len(args) != 1 or not isinstance(args[0], dict):
                raise _params("params error: args must hold one order")
            data = self.owner.op(op, args[0])
        except AuthError as exc:
            code, msg = exc.code, exc.message
        except Refusal as exc:
            code, msg = exc.code, exc.message
        now = now_ms()
        session.send_json({
            "reqId": req_id, "retCode": code, "retMsg": msg, "op": op, "data": data,
            "retExtInfo": {}, "header": {"X-Bapi-Limit": "10", "X-Bapi-Limit-Status": "9",
                                         "X-Bapi-Limit-Reset-Timestamp": str(now),
                                         "Traceid": secrets.token_hex(16), "Timenow": str(now)},
            "connId": self.conn_id})


__all__ = ["BybitTrading", "envelope"]
