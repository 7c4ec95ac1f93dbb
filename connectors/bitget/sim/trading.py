"""Bitget v2 private side (spot or USDT-M, the simulator's venue): signed REST trading
endpoints and the private WebSocket, over the simulator's matching engine.

  REST  spot  POST /api/v2/spot/trade/place-order | cancel-order | cancel-replace-order |
              cancel-symbol-order, GET /api/v2/spot/trade/orderInfo | unfilled-orders,
              GET /api/v2/spot/account/assets
        mix   POST /api/v2/mix/order/place-order | cancel-order | modify-order |
              batch-cancel-orders | cancel-all-orders, GET /api/v2/mix/order/detail |
              orders-pending, GET /api/v2/mix/account/accounts, /api/v2/mix/position/all-position
        verified as Bitget does (`auth.verify_rest`: key, passphrase, 30 s timestamp window,
        base64 HMAC over timestamp + METHOD + path + ?query + body as received); a rate-limit
        fault is HTTP 429 `{"code":"429"}`
  WS    /v2/ws/private: `login` (verified by `auth.verify_ws_login`), `subscribe` to orders /
        account / positions, the text `ping`; engine events pushed as Bitget shapes them.

Simplifications, said here: the spot cancel-replace and the USDT-M modify amend the order in
place (same orderId; Bitget gives the replacement a new orderId); one-way position mode only.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qsl

from aiohttp import web

from ttxt_kafka.connectors.bitget import auth
from ttxt_kafka.connectors.bitget.order_errors import MIX_REJECTS, SPOT_REJECTS
from ttxt_kafka.credentials import AuthError
from ttxt_kafka.events import OrderStatus, OrderType, Side, TimeInForce
from ttxt_kafka.matching import EngineEvent, OrderRequest, OrderUpdated, PositionChanged, TradeFill
from ttxt_kafka.matching import OrderState as EngineOrder
from ttxt_kafka.simulator.faults import FaultKind
from ttxt_kafka.simulator.session import Session
from ttxt_kafka.simulator.synthetic import now_ms
from ttxt_kafka.simulator.trading.exchange import Refusals, SimExchange
from ttxt_kafka.simulator.trading.params import Refusal, decimal, scalar
from ttxt_kafka.simulator.trading.push_socket import OpLoginSocket, serve_push_socket
from ttxt_kafka.simulator.trading.render import ms, plain, regroup
from ttxt_kafka.simulator.trading.rest import json_reply, private_call

from .topics import INST_TYPES

if TYPE_CHECKING:
    from ttxt_kafka.simulator.server import Simulator

_SIDES = {"buy": Side.BUY, "sell": Side.SELL}
_SIDE_NAMES = {Side.BUY: "buy", Side.SELL: "sell"}
_FORCES = {"gtc": TimeInForce.GTC, "ioc": TimeInForce.IOC, "fok": TimeInForce.FOK,
           "post_only": TimeInForce.GTC}
_STATUS = {OrderStatus.NEW: "live", OrderStatus.PARTIALLY_FILLED: "partially_filled",
           OrderStatus.FILLED: "filled", OrderStatus.CANCELED: "cancelled",
           OrderStatus.EXPIRED: "cancelled", OrderStatus.REJECTED: "cancelled"}
ERR_PARAMS = 40017


def _body(data: Any, code: str = "00000", msg: str = "success") -> dict[str, Any]:
    return {"code": code, "msg": msg, "requestTime": now_ms(), "data": data}


def _params(msg: str) -> Refusal:
    return Refusal(ERR_PARAMS, f"Parameter verification exception: {msg}")


class BitgetTrading:
    def __init__(self, sim: Simulator, exchange: SimExchange) -> None:
        exchange.credentials.require_passphrase("Bitget")  # the account's third credential
        self.sim = sim
        self.exchange = exchange
        self.spot = sim.spec.category == "spot"
        self.inst_type = INST_TYPES[sim.spec.category]
        self.refusals = Refusals(SPOT_REJECTS if self.spot else MIX_REJECTS, ERR_PARAMS)

    def add_routes(self, router: web.UrlDispatcher) -> None:
        if self.spot:
            base = "/api/v2/spot/trade"
            posts = {"place-order": self._create, "cancel-order": self._cancel,
                     "cancel-replace-order": self._amend,
                     "cancel-symbol-order": self._cancel_all}
            gets = {f"{base}/orderInfo": self._query, f"{base}/unfilled-orders": self._open,
                    "/api/v2/spot/account/assets": self._assets}
        else:
            base = "/api/v2/mix/order"
            posts = {"place-order": self._create, "cancel-order": self._cancel,
                     "modify-order": self._amend, "batch-cancel-orders": self._cancel_all,
                     "cancel-all-orders": self._cancel_all}
            gets = {f"{base}/detail": self._query, f"{base}/orders-pending": self._open,
                    "/api/v2/mix/account/accounts": self._accounts,
                    "/api/v2/mix/position/all-position": self._positions}
        for name, handler in posts.items():
            router.add_post(f"{base}/{name}", self._rest(handler))
        for path, handler in gets.items():
            router.add_get(path, self._rest(handler))
        router.add_get("/v2/ws/private", self._ws)

    # ------------------------------------------------------------------ REST

    def _rest(self, handler: Callable[[Mapping[str, Any]], Any]
              ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def serve(request: web.Request) -> web.Response:
            query, body = await private_call(self.sim, self.exchange, request)
            try:
                if self.exchange.take_fault(FaultKind.BAD_SIGNATURE):
                    raise AuthError(auth.ERR_SIGN, auth.MSG_SIGN)
                auth.verify_rest(self.exchange.credentials, dict(request.headers),
                                 request.method, request.path, query, body, now_ms=now_ms())
            except AuthError as exc:
                return json_reply(_body(None, str(exc.code), exc.message), 400)
            if self.exchange.take_fault(FaultKind.RATE_LIMIT):
                return json_reply(_body(None, "429", "Too Many Requests"), 429)
            try:
                args: Any = json.loads(body) if request.method == "POST" else dict(
                    parse_qsl(query, keep_blank_values=True))
                if not isinstance(args, dict):
                    raise _params("the body must be a JSON object")
                if not self.spot and request.method == "POST" and args.get(
                        "productType") != self.inst_type:
                    raise Refusal(40020, "Parameter productType error")
                result = handler(args)
            except ValueError:
                return json_reply(_body(None, str(ERR_PARAMS), "invalid JSON"), 400)
            except Refusal as exc:
                return json_reply(_body(None, str(exc.code), exc.message), 400)
            return json_reply(_body(result))

        return serve

    def _answer(self, events: list[EngineEvent]) -> dict[str, Any]:
        state = self.refusals.done(events)
        return {"orderId": str(state.order_id), "clientOid": state.client_order_id}

    def _symbol(self, args: Mapping[str, Any]) -> str:
        symbol = args.get("symbol")
        if not isinstance(symbol, str) or symbol not in self.exchange.instruments:
            raise self.refusals.refusal("UNKNOWN_SYMBOL")
        return symbol

    def _ref(self, args: Mapping[str, Any]) -> tuple[int | None, str | None]:
        order_id, cid = scalar(args.get("orderId")), scalar(args.get("clientOid"))
        if order_id is None and cid is None:
            raise _params("orderId or clientOid is required")
        if order_id is not None and not order_id.isdigit():
            raise self.refusals.refusal("UNKNOWN_ORDER")
        return (int(order_id) if order_id else None), cid

    def _create(self, args: Mapping[str, Any]) -> dict[str, Any]:
        symbol = self._symbol(args)
        side = _SIDES.get(str(args.get("side")))
        kind = args.get("orderType")
        if side is None or kind not in ("limit", "market"):
            raise _params("side or orderType")
        qty = decimal(scalar(args.get("size")), _params("size"))
        price = decimal(scalar(args.get("price")), _params("price"))
        force = scalar(args.get("force")) or "gtc"
        if force not in _FORCES:
            raise _params("force")
        if kind == "market":
            price = None
            if self.spot and side is Side.BUY:
                raise _params("the simulator does not size spot market buys in the quote coin")
        elif price is None:
            raise _params("price is required for a limit order")
        if qty is None:
            raise _params("size")
        cid = scalar(args.get("clientOid")) or uuid.uuid4().hex
        self.refusals.check_new(self.exchange, symbol, cid)
        request = OrderRequest(
            symbol=symbol, side=side, order_type=OrderType.LIMIT if kind == "limit"
            else OrderType.MARKET, qty=qty, price=price, time_in_force=_FORCES[force],
            post_only=force == "post_only",
            reduce_only=str(args.get("reduceOnly", "NO")).upper() == "YES",
            client_order_id=cid)
        return self._answer(self.exchange.submit(request))

    def _cancel(self, args: Mapping[str, Any]) -> dict[str, Any]:
        symbol = self._symbol(args)
        order_id, cid = self._ref(args)
        return self._answer(self.exchange.cancel(symbol, order_id=order_id,
                                                 client_order_id=None if order_id else cid))

    def _amend(self, args: Mapping[str, Any]) -> dict[str, Any]:
        symbol = self._symbol(args)
        order_id, cid = self._ref(args)
        names = ("size", "price") if self.spot else ("newSize", "newPrice")
        qty = decimal(scalar(args.get(names[0])), _params(names[0]))
        price = decimal(scalar(args.get(names[1])), _params(names[1]))
        if self.spot and (qty is None or price is None):
            raise _params("price and size are required")
        current = self.exchange.order(symbol, order_id=order_id,
                                      client_order_id=None if order_id else cid)
        if current is not None and self.spot:
            qty = None if qty == current.qty else qty  # unchanged fields are not amended
            price = None if price == current.price else price
        return self._answer(self.exchange.amend(symbol, order_id=order_id,
                                                client_order_id=None if order_id else cid,
                                                new_qty=qty, new_price=price))

    def _cancel_all(self, args: Mapping[str, Any]) -> dict[str, Any]:
        symbol = self._symbol(args) if args.get("symbol") else None
        if symbol is None and self.spot:
            raise _params("symbol")
        events = self.exchange.cancel_all(symbol)
        canceled = [ev.order for ev in events if isinstance(ev, OrderUpdated)]
        if self.spot:
            return {"symbol": symbol}
        return {"successList": [{"orderId": str(o.order_id), "clientOid": o.client_order_id}
                                for o in canceled], "failureList": []}

    # ------------------------------------------------------------------ queries

    def _find(self, args: Mapping[str, Any]) -> EngineOrder | None:
        order_id, cid = self._ref(args)
        symbols = [args["symbol"]] if args.get("symbol") else list(self.exchange.instruments)
        for sym in symbols:
            found = self.exchange.order(sym, order_id=order_id,
                                        client_order_id=None if order_id else cid)
            if found is not None:
                return found
        return None

    def _query(self, args: Mapping[str, Any]) -> Any:
        found = self._find(args)
        if found is None:
            raise self.refusals.refusal("UNKNOWN_ORDER")
        return [self.order(found)] if self.spot else self.order(found)

    def _open(self, args: Mapping[str, Any]) -> Any:
        items = [self.order(o) for o in self.exchange.open_orders(args.get("symbol") or None)]
        return items if self.spot else {"entrustedList": items or None, "endId": None}

    def _assets(self, args: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [self.coin(a, *b) for a, b in sorted(self.exchange.balances().items())]

    def _accounts(self, args: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [self.margin(a, *b) for a, b in sorted(self.exchange.balances().items())]

    def _positions(self, args: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [self.position(p) for p in self.exchange.positions()]

    # ------------------------------------------------------------------ shapes

    def order(self, o: EngineOrder, trade: TradeFill | None = None) -> dict[str, Any]:
        avg = o.cum_quote / o.filled_qty if o.filled_qty else None
        market = o.order_type is OrderType.MARKET
        item: dict[str, Any] = {
            "instId": o.symbol, "symbol": o.symbol, "orderId": str(o.order_id),
            "clientOid": o.client_order_id, "price": "" if market else plain(o.price),
            "size": plain(o.qty), "orderType": "market" if market else "limit",
            "force": "post_only" if o.post_only else o.time_in_force.value.lower(),
            "side": _SIDE_NAMES[o.side], "accBaseVolume": plain(o.filled_qty),
            "baseVolume": plain(o.filled_qty), "priceAvg": plain(avg) if avg else "",
            "status": _STATUS[o.status], "cTime": str(ms(o.created_ts)),
            "uTime": str(ms(o.updated_ts)),
        }
        if not self.spot:
            item |= {"state": item["status"], "reduceOnly": "yes" if o.reduce_only else "no",
                     "marginCoin": "USDT", "marginMode": "crossed", "posMode": "one_way_mode",
                     "productType": self.inst_type}
        if trade is not None:
            item |= {"tradeId": str(trade.trade_id), "fillPrice": plain(trade.price),
                     "baseVolume": plain(trade.qty), "fillFee": plain(-trade.fee),
                     "fillFeeCoin": trade.fee_asset, "tradeScope": "M" if trade.is_maker
                     else "T", "fillTime": str(ms(trade.ts))}
        return item

    def coin(self, asset: str, total: Decimal, available: Decimal,
             locked: Decimal) -> dict[str, Any]:
        return {"coin": asset, "available": plain(available), "frozen": plain(locked),
                "locked": "0", "limitAvailable": "0", "uTime": str(now_ms())}

    def margin(self, asset: str, total: Decimal, available: Decimal,
               locked: Decimal) -> dict[str, Any]:
        return {"marginCoin": asset, "locked": plain(locked), "available": plain(available),
                "accountEquity": plain(total), "usdtEquity": plain(total),
                "unrealizedPL": "0", "crossedMaxAvailable": plain(available)}

    def position(self, p: PositionChanged) -> dict[str, Any]:
        return {"instId": p.symbol, "symbol": p.symbol, "marginCoin": "USDT",
                "holdSide": "long" if p.size >= 0 else "short", "total": plain(abs(p.size)),
                "available": plain(abs(p.size)), "openPriceAvg": plain(p.entry_price),
                "markPrice": plain(p.mark_price), "unrealizedPL": plain(p.unrealized_pnl),
                "achievedProfits": plain(p.realized_pnl), "leverage": plain(p.leverage),
                "liquidationPrice": "", "marginMode": "crossed", "posMode": "one_way_mode",
                "cTime": str(ms(p.ts)), "uTime": str(ms(p.ts))}

    def pushes(self, events: list[EngineEvent]) -> list[tuple[str, dict[str, Any]]]:
        """(channel, push) for one engine call: orders (with their trades), account,
        positions."""
        batch = regroup(events, self.exchange.account)
        ts = ms(events[-1].ts) if events else now_ms()
        out = []

        def push(channel: str, data: list[dict[str, Any]]) -> None:
            arg = {"instType": self.inst_type, "channel": channel,
                   ("coin" if channel == "account" else "instId"): "default"}
            out.append((channel, {"action": "snapshot", "arg": arg, "data": data, "ts": ts}))

        if batch.reports:
            push("orders", [self.order(ev.order, trade)  # type: ignore[attr-defined]
                            for ev, trade in batch.reports])
        if batch.balances:
            shape = self.coin if self.spot else self.margin
            push("account", [shape(b.asset, b.total, b.available, b.locked)
                             for b in batch.balances])
        if batch.positions and not self.spot:
            push("positions", [self.position(p) for p in batch.positions])
        return out

    # ------------------------------------------------------------------ WebSocket

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        return await serve_push_socket(self.sim, self.exchange, request, _PrivateWs(self))


class _PrivateWs(OpLoginSocket):
    def __init__(self, owner: BitgetTrading) -> None:
        super().__init__(owner.pushes, owner.exchange)
        self.owner = owner

    def refuse(self, session: Session, problem: Literal["json", "op"], text: str) -> None:
        code, msg = (30002, "illegal request") if problem == "json" else (30003, "invalid op")
        session.send_json({"event": "error", "code": code, "msg": msg})

    def bad_signature(self) -> AuthError:
        return AuthError(auth.WS_ERR_SIGN, "Invalid sign")

    def verify_login(self, req: dict[str, Any]) -> None:
        auth.verify_ws_login(self.exchange.credentials, req, now_ms=now_ms())

    def login_answer(self, session: Session, error: AuthError | None) -> None:
        if error is not None:
            session.send_json({"event": "error", "code": error.code, "msg": error.message})
        else:
            session.send_json({"event": "login", "code": 0, "msg": ""})

    def subscribable(self, session: Session, arg: Any) -> str | None:
        if not self.authed:
            session.send_json({"event": "error", "arg": arg, "code": 30004,
                               "msg": "User not logged in"})
        elif (not isinstance(arg, dict) or arg.get("instType") != self.owner.inst_type
              or arg.get("channel") not in ("orders", "account", "positions")):
            session.send_json({"event": "error", "arg": arg, "code": 30001,
                               "msg": "channel doesn't exist"})
        else:
            return str(arg["channel"])
        return None

    def ack(self, session: Session, op: str, arg: Any) -> None:
        session.send_json({"event": op, "arg": arg})
