"""KuCoin spot private side: signed REST (HF orders, accounts, the private bullet) and the
private WebSocket, over the simulator's matching engine.

  REST  POST /api/v1/hf/orders, DELETE /api/v1/hf/orders/{orderId}?symbol= and
        /api/v1/hf/orders/client-order/{clientOid}?symbol=, POST /api/v1/hf/orders/alter,
        DELETE /api/v1/hf/orders?symbol=, GET the same order paths, /api/v1/hf/orders/active
        and /active/symbols, GET /api/v1/accounts, POST /api/v1/bullet-private; verified as
        KuCoin does (`auth.verify_rest`: key, HMAC'd passphrase, key version 2/3, 5 s
        timestamp window, base64 HMAC over timestamp + METHOD + path?query + body as received);
        a rate-limit fault is HTTP 429 `{"code":"429000"}`
  WS    /private-endpoint?token=<bullet-private token>: `welcome`, `subscribe`
        /spotMarket/tradeOrdersV2 and /account/balance (`privateChannel` true), `ping` ->
        `pong`; engine events pushed as KuCoin shapes them (orderChange received / open /
        match / filled / canceled / update, account.balance).

Simplifications, said here: `alter` amends the order in place (KuCoin cancels it and places a
new one with a new orderId and the same clientOid); the orderChange match push carries no fee,
as KuCoin's does not.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from aiohttp import web

from ttxt_kafka.connectors.kucoin import auth
from ttxt_kafka.connectors.kucoin import endpoints as ep
from ttxt_kafka.connectors.kucoin.order_errors import REJECTS
from ttxt_kafka.credentials import AuthError
from ttxt_kafka.events import OrderStatus, OrderType, Side, TimeInForce
from ttxt_kafka.matching import EngineEvent, OrderRequest, OrderUpdated, TradeFill
from ttxt_kafka.matching import OrderState as EngineOrder
from ttxt_kafka.simulator.faults import FaultKind
from ttxt_kafka.simulator.session import Session, json_object
from ttxt_kafka.simulator.synthetic import now_ms
from ttxt_kafka.simulator.trading.exchange import Refusals, SimExchange
from ttxt_kafka.simulator.trading.params import Refusal, decimal, scalar
from ttxt_kafka.simulator.trading.push_socket import PushSocket, serve_push_socket
from ttxt_kafka.simulator.trading.render import ms, plain, regroup
from ttxt_kafka.simulator.trading.rest import json_reply, private_call

if TYPE_CHECKING:
    from ttxt_kafka.simulator.server import Simulator

PRIVATE_WS_PATH = "/private-endpoint"
_SIDES = {"buy": Side.BUY, "sell": Side.SELL}
_SIDE_NAMES = {Side.BUY: "buy", Side.SELL: "sell"}
_TIF = {"GTC": TimeInForce.GTC, "IOC": TimeInForce.IOC, "FOK": TimeInForce.FOK}
_OPEN = (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)
ERR_PARAMS = 400100


def _params(msg: str) -> Refusal:
    return Refusal(ERR_PARAMS, f"Parameter Error: {msg}")


class KucoinTrading:
    def __init__(self, sim: Simulator, exchange: SimExchange) -> None:
        exchange.credentials.require_passphrase("KuCoin")  # the account's third credential
        self.sim = sim
        self.exchange = exchange
        self.refusals = Refusals(REJECTS, ERR_PARAMS)
        self.tokens: set[str] = set()

    def add_routes(self, router: web.UrlDispatcher) -> None:
        o = "/api/v1/hf/orders"
        router.add_post(o, self._rest(self._create))
        router.add_delete(o, self._rest(self._cancel_all))
        router.add_post(f"{o}/alter", self._rest(self._amend))
        router.add_get(f"{o}/active", self._rest(self._open))
        router.add_get(f"{o}/active/symbols", self._rest(self._active_symbols))
        router.add_get(f"{o}/client-order/{{cid}}", self._rest(self._query))
        router.add_delete(f"{o}/client-order/{{cid}}", self._rest(self._cancel))
        router.add_get(f"{o}/{{oid}}", self._rest(self._query))
        router.add_delete(f"{o}/{{oid}}", self._rest(self._cancel))
        router.add_get("/api/v1/accounts", self._rest(self._accounts))
        router.add_post(ep.BULLET_PRIVATE, self._rest(self._bullet))
        router.add_get(PRIVATE_WS_PATH, self._ws)

    # ------------------------------------------------------------------ REST

    def _rest(self, handler: Callable[[Mapping[str, Any]], Any]
              ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def serve(request: web.Request) -> web.Response:
            route = request.match_info.route.resource
            query, body = await private_call(self.sim, self.exchange, request,
                                             route.canonical if route is not None else None)
            try:
                if self.exchange.take_fault(FaultKind.BAD_SIGNATURE):
                    raise AuthError(auth.ERR_SIGN, "Signature error. Please check your signature.")
                auth.verify_rest(self.exchange.credentials, dict(request.headers),
                                 request.method, request.raw_path.partition("?")[0], query, body,
                                 now_ms=now_ms())
            except AuthError as exc:
                return json_reply({"code": str(exc.code), "msg": exc.message}, 401)
            if self.exchange.take_fault(FaultKind.RATE_LIMIT):
                return json_reply({"code": "429000", "msg": "Too Many Requests"}, 429)
            try:
                args: Any = json.loads(body) if request.method == "POST" and body else {}
                if not isinstance(args, dict):
                    raise _params("the body must be a JSON object")
                args = {**dict(parse_qsl(query, keep_blank_values=True)), **args,
                        **request.match_info}
                result = handler(args)
            except ValueError:
                return json_reply({"code": str(ERR_PARAMS), "msg": "invalid JSON"}, 400)
            except Refusal as exc:
                return json_reply({"code": str(exc.code), "msg": exc.message})
            return json_reply({"code": ep.OK, "data": result})

        return serve

    def _answer(self, events: list[EngineEvent], new_id: bool = False) -> dict[str, Any]:
        state = self.refusals.done(events)
        return {"newOrderId" if new_id else "orderId": str(state.order_id),
                "clientOid": state.client_order_id}

    def _symbol(self, args: Mapping[str, Any]) -> str:
        symbol = args.get("symbol")
        if not isinstance(symbol, str) or not symbol:
            raise _params("symbol is required")
        if symbol not in self.exchange.instruments:
            raise self.refusals.refusal("UNKNOWN_SYMBOL")
        return symbol

    def _ref(self, args: Mapping[str, Any]) -> tuple[int | None, str | None]:
        order_id, cid = scalar(args.get("oid") or args.get("orderId")), scalar(
            args.get("cid") or args.get("clientOid"))
        if order_id is None and cid is None:
            raise _params("orderId or clientOid is required")
        if order_id is not None and not order_id.isdigit():
            raise self.refusals.refusal("UNKNOWN_ORDER")
        return (int(order_id) if order_id else None), cid

    def _bullet(self, args: Mapping[str, Any]) -> dict[str, Any]:
        token = uuid.uuid4().hex
        self.tokens.add(token)
        return {"token": token, "instanceServers": [{
            "endpoint": self.sim.ws_url + PRIVATE_WS_PATH, "encrypt": False,
            "protocol": "websocket", "pingInterval": 18000, "pingTimeout": 10000}]}

    def _create(self, args: Mapping[str, Any]) -> dict[str, Any]:
        symbol = self._symbol(args)
        side = _SIDES.get(str(args.get("side")))
        kind = args.get("type")
        if side is None or kind not in ("limit", "market"):
            raise _params("side or type")
        qty = decimal(scalar(args.get("size")), _params("size"))
        price = decimal(scalar(args.get("price")), _params("price"))
        tif = _TIF.get(str(args.get("timeInForce") or "GTC"))
        if tif is None:
            raise _params("timeInForce")
        if kind == "market":
            price = None
        elif price is None:
            raise _params("price is required for a limit order")
        if qty is None:
            raise _params("size")
        cid = scalar(args.get("clientOid")) or uuid.uuid4().hex
        self.refusals.check_new(self.exchange, symbol, cid)
        request = OrderRequest(
            symbol=symbol, side=side, order_type=OrderType.LIMIT if kind == "limit"
            else OrderType.MARKET, qty=qty, price=price, time_in_force=tif,
            post_only=args.get("postOnly") is True, client_order_id=cid)
        return self._answer(self.exchange.submit(request))

    def _cancel(self, args: Mapping[str, Any]) -> dict[str, Any]:
        symbol = self._symbol(args)
        order_id, cid = self._ref(args)
        events = self.exchange.cancel(symbol, order_id=order_id,
                                      client_order_id=None if order_id else cid)
        answer = self._answer(events)
        return {"clientOid": answer["clientOid"]} if order_id is None else {
            "orderId": answer["orderId"]}

    def _amend(self, args: Mapping[str, Any]) -> dict[str, Any]:
        symbol = self._symbol(args)
        order_id, cid = self._ref(args)
        qty = decimal(scalar(args.get("newSize")), _params("newSize"))
        price = decimal(scalar(args.get("newPrice")), _params("newPrice"))
        if qty is None and price is None:
            raise _params("newSize or newPrice is required")
        current = self.exchange.order(symbol, order_id=order_id,
                                      client_order_id=None if order_id else cid)
        if current is not None:
            qty = None if qty == current.qty else qty  # unchanged fields are not amended
            price = None if price == current.price else price
        return self._answer(self.exchange.amend(symbol, order_id=order_id,
                                                client_order_id=None if order_id else cid,
                                                new_qty=qty, new_price=price), new_id=True)

    def _cancel_all(self, args: Mapping[str, Any]) -> str:
        self.exchange.cancel_all(self._symbol(args))
        return "success"

    # ------------------------------------------------------------------ queries

    def _query(self, args: Mapping[str, Any]) -> Any:
        symbol = self._symbol(args)
        order_id, cid = self._ref(args)
        found = self.exchange.order(symbol, order_id=order_id,
                                    client_order_id=None if order_id else cid)
        if found is None:
            raise self.refusals.refusal("UNKNOWN_ORDER")
        return self.order(found)

    def _open(self, args: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [self.order(o) for o in self.exchange.open_orders(self._symbol(args))]

    def _active_symbols(self, args: Mapping[str, Any]) -> dict[str, Any]:
        return {"symbols": sorted({o.symbol for o in self.exchange.open_orders(None)})}

    def _accounts(self, args: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [{"id": f"{abs(hash(a)) % 10**12:024x}", "currency": a, "type": "trade",
                 "balance": plain(total), "available": plain(available), "holds": plain(locked)}
                for a, (total, available, locked) in sorted(self.exchange.balances().items())]

    # ------------------------------------------------------------------ shapes

    def order(self, o: EngineOrder) -> dict[str, Any]:
        market = o.order_type is OrderType.MARKET
        return {"id": str(o.order_id), "clientOid": o.client_order_id, "symbol": o.symbol,
                "opType": "DEAL", "type": "market" if market else "limit",
                "side": _SIDE_NAMES[o.side], "price": "0" if market else plain(o.price),
                "size": plain(o.qty), "funds": "0", "dealSize": plain(o.filled_qty),
                "dealFunds": plain(o.cum_quote), "fee": "0", "feeCurrency": "",
                "timeInForce": o.time_in_force.value, "postOnly": o.post_only,
                "active": o.status in _OPEN, "inOrderBook": o.status in _OPEN,
                "cancelExist": o.status is OrderStatus.CANCELED,
                "remainSize": plain(o.qty - o.filled_qty),
                "createdAt": ms(o.created_ts), "lastUpdatedAt": ms(o.updated_ts)}

    def change(self, o: EngineOrder, kind: str, trade: TradeFill | None = None
               ) -> dict[str, Any]:
        market = o.order_type is OrderType.MARKET
        status = {"received": "new", "open": "open", "match": "match", "update": "open",
                  "filled": "done", "canceled": "done"}[kind]
        data: dict[str, Any] = {
            "symbol": o.symbol, "orderType": "market" if market else "limit",
            "side": _SIDE_NAMES[o.side], "orderId": str(o.order_id), "type": kind,
            "orderTime": o.created_ts * 1000, "size": plain(o.qty),
            "filledSize": plain(o.filled_qty), "price": "" if market else plain(o.price),
            "clientOid": o.client_order_id, "remainSize": plain(o.qty - o.filled_qty),
            "status": status, "ts": o.updated_ts * 1000}
        if trade is not None:
            data |= {"tradeId": str(trade.trade_id), "matchPrice": plain(trade.price),
                     "matchSize": plain(trade.qty),
                     "liquidity": "maker" if trade.is_maker else "taker", "ts": trade.ts * 1000}
        return {"type": "message", "topic": "/spotMarket/tradeOrdersV2",
                "subject": "orderChange", "channelType": "private", "data": data}

    def pushes(self, events: list[EngineEvent]) -> list[tuple[str, dict[str, Any]]]:
        """(topic, push) for one engine call: order changes (with trades), balances."""
        batch = regroup(events, self.exchange.account)
        out: list[tuple[str, dict[str, Any]]] = []
        orders = "/spotMarket/tradeOrdersV2"
        for ev, trade in batch.reports:
            o: EngineOrder = ev.order  # type: ignore[attr-defined]
            if trade is not None:
                out.append((orders, self.change(o, "match", trade)))
                if o.status is OrderStatus.FILLED:
                    out.append((orders, self.change(o, "filled")))
            elif o.status in (OrderStatus.CANCELED, OrderStatus.EXPIRED, OrderStatus.REJECTED):
                out.append((orders, self.change(o, "canceled")))
            elif o.status is OrderStatus.FILLED:
                out.append((orders, self.change(o, "filled")))
            elif isinstance(ev, OrderUpdated):
                out.append((orders, self.change(o, "update")))
            else:
                out.append((orders, self.change(o, "received" if o.order_type
                                                is OrderType.MARKET else "open")))
        ts = ms(events[-1].ts) if events else now_ms()
        for b in batch.balances:
            out.append(("/account/balance", {
                "type": "message", "topic": "/account/balance", "subject": "account.balance",
                "channelType": "private", "data": {
                    "total": plain(b.total), "available": plain(b.available),
                    "availableChange": "0", "currency": b.asset, "hold": plain(b.locked),
                    "holdChange": "0", "relationEvent": "trade.setted",
                    "relationEventId": "", "time": str(ts)}}))
        return out

    # ------------------------------------------------------------------ WebSocket

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        if not web.WebSocketResponse().can_prepare(request).ok:
            return web.Response(status=400, text="WebSocket upgrade required")
        if request.query.get("token") not in self.tokens:
            return json_reply({"code": "401", "msg": "token is invalid"}, 401)
        conn = _PrivateWs(self, request.query.get("connectId") or uuid.uuid4().hex)
        return await serve_push_socket(self.sim, self.exchange, request, conn)


class _PrivateWs(PushSocket):
    """Authorized by the URL's token; `channels` are the subscribed topics."""

    def __init__(self, owner: KucoinTrading, connect_id: str) -> None:
        super().__init__(owner.pushes, authed=True)
        self.owner = owner
        self.connect_id = connect_id

    def opened(self, session: Session) -> None:
        super().opened(session)
        session.send_json({"id": self.connect_id, "type": "welcome"})

    def on_text(self, session: Session, text: str) -> None:
        req = json_object(text)
        if req is None:
            session.send_json({"id": "", "type": "error", "code": 400, "data": "not JSON"})
            return
        msg_id, kind, topic = str(req.get("id", "")), req.get("type"), req.get("topic")
        self.owner.exchange.requests[f"WS {kind}"] += 1
        if kind == "ping":
            session.pings_received += 1
            session.send_json({"id": msg_id, "type": "pong"})
        elif kind == "subscribe" and topic in ("/spotMarket/tradeOrdersV2", "/account/balance"):
            if req.get("privateChannel") is not True:
                session.send_json({"id": msg_id, "type": "error", "code": 401,
                                   "data": f"topic {topic} needs privateChannel true"})
                return
            self.channels.add(topic)
            if req.get("response"):
                session.send_json({"id": msg_id, "type": "ack"})
        elif kind == "unsubscribe" and isinstance(topic, str):
            self.channels.discard(topic)
            if req.get("response"):
                session.send_json({"id": msg_id, "type": "ack"})
        else:
            session.send_json({"id": msg_id, "type": "error", "code": 404,
                               "data": f"topic {topic} is not found"})
