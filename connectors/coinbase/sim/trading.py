"""Coinbase Advanced Trade private side (spot): JWT-authenticated REST trading endpoints and
the `user` channel, over the simulator's matching engine.

  REST  POST /api/v3/brokerage/orders | orders/batch_cancel | orders/edit,
        GET /api/v3/brokerage/orders/historical/batch | orders/historical/{order_id} |
        accounts. Each request's `Authorization: Bearer <jwt>` is verified as Coinbase does
        (`auth.verify`): the signature with the key's public half, `kid`/`sub` = the key name,
        `iss` cdp, the 2-minute window, and `uri` = "METHOD host/path" of this request. A refusal
        is HTTP 401 `{"error": "UNAUTHENTICATED"}`; the rate-limit fault HTTP 429.
  WS    /user (Coinbase: its own host): `subscribe` to `user` (a JWT without `uri`, verified
        the same way) and `heartbeats`; the open orders as a `snapshot`, then an `update` per
        engine change, with cumulative figures as Coinbase sends them (no per-trade fields).

Simplifications, said here: an edit changes the order in place (Coinbase too keeps the order
id); fees are reported in the quote asset (`total_fees`), whatever asset the engine charged
(converted at the fill price); accounts list the engine's assets, one page.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ttxt_kafka.connectors.coinbase import endpoints as ep
from ttxt_kafka.connectors.coinbase import orders as rq
from ttxt_kafka.connectors.coinbase.auth import Signer, rest_uri, verify
from ttxt_kafka.connectors.coinbase.order_errors import REJECTS
from ttxt_kafka.credentials import AuthError
from ttxt_kafka.events import OrderStatus, OrderType, Side, TimeInForce
from ttxt_kafka.matching import EngineEvent, OrderRequest, TradeFill
from ttxt_kafka.matching import OrderState as EngineOrder
from ttxt_kafka.simulator.faults import FaultKind
from ttxt_kafka.simulator.publication import Publication
from ttxt_kafka.simulator.session import Renderer, Session, json_object
from ttxt_kafka.simulator.trading.exchange import SimExchange, final_state, rejection
from ttxt_kafka.simulator.trading.params import Refusal, decimal
from ttxt_kafka.simulator.trading.render import plain, regroup
from ttxt_kafka.simulator.trading.rest import json_reply, private_call

from .protocol import iso_now
from .streams import Stamp

if TYPE_CHECKING:
    from ttxt_kafka.simulator.server import Simulator

_SIDES = {"BUY": Side.BUY, "SELL": Side.SELL}
_STATUS = {OrderStatus.NEW: "OPEN", OrderStatus.PARTIALLY_FILLED: "OPEN",
           OrderStatus.FILLED: "FILLED", OrderStatus.CANCELED: "CANCELLED",
           OrderStatus.EXPIRED: "EXPIRED", OrderStatus.REJECTED: "FAILED"}
_TIF = {TimeInForce.GTC: "GOOD_UNTIL_CANCELLED", TimeInForce.IOC: "IMMEDIATE_OR_CANCEL",
        TimeInForce.FOK: "FILL_OR_KILL"}
_CONFIGS = {"market_market_ioc": (OrderType.MARKET, TimeInForce.IOC),
            "limit_limit_gtc": (OrderType.LIMIT, TimeInForce.GTC),
            "sor_limit_ioc": (OrderType.LIMIT, TimeInForce.IOC),
            "limit_limit_fok": (OrderType.LIMIT, TimeInForce.FOK)}


def _iso(ts_us: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts_us // 10**6)) + \
        f".{ts_us % 10**6:06d}Z"


def _str(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        return "invalid"
    return str(value)


class _Invalid(Refusal):
    def __init__(self, message: str) -> None:
        super().__init__(400, message)


class CoinbaseTrading:
    def __init__(self, sim: Simulator, exchange: SimExchange) -> None:
        self.sim = sim
        self.exchange = exchange
        signer = Signer.of(exchange.credentials)  # Coinbase keeps the public half only
        self.key_name = exchange.credentials.api_key
        self.public_key = signer.key.public_key()
        self.fees: dict[int, Decimal] = {}  # order id -> fees so far, quote asset
        self.fills: dict[int, int] = {}  # order id -> trades so far

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_post(rq.CREATE, self._rest(self._create))
        router.add_post(rq.BATCH_CANCEL, self._rest(self._cancel))
        router.add_post(rq.EDIT, self._rest(self._edit))
        router.add_get(rq.LIST, self._rest(self._list))  # before {order_id}: it would match
        router.add_get(rq.HISTORICAL + "/{order_id}", self._rest(self._get))
        router.add_get(rq.ACCOUNTS, self._rest(self._accounts))
        router.add_get(ep.USER_WS_PATH, self._ws)

    # ------------------------------------------------------------------ REST

    def _rest(self, handler: Callable[[Mapping[str, Any], web.Request], Any]
              ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def serve(request: web.Request) -> web.Response:
            path = request.path
            resource = request.match_info.route.resource
            _, body = await private_call(self.sim, self.exchange, request,
                                         resource.canonical if resource else None)
            try:
                if self.exchange.take_fault(FaultKind.BAD_SIGNATURE):
                    raise AuthError(401, "invalid signature")
                auth = request.headers.get("Authorization", "")
                if not auth.startswith("Bearer "):
                    raise AuthError(401, "missing bearer token")
                verify(auth[7:], self.public_key, self.key_name,
                       rest_uri(request.method, path, request.host))
            except AuthError as exc:
                return json_reply({"error": "UNAUTHENTICATED", "message": exc.message,
                                    "error_details": exc.message}, 401)
            if self.exchange.take_fault(FaultKind.RATE_LIMIT):
                return json_reply({"error": "RATE_LIMIT_EXCEEDED",
                                    "message": "Too many requests"}, 429)
            try:
                args: Any = json.loads(body) if request.method == "POST" else dict(
                    request.query)
                if not isinstance(args, dict):
                    raise _Invalid("the body must be a JSON object")
                return json_reply(handler(args, request))
            except ValueError:
                return json_reply({"error": "INVALID_ARGUMENT", "message": "invalid JSON"}, 400)
            except Refusal as exc:
                status = exc.code if exc.code in (400, 404) else 400
                error = "NOT_FOUND" if status == 404 else "INVALID_ARGUMENT"
                return json_reply({"error": error, "message": exc.message,
                                    "error_details": exc.message}, status)

        return serve

    @staticmethod
    def _failed(reason: str, message: str = "") -> dict[str, Any]:
        error, msg = REJECTS.get(reason, ("INVALID_ARGUMENT", message))
        return {"success": False, "failure_reason": "UNKNOWN_FAILURE_REASON", "order_id": "",
                "error_response": {"error": error, "message": msg, "error_details": msg,
                                   "preview_failure_reason": "UNKNOWN_PREVIEW_FAILURE_REASON",
                                   "new_order_failure_reason": error}}

    def _create(self, args: Mapping[str, Any], request: web.Request) -> dict[str, Any]:
        product = _str(args.get("product_id"))
        side = _SIDES.get(str(args.get("side")))
        config = args.get("order_configuration")
        cid = _str(args.get("client_order_id")) or uuid.uuid4().hex
        if product not in self.exchange.instruments:
            return self._failed("UNKNOWN_SYMBOL")
        if side is None or not isinstance(config, dict) or len(config) != 1:
            raise _Invalid("side and one order_configuration are required")
        [(name, params)] = config.items()
        if name not in _CONFIGS or not isinstance(params, dict):
            raise _Invalid(f"order configuration {name!r} is not simulated")
        kind, tif = _CONFIGS[name]
        qty = decimal(_str(params.get("base_size")), _Invalid("base_size"))
        price = decimal(_str(params.get("limit_price")), _Invalid("limit_price"))
        if qty is None or (kind is OrderType.LIMIT and price is None):
            raise _Invalid("base_size (and limit_price for a limit order) required")
        if self.exchange.order(product, client_order_id=cid) is not None:
            return self._failed("DUPLICATE_CLIENT_ORDER_ID")
        if self.exchange.take_fault(FaultKind.INSUFFICIENT_BALANCE, product):
            return self._failed("INSUFFICIENT_BALANCE")
        events = self.exchange.submit(OrderRequest(
            symbol=product, side=side, order_type=kind, qty=qty,
            price=price if kind is OrderType.LIMIT else None, time_in_force=tif,
            post_only=bool(params.get("post_only")), client_order_id=cid))
        rejected = rejection(events)
        if rejected is not None:
            return self._failed(rejected.reason.value, rejected.message)
        state = final_state(events)
        assert state is not None
        return {"success": True, "success_response": {
            "order_id": str(state.order_id), "product_id": product, "side": args["side"],
            "client_order_id": cid}, "order_configuration": config}

    def _find(self, order_id: str) -> EngineOrder | None:
        if not order_id.isdigit():
            return None
        for symbol in self.exchange.instruments:
            found = self.exchange.order(symbol, order_id=int(order_id))
            if found is not None:
                return found
        return None

    def _cancel(self, args: Mapping[str, Any], request: web.Request) -> dict[str, Any]:
        ids = args.get("order_ids")
        if not isinstance(ids, list) or not ids or len(ids) > rq.CANCEL_BATCH:
            raise _Invalid(f"order_ids: 1 to {rq.CANCEL_BATCH} ids")
        results = []
        for order_id in ids:
            found = self._find(str(order_id))
            ok = False
            if found is not None and found.status in (OrderStatus.NEW,
                                                      OrderStatus.PARTIALLY_FILLED):
                ok = rejection(self.exchange.cancel(found.symbol, order_id=found.order_id)
                               ) is None
            results.append({"success": ok, "failure_reason": "UNKNOWN_CANCEL_FAILURE_REASON"
                            if ok else "UNKNOWN_CANCEL_ORDER", "order_id": str(order_id)})
        return {"results": results}

    def _edit(self, args: Mapping[str, Any], request: web.Request) -> dict[str, Any]:
        found = self._find(str(args.get("order_id", "")))
        if found is None or found.status not in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED):
            return {"success": False, "errors": [{"edit_failure_reason": "UNKNOWN_EDIT_ORDER"}]}
        if found.order_type is not OrderType.LIMIT or found.time_in_force is not TimeInForce.GTC:
            return {"success": False, "errors": [
                {"edit_failure_reason": "ORDER_TYPE_NOT_SUPPORTED"}]}
        price = decimal(_str(args.get("price")), _Invalid("price"))
        size = decimal(_str(args.get("size")), _Invalid("size"))
        if price is None or size is None:
            raise _Invalid("price and size are required")
        events = self.exchange.amend(
            found.symbol, order_id=found.order_id,
            new_qty=None if size == found.qty else size,
            new_price=None if price == found.price else price)
        rejected = rejection(events)
        if rejected is not None:
            error, _ = REJECTS.get(rejected.reason.value, ("INVALID_ARGUMENT", ""))
            return {"success": False, "errors": [{"edit_failure_reason": error}]}
        return {"success": True, "errors": []}

    def _get(self, args: Mapping[str, Any], request: web.Request) -> dict[str, Any]:
        found = self._find(request.match_info["order_id"])
        if found is None:
            raise Refusal(404, "order not found")
        return {"order": self.rest_order(found)}

    def _list(self, args: Mapping[str, Any], request: web.Request) -> dict[str, Any]:
        products = request.query.getall("product_ids", [])
        status = request.query.get("order_status")
        account = self.exchange.account
        orders: list[EngineOrder] = []
        if status == "OPEN":
            orders = self.exchange.open_orders()
        else:  # every order of the account (the engine keeps them all)
            for o in list(self.exchange.engine._orders.values()):
                if o.account == account:
                    state = self.exchange.order(o.symbol, order_id=o.order_id)
                    if state is not None:
                        orders.append(state)
        orders = [o for o in orders if not products or o.symbol in products]
        orders.sort(key=lambda o: o.order_id, reverse=True)  # newest first
        return {"orders": [self.rest_order(o) for o in orders], "has_next": False,
                "cursor": "", "sequence": "0"}

    def _accounts(self, args: Mapping[str, Any], request: web.Request) -> dict[str, Any]:
        accounts = []
        for asset, (_, available, locked) in sorted(self.exchange.balances().items()):
            accounts.append({
                "uuid": str(uuid.uuid5(uuid.NAMESPACE_OID, asset)), "name": f"{asset} Wallet",
                "currency": asset, "available_balance": {"value": plain(available),
                                                         "currency": asset},
                "default": False, "active": True, "type": "ACCOUNT_TYPE_CRYPTO", "ready": True,
                "hold": {"value": plain(locked), "currency": asset}})
        return {"accounts": accounts, "has_next": False, "cursor": "", "size": len(accounts)}

    # ------------------------------------------------------------------ shapes

    def _config(self, o: EngineOrder) -> dict[str, Any]:
        size = plain(o.qty)
        if o.order_type is OrderType.MARKET:
            return {"market_market_ioc": {"base_size": size}}
        price = plain(o.price)
        if o.time_in_force is TimeInForce.IOC:
            return {"sor_limit_ioc": {"base_size": size, "limit_price": price}}
        if o.time_in_force is TimeInForce.FOK:
            return {"limit_limit_fok": {"base_size": size, "limit_price": price}}
        return {"limit_limit_gtc": {"base_size": size, "limit_price": price,
                                    "post_only": o.post_only}}

    def rest_order(self, o: EngineOrder) -> dict[str, Any]:
        avg = o.cum_quote / o.filled_qty if o.filled_qty else None
        return {
            "order_id": str(o.order_id), "product_id": o.symbol, "user_id": self.key_name[:8],
            "order_configuration": self._config(o), "side": o.side.value,
            "client_order_id": o.client_order_id, "status": _STATUS[o.status],
            "time_in_force": _TIF[o.time_in_force], "created_time": _iso(o.created_ts),
            "completion_percentage": plain(o.filled_qty / o.qty * 100) if o.qty else "0",
            "filled_size": plain(o.filled_qty), "average_filled_price": plain(avg),
            "number_of_fills": str(self.fills.get(o.order_id, 0)),
            "filled_value": plain(o.cum_quote), "total_fees": plain(self.fees.get(o.order_id)),
            "order_type": o.order_type.value, "product_type": "SPOT",
            "last_fill_time": _iso(o.updated_ts) if o.filled_qty else None,
            "reject_reason": "", "cancel_message": ""}

    def ws_order(self, o: EngineOrder) -> dict[str, Any]:
        avg = o.cum_quote / o.filled_qty if o.filled_qty else None
        leaves = o.qty - o.filled_qty if o.status in (OrderStatus.NEW,
                                                       OrderStatus.PARTIALLY_FILLED) else 0
        return {
            "avg_price": plain(avg), "cancel_reason": "", "client_order_id": o.client_order_id,
            "completion_percentage": plain(o.filled_qty / o.qty * 100) if o.qty else "0",
            "contract_expiry_type": "UNKNOWN_CONTRACT_EXPIRY_TYPE",
            "cumulative_quantity": plain(o.filled_qty), "filled_value": plain(o.cum_quote),
            "leaves_quantity": plain(Decimal(leaves)),
            "limit_price": "" if o.price is None else plain(o.price),
            "number_of_fills": str(self.fills.get(o.order_id, 0)), "order_id": str(o.order_id),
            "order_side": o.side.value, "order_type": o.order_type.value.capitalize(),
            "outstanding_hold_amount": "0", "post_only": str(o.post_only).lower(),
            "product_id": o.symbol, "product_type": "SPOT", "reject_reason": "",
            "status": _STATUS[o.status], "time_in_force": _TIF[o.time_in_force],
            "total_fees": plain(self.fees.get(o.order_id)),
            "creation_time": _iso(o.created_ts)}

    def account_trade(self, trade: TradeFill) -> None:
        """A trade of ours: its fee (in the quote asset) and the order's trade count."""
        quote = self.exchange.instruments[trade.symbol].quote
        fee = trade.fee if trade.fee_asset == quote else trade.fee * trade.price
        self.fees[trade.order_id] = self.fees.get(trade.order_id, Decimal(0)) + fee
        self.fills[trade.order_id] = self.fills.get(trade.order_id, 0) + 1

    def user_orders(self, events: list[EngineEvent]) -> list[dict[str, Any]]:
        """The `user` channel's order items for one engine call (one per report)."""
        out = []
        for ev, trade in regroup(events, self.exchange.account).reports:
            if trade is not None:
                self.account_trade(trade)
            out.append(self.ws_order(ev.order))  # type: ignore[attr-defined]
        return out

    # ------------------------------------------------------------------ WebSocket

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        if not web.WebSocketResponse().can_prepare(request).ok:
            return web.Response(status=400, text="WebSocket upgrade required")
        conn = _UserWs(self)
        self.exchange.listeners.append(conn.on_events)
        try:
            return await self.sim.run_ws(request, conn)
        finally:
            self.exchange.listeners.remove(conn.on_events)
            conn.stop()


def _message(channel: str, events: list[Any]) -> str:
    return json.dumps({"channel": channel, "client_id": "", "timestamp": iso_now(),
                       "sequence_num": 0, "events": events}, separators=(",", ":"))


class _UserWs:
    def __init__(self, owner: CoinbaseTrading) -> None:
        self.owner = owner
        self.session: Session | None = None
        self.stamp = Stamp()
        self.user = False
        self.beats: asyncio.Task[None] | None = None

    def opened(self, session: Session) -> None:
        self.session = session

    def renderer(self, session: Session) -> Renderer:
        def render(pub: Publication, names: list[str]) -> list[str]:
            return []

        return render

    def stop(self) -> None:
        if self.beats is not None:
            self.beats.cancel()

    def _send(self, session: Session, text: str) -> None:
        session.send_text(self.stamp(text))

    def on_events(self, events: list[EngineEvent]) -> None:
        session = self.session
        if session is None or session.closed or not self.user:
            self.owner.user_orders(events)  # fees and trade counts still add up
            return
        orders = self.owner.user_orders(events)
        if orders:
            self._send(session, _message(ep.USER, [{"type": "update", "orders": orders}]))

    def on_text(self, session: Session, text: str) -> None:
        exchange = self.owner.exchange
        req = json_object(text)
        if req is None:
            session.send_json({"type": "error", "message": "Failed to parse message"})
            return
        channel = req.get("channel")
        exchange.requests[f"WS {req.get('type')} {channel}"] += 1
        if req.get("type") != "subscribe" or channel not in (ep.USER, ep.HEARTBEATS):
            session.send_json({"type": "error", "message": f"unsupported request {channel!r}"})
            return
        try:
            if exchange.take_fault(FaultKind.BAD_SIGNATURE):
                raise AuthError(401, "invalid signature")
            verify(str(req.get("jwt", "")), self.owner.public_key, self.owner.key_name, None)
        except AuthError as exc:
            session.send_json({"type": "error", "message": f"authentication failure: "
                                                          f"{exc.message}"})
            return
        if channel == ep.USER and not self.user:
            self.user = True
            snapshot = [self.owner.ws_order(o) for o in exchange.open_orders()]
            self._send(session, _message(ep.USER, [{"type": "snapshot", "orders": snapshot}]))
        elif channel == ep.HEARTBEATS and self.beats is None:
            self.beats = asyncio.get_running_loop().create_task(self._beat(session))
        held = {ep.USER: [], **({ep.HEARTBEATS: [ep.HEARTBEATS]} if self.beats else {})}
        self._send(session, _message(ep.SUBSCRIPTIONS, [{"subscriptions": held}]))

    async def _beat(self, session: Session) -> None:
        n = 0
        while not session.closed:
            await asyncio.sleep(1.0)
            n += 1
            self._send(session, _message(ep.HEARTBEATS, [{"current_time": iso_now(),
                                                         "heartbeat_counter": n}]))


