"""MEXC spot v3 private side (the simulator's venue): signed REST trading endpoints, listen
keys and the private protobuf stream, over the simulator's matching engine.

  REST  POST|DELETE|GET /api/v3/order, GET|DELETE /api/v3/openOrders, GET /api/v3/account,
        POST|PUT|DELETE /api/v3/userDataStream; verified as MEXC does (`auth.verify`: the
        X-MEXC-APIKEY header, the hex HMAC of query + body, the timestamp within recvWindow);
        errors `{"code", "msg"}` with HTTP 400 (429 for a rate-limit fault).
  WS    `/ws?listenKey=<key>` (the public path; the public protocol hands such connections
        here): SUBSCRIPTION of the private channels, PING; engine events pushed as protobuf
        `privateOrders` / `privateDeals` / `privateAccount` wrappers.

Simplifications, said here: order ids are the engine's numbers as strings (MEXC's are long
alphanumerics); a client order id may be used again once its order is closed (the amend's
cancel-replace relies on it; MEXC does not document whether it allows that).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ttxt_kafka.connectors.mexc import auth
from ttxt_kafka.connectors.mexc.order_errors import REJECTS
from ttxt_kafka.connectors.mexc.pb.PushDataV3ApiWrapper_pb2 import PushDataV3ApiWrapper
from ttxt_kafka.connectors.mexc.private_stream import CHANNELS
from ttxt_kafka.credentials import AuthError
from ttxt_kafka.events import OrderStatus, OrderType, Side, TimeInForce
from ttxt_kafka.matching import BalanceChanged, EngineEvent, OrderRequest, OrderUpdated, TradeFill
from ttxt_kafka.matching import OrderState as EngineOrder
from ttxt_kafka.simulator.faults import FaultKind
from ttxt_kafka.simulator.session import Session, json_object
from ttxt_kafka.simulator.synthetic import now_ms
from ttxt_kafka.simulator.trading.exchange import Refusals, SimExchange
from ttxt_kafka.simulator.trading.params import Refusal, decimal
from ttxt_kafka.simulator.trading.push_socket import PushSocket, serve_push_socket
from ttxt_kafka.simulator.trading.render import ms, plain, regroup
from ttxt_kafka.simulator.trading.rest import json_reply, private_call

if TYPE_CHECKING:
    from ttxt_kafka.simulator.server import Simulator

_SIDES = {"BUY": Side.BUY, "SELL": Side.SELL}
_SIDE_NAMES = {Side.BUY: "BUY", Side.SELL: "SELL"}
# MEXC order type -> (engine type, time in force, post-only)
_TYPES = {"LIMIT": (OrderType.LIMIT, TimeInForce.GTC, False),
          "LIMIT_MAKER": (OrderType.LIMIT, TimeInForce.GTC, True),
          "IMMEDIATE_OR_CANCEL": (OrderType.LIMIT, TimeInForce.IOC, False),
          "FILL_OR_KILL": (OrderType.LIMIT, TimeInForce.FOK, False),
          "MARKET": (OrderType.MARKET, TimeInForce.IOC, False)}
_STATUS = {OrderStatus.NEW: "NEW", OrderStatus.PARTIALLY_FILLED: "PARTIALLY_FILLED",
           OrderStatus.FILLED: "FILLED", OrderStatus.CANCELED: "CANCELED",
           OrderStatus.EXPIRED: "CANCELED", OrderStatus.REJECTED: "CANCELED"}
_STATUS_NUMBERS = {"NEW": 1, "FILLED": 2, "PARTIALLY_FILLED": 3, "CANCELED": 4}
_TYPE_NUMBERS = {"LIMIT": 1, "LIMIT_MAKER": 2, "IMMEDIATE_OR_CANCEL": 3, "FILL_OR_KILL": 4,
                 "MARKET": 5}
ERR_PARAMS = 33333


def _params(msg: str) -> Refusal:
    return Refusal(ERR_PARAMS, f"Parameter error: {msg}")


def _type_name(o: EngineOrder) -> str:
    if o.order_type is OrderType.MARKET:
        return "MARKET"
    if o.post_only:
        return "LIMIT_MAKER"
    return {TimeInForce.IOC: "IMMEDIATE_OR_CANCEL", TimeInForce.FOK: "FILL_OR_KILL"}.get(
        o.time_in_force, "LIMIT")


class MexcTrading:
    def __init__(self, sim: Simulator, exchange: SimExchange) -> None:
        self.sim = sim
        self.exchange = exchange
        self.refusals = Refusals(REJECTS, ERR_PARAMS)
        self.listen_keys: set[str] = set()

    def add_routes(self, router: web.UrlDispatcher) -> None:
        routes: dict[tuple[str, str], Callable[[Mapping[str, str]], Any]] = {
            ("POST", "/api/v3/order"): self._create, ("DELETE", "/api/v3/order"): self._cancel,
            ("GET", "/api/v3/order"): self._query, ("GET", "/api/v3/openOrders"): self._open,
            ("DELETE", "/api/v3/openOrders"): self._cancel_all,
            ("GET", "/api/v3/account"): self._account,
            ("POST", "/api/v3/userDataStream"): self._new_key,
            ("PUT", "/api/v3/userDataStream"): self._keep_key,
            ("DELETE", "/api/v3/userDataStream"): self._end_key,
        }
        for (method, path), handler in routes.items():
            router.add_route(method, path, self._rest(handler))
        # GET /ws belongs to the public protocol, which hands listen-key connections to `ws`

    # ------------------------------------------------------------------ REST

    def _rest(self, handler: Callable[[Mapping[str, str]], Any]
              ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def serve(request: web.Request) -> web.Response:
            query, body = await private_call(self.sim, self.exchange, request)
            try:
                if self.exchange.take_fault(FaultKind.BAD_SIGNATURE):
                    raise AuthError(auth.ERR_SIGN, auth.MSG_SIGN)
                params = auth.verify(self.exchange.credentials, dict(request.headers), query,
                                     body, now_ms=now_ms())
            except AuthError as exc:
                return json_reply({"code": exc.code, "msg": exc.message}, 400)
            if self.exchange.take_fault(FaultKind.RATE_LIMIT):
                return json_reply({"code": 429, "msg": "Too Many Requests"}, 429)
            try:
                return json_reply(handler(params))
            except Refusal as exc:
                return json_reply({"code": exc.code, "msg": exc.message}, exc.status)

        return serve

    def _symbol(self, params: Mapping[str, str]) -> str:
        symbol = params.get("symbol")
        if not symbol:
            raise Refusal(700004, "Mandatory parameter 'symbol' was not sent")
        if symbol not in self.exchange.instruments:
            raise self.refusals.refusal("UNKNOWN_SYMBOL")
        return symbol

    def _ref(self, params: Mapping[str, str]) -> tuple[int | None, str | None]:
        order_id, cid = params.get("orderId") or None, params.get("origClientOrderId") or None
        if order_id is None and cid is None:
            raise Refusal(700004, "Param 'origClientOrderId' or 'orderId' must be sent, but "
                                  "both were empty/null!")
        if order_id is not None and not order_id.isdigit():
            raise self.refusals.refusal("UNKNOWN_ORDER")
        return (int(order_id) if order_id else None), cid

    def _create(self, params: Mapping[str, str]) -> dict[str, Any]:
        symbol = self._symbol(params)
        side = _SIDES.get(params.get("side", ""))
        kind = _TYPES.get(params.get("type", ""))
        if side is None or kind is None:
            raise _params("side or type")
        order_type, tif, post_only = kind
        qty = decimal(params.get("quantity"), _params("quantity"))
        price = decimal(params.get("price"), _params("price"))
        if qty is None:
            raise _params("quantity")
        if order_type is OrderType.LIMIT and price is None:
            raise _params("price is required")
        if order_type is OrderType.MARKET:
            price = None
        cid = params.get("newClientOrderId") or uuid.uuid4().hex
        if self.exchange.take_fault(FaultKind.INSUFFICIENT_BALANCE, symbol):
            raise self.refusals.refusal("INSUFFICIENT_BALANCE")
        state = self.refusals.done(self.exchange.submit(OrderRequest(
            symbol=symbol, side=side, order_type=order_type, qty=qty, price=price,
            time_in_force=tif, post_only=post_only, client_order_id=cid)))
        return {"symbol": symbol, "orderId": str(state.order_id), "orderListId": -1,
                "price": plain(state.price), "origQty": plain(state.qty),
                "type": params["type"], "side": params["side"],
                "transactTime": ms(state.created_ts)}

    def _cancel(self, params: Mapping[str, str]) -> dict[str, Any]:
        symbol = self._symbol(params)
        order_id, cid = self._ref(params)
        state = self.refusals.done(self.exchange.cancel(symbol, order_id=order_id,
                                                client_order_id=None if order_id else cid))
        return {**self.order(state), "origClientOrderId": state.client_order_id}

    def _cancel_all(self, params: Mapping[str, str]) -> list[dict[str, Any]]:
        symbol = self._symbol(params)
        events = self.exchange.cancel_all(symbol)
        return [self.order(ev.order) for ev in events if isinstance(ev, OrderUpdated)]

    def _query(self, params: Mapping[str, str]) -> dict[str, Any]:
        symbol = self._symbol(params)
        order_id, cid = self._ref(params)
        found = self.exchange.order(symbol, order_id=order_id,
                                    client_order_id=None if order_id else cid)
        if found is None:
            raise self.refusals.refusal("UNKNOWN_ORDER")
        return self.order(found)

    def _open(self, params: Mapping[str, str]) -> list[dict[str, Any]]:
        return [self.order(o) for o in self.exchange.open_orders(self._symbol(params))]

    def _account(self, params: Mapping[str, str]) -> dict[str, Any]:
        balances = [{"asset": a, "free": plain(avail), "locked": plain(locked)}
                    for a, (_, avail, locked) in sorted(self.exchange.balances().items())]
        return {"canTrade": True, "canWithdraw": True, "canDeposit": True, "updateTime": None,
                "accountType": "SPOT", "balances": balances, "permissions": ["SPOT"]}

    def _new_key(self, params: Mapping[str, str]) -> dict[str, str]:
        key = uuid.uuid4().hex + uuid.uuid4().hex
        self.listen_keys.add(key)
        return {"listenKey": key}

    def _keep_key(self, params: Mapping[str, str]) -> dict[str, str]:
        key = params.get("listenKey", "")
        if key not in self.listen_keys:
            raise Refusal(730705, "Invalid listenKey")
        return {"listenKey": key}

    def _end_key(self, params: Mapping[str, str]) -> dict[str, str]:
        key = params.get("listenKey", "")
        self.listen_keys.discard(key)
        return {"listenKey": key}

    # ------------------------------------------------------------------ shapes

    def order(self, o: EngineOrder) -> dict[str, Any]:
        return {"symbol": o.symbol, "orderId": str(o.order_id), "orderListId": -1,
                "clientOrderId": o.client_order_id,
                "price": "0" if o.order_type is OrderType.MARKET else plain(o.price),
                "origQty": plain(o.qty), "executedQty": plain(o.filled_qty),
                "cummulativeQuoteQty": plain(o.cum_quote), "status": _STATUS[o.status],
                "timeInForce": o.time_in_force.value, "type": _type_name(o),
                "side": _SIDE_NAMES[o.side], "stopPrice": "", "icebergQty": "",
                "time": ms(o.created_ts), "updateTime": ms(o.updated_ts), "isWorking": True,
                "origQuoteOrderQty": ""}

    def pushes(self, events: list[EngineEvent]) -> list[tuple[str, bytes]]:
        """(channel, protobuf frame) for one engine call: orders, deals, account."""
        batch = regroup(events, self.exchange.account)
        now = now_ms()
        out: list[tuple[str, bytes]] = []
        for ev, trade in batch.reports:
            o = ev.order  # type: ignore[attr-defined]
            if trade is not None:
                out.append((CHANNELS[1], self._deal(o, trade, now)))
            out.append((CHANNELS[0], self._order_push(o, now)))
        for b in batch.balances:
            out.append((CHANNELS[2], self._account_push(b, now)))
        return out

    def _order_push(self, o: EngineOrder, now: int) -> bytes:
        push = PushDataV3ApiWrapper(channel=CHANNELS[0], symbol=o.symbol, sendTime=now)
        p = push.privateOrders
        avg = o.cum_quote / o.filled_qty if o.filled_qty else None
        p.id, p.clientId = str(o.order_id), o.client_order_id
        p.price = "0" if o.order_type is OrderType.MARKET else plain(o.price)
        p.quantity, p.amount = plain(o.qty), plain(o.cum_quote)
        p.avgPrice = plain(avg) if avg is not None else "0"
        p.orderType = _TYPE_NUMBERS[_type_name(o)]
        p.tradeType = 1 if o.side is Side.BUY else 2
        p.remainQuantity = plain(o.qty - o.filled_qty)
        p.cumulativeQuantity, p.cumulativeAmount = plain(o.filled_qty), plain(o.cum_quote)
        p.status = _STATUS_NUMBERS[_STATUS[o.status]]
        p.createTime = ms(o.created_ts)
        return push.SerializeToString()

    def _deal(self, o: EngineOrder, t: TradeFill, now: int) -> bytes:
        push = PushDataV3ApiWrapper(channel=CHANNELS[1], symbol=o.symbol, sendTime=now)
        d = push.privateDeals
        d.price, d.quantity, d.amount = plain(t.price), plain(t.qty), plain(t.price * t.qty)
        d.tradeType = 1 if o.side is Side.BUY else 2
        d.isMaker, d.tradeId = t.is_maker, str(t.trade_id)
        d.clientOrderId, d.orderId = o.client_order_id, str(o.order_id)
        d.feeAmount, d.feeCurrency, d.time = plain(t.fee), t.fee_asset, ms(t.ts)
        return push.SerializeToString()

    def _account_push(self, b: BalanceChanged, now: int) -> bytes:
        push = PushDataV3ApiWrapper(channel=CHANNELS[2], sendTime=now)
        a = push.privateAccount
        a.vcoinName, a.coinId = b.asset, b.asset
        a.balanceAmount, a.frozenAmount = plain(b.available), plain(b.locked)
        a.type, a.time = "ENTRUST", now
        return push.SerializeToString()

    # ------------------------------------------------------------------ WebSocket

    async def ws(self, request: web.Request) -> web.StreamResponse:
        if request.query.get("listenKey") not in self.listen_keys:
            return web.Response(status=401, text="invalid listenKey")
        return await serve_push_socket(self.sim, self.exchange, request, _PrivateWs(self))


class _PrivateWs(PushSocket):
    """Authorized by the URL's listen key; pushes are protobuf frames."""

    def __init__(self, owner: MexcTrading) -> None:
        super().__init__(owner.pushes, authed=True)
        self.owner = owner

    def send(self, session: Session, message: bytes) -> None:
        session.send_binary(message)

    def on_text(self, session: Session, text: str) -> None:
        req = json_object(text)
        if req is None:
            session.send_json({"id": 0, "code": 0, "msg": "wrong method"})
            return
        method, params, rid = req.get("method"), req.get("params"), req.get("id", 0)
        self.owner.exchange.requests[f"WS {method}"] += 1
        if method == "PING":
            session.send_json({"id": 0, "code": 0, "msg": "PONG"})
        elif method in ("SUBSCRIPTION", "UNSUBSCRIPTION") and isinstance(params, list):
            names = [p for p in params if isinstance(p, str)]
            unknown = [p for p in names if p not in CHANNELS]
            if unknown or not names:
                session.send_json({"id": rid, "code": 0, "msg": f"Not Subscribed successfully! "
                                   f"[{','.join(map(str, params))}].  Reason： Blocked! "})
                return
            if method == "SUBSCRIPTION":
                self.channels.update(names)
            else:
                self.channels.difference_update(names)
            session.send_json({"id": rid, "code": 0, "msg": ",".join(names)})
        else:
            session.send_json({"id": rid, "code": 0, "msg": "wrong method"})
