"""OKX v5 private side (spot or swaps, the simulator's venue): signed REST trading endpoints
and the private WebSocket, over the simulator's matching engine.

  REST  POST /api/v5/trade/order | cancel-order | amend-order | cancel-batch-orders,
        GET /api/v5/trade/order | orders-pending, GET /api/v5/account/balance | positions;
        verified as OKX does (`auth.verify_rest`: key, passphrase, ISO-8601 timestamp within
        30 s, base64 HMAC over timestamp + METHOD + path?query + body as received; HTTP 401
        `{"code":"50113","msg":"Invalid Sign"}` and friends); a rate-limit fault is HTTP 429
        `{"code":"50011"}`. An order refused per item: code "1", `data[0].sCode`/`sMsg`.
  WS    /ws/v5/private: `login` (verified by `auth.verify_ws_login`), `subscribe` to orders /
        account / positions, the text `ping`; engine events pushed as OKX shapes them.

Swap `sz` is in contracts: the engine trades base quantities (contracts x `ctVal`), and
answers in contracts again. Simplifications, said here: net position mode only; `tdMode` is
checked (cash on spot, cross or isolated on swaps) but margin is the engine's one account; a
spot market buy must say `tgtCcy: base_ccy` (the engine does not size orders in the quote coin).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qsl

from aiohttp import web

from ttxt_kafka.connectors.okx import auth
from ttxt_kafka.connectors.okx.order_errors import REJECTS
from ttxt_kafka.credentials import AuthError
from ttxt_kafka.events import OrderStatus, OrderType, Side, TimeInForce
from ttxt_kafka.matching import EngineEvent, OrderRequest, PositionChanged, TradeFill
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
_ORD_TYPES = {"limit": TimeInForce.GTC, "post_only": TimeInForce.GTC, "ioc": TimeInForce.IOC,
              "fok": TimeInForce.FOK, "market": TimeInForce.IOC}
_STATE = {OrderStatus.NEW: "live", OrderStatus.PARTIALLY_FILLED: "partially_filled",
          OrderStatus.FILLED: "filled", OrderStatus.CANCELED: "canceled",
          OrderStatus.EXPIRED: "canceled", OrderStatus.REJECTED: "canceled"}
_CL_ORD_ID = re.compile(r"[A-Za-z0-9]{1,32}")
ERR_PARAMS = 51000


def _params(name: str) -> Refusal:
    return Refusal(ERR_PARAMS, f"Parameter {name} error")


_str = scalar


class OkxTrading:
    def __init__(self, sim: Simulator, exchange: SimExchange) -> None:
        exchange.credentials.require_passphrase("OKX")  # the account's third credential
        self.sim = sim
        self.exchange = exchange
        self.refusals = Refusals(REJECTS, ERR_PARAMS)
        self.inst_type = INST_TYPES[sim.spec.category]
        self.spot = self.inst_type == "SPOT"

    def add_routes(self, router: web.UrlDispatcher) -> None:
        base = "/api/v5/trade"
        posts = {"order": self._create, "cancel-order": self._cancel,
                 "amend-order": self._amend, "cancel-batch-orders": self._cancel_batch}
        gets = {f"{base}/order": self._query, f"{base}/orders-pending": self._open,
                "/api/v5/account/balance": self._balance,
                "/api/v5/account/positions": self._positions}
        for name, handler in posts.items():
            router.add_post(f"{base}/{name}", self._rest(handler))
        for path, handler in gets.items():
            router.add_get(path, self._rest(handler))
        router.add_get("/ws/v5/private", self._ws)

    # ------------------------------------------------------------------ REST

    def _rest(self, handler: Callable[[Any], list[dict[str, Any]]]
              ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def serve(request: web.Request) -> web.Response:
            query, body = await private_call(self.sim, self.exchange, request)
            try:
                if self.exchange.take_fault(FaultKind.BAD_SIGNATURE):
                    raise AuthError(int(auth.ERR_SIGN), auth.MSG[auth.ERR_SIGN])
                auth.verify_rest(self.exchange.credentials, dict(request.headers),
                                 request.method, request.path, query, body, now_ms=now_ms())
            except AuthError as exc:
                return json_reply({"code": str(exc.code), "msg": exc.message, "data": []}, 401)
            if self.exchange.take_fault(FaultKind.RATE_LIMIT):
                return json_reply({"code": "50011", "msg": "Too Many Requests", "data": []},
                                   429)
            try:
                args: Any = json.loads(body) if request.method == "POST" else dict(
                    parse_qsl(query, keep_blank_values=True))
                if not isinstance(args, dict | list):
                    raise _params("body")
                data = handler(args)
            except ValueError:
                return json_reply({"code": "50002", "msg": "Invalid JSON", "data": []}, 400)
            except Refusal as exc:
                item = {"sCode": str(exc.code), "sMsg": exc.message, "ordId": "", "clOrdId": ""}
                if request.method == "POST":  # an order call: refused per item, HTTP 200
                    return json_reply({"code": "1", "msg": "Operation failed.",
                                        "data": [item]})
                return json_reply({"code": str(exc.code), "msg": exc.message, "data": []})
            failed = [d for d in data if d.get("sCode", "0") != "0"]
            code = "0" if not failed else "1" if len(failed) == len(data) else "2"
            return json_reply({"code": code, "msg": "" if code == "0" else "Operation failed.",
                                "data": data})

        return serve

    def _answer(self, events: list[EngineEvent], verb: str) -> list[dict[str, Any]]:
        state = self.refusals.done(events)
        return [{"ordId": str(state.order_id), "clOrdId": state.client_order_id, "tag": "",
                 "ts": str(now_ms()), "sCode": "0", "sMsg": f"Order {verb}"}]

    def _inst(self, args: Mapping[str, Any]) -> str:
        inst = args.get("instId")
        if not isinstance(inst, str) or inst not in self.exchange.instruments:
            raise self.refusals.refusal("UNKNOWN_SYMBOL")
        return inst

    def _ct(self, inst: str) -> Decimal:
        ct = self.exchange.instruments[inst].contract_size
        return Decimal(ct) if ct else Decimal(1)

    def _base(self, inst: str, sz: Decimal | None) -> Decimal | None:
        return None if sz is None else sz * self._ct(inst)

    def _contracts(self, inst: str, qty: Decimal) -> Decimal:
        return qty / self._ct(inst)

    def _ref(self, args: Mapping[str, Any]) -> tuple[int | None, str | None]:
        order_id, cid = _str(args.get("ordId")), _str(args.get("clOrdId"))
        if order_id is None and cid is None:
            raise _params("ordId or clOrdId")
        if order_id is not None and not order_id.isdigit():
            raise self.refusals.refusal("UNKNOWN_ORDER")
        return (int(order_id) if order_id else None), cid

    def _create(self, args: Any) -> list[dict[str, Any]]:
        if not isinstance(args, dict):
            raise _params("body")
        inst = self._inst(args)
        side = _SIDES.get(str(args.get("side")))
        kind = args.get("ordType")
        if side is None:
            raise _params("side")
        if kind not in _ORD_TYPES:
            raise _params("ordType")
        td_mode = args.get("tdMode")
        if td_mode not in (("cash",) if self.spot else ("cross", "isolated")):
            raise _params("tdMode")
        sz = decimal(_str(args.get("sz")), _params("sz"))
        px = decimal(_str(args.get("px")), _params("px"))
        if sz is None:
            raise _params("sz")
        if kind == "market":
            px = None
            if self.spot and side is Side.BUY and args.get("tgtCcy") != "base_ccy":
                raise _params("tgtCcy (the simulator sizes spot market buys in base_ccy only)")
        elif px is None:
            raise _params("px")
        cid = _str(args.get("clOrdId")) or uuid.uuid4().hex[:32]
        if not _CL_ORD_ID.fullmatch(cid):
            raise _params("clOrdId")
        self.refusals.check_new(self.exchange, inst, cid)
        reduce_only = args.get("reduceOnly") in (True, "true")
        qty = self._base(inst, sz)
        assert qty is not None
        request = OrderRequest(
            symbol=inst, side=side, order_type=OrderType.MARKET if kind == "market"
            else OrderType.LIMIT, qty=qty, price=px, time_in_force=_ORD_TYPES[kind],
            post_only=kind == "post_only", reduce_only=reduce_only, client_order_id=cid)
        return self._answer(self.exchange.submit(request), "placed")

    def _cancel(self, args: Any) -> list[dict[str, Any]]:
        if not isinstance(args, dict):
            raise _params("body")
        inst = self._inst(args)
        order_id, cid = self._ref(args)
        return self._answer(self.exchange.cancel(inst, order_id=order_id,
                                                 client_order_id=None if order_id else cid),
                            "canceled")

    def _amend(self, args: Any) -> list[dict[str, Any]]:
        if not isinstance(args, dict):
            raise _params("body")
        inst = self._inst(args)
        order_id, cid = self._ref(args)
        sz = decimal(_str(args.get("newSz")), _params("newSz"))
        px = decimal(_str(args.get("newPx")), _params("newPx"))
        if sz is None and px is None:
            raise self.refusals.refusal("AMEND_NO_CHANGE")
        return self._answer(self.exchange.amend(inst, order_id=order_id,
                                                client_order_id=None if order_id else cid,
                                                new_qty=self._base(inst, sz), new_price=px),
                            "amended")

    def _cancel_batch(self, args: Any) -> list[dict[str, Any]]:
        if not isinstance(args, list) or not 1 <= len(args) <= 20:
            raise _params("the batch (1 to 20 orders)")
        out = []
        for item in args:
            try:
                [answer] = self._cancel(item)
            except Refusal as exc:
                answer = {"ordId": str(item.get("ordId", "")) if isinstance(item, dict) else "",
                          "clOrdId": "", "sCode": str(exc.code), "sMsg": exc.message}
            out.append(answer)
        return out

    # ------------------------------------------------------------------ queries

    def _query(self, args: Mapping[str, Any]) -> list[dict[str, Any]]:
        inst = self._inst(args)
        order_id, cid = self._ref(args)
        found = self.exchange.order(inst, order_id=order_id,
                                    client_order_id=None if order_id else cid)
        if found is None:
            raise self.refusals.refusal("UNKNOWN_ORDER")
        return [self.order(found)]

    def _open(self, args: Mapping[str, Any]) -> list[dict[str, Any]]:
        if args.get("instType") not in (None, self.inst_type):
            return []
        return [self.order(o) for o in self.exchange.open_orders(args.get("instId") or None)]

    def _balance(self, args: Mapping[str, Any]) -> list[dict[str, Any]]:
        details = [self.detail(a, *b) for a, b in sorted(self.exchange.balances().items())]
        return [{"totalEq": "", "uTime": str(now_ms()), "details": details}]

    def _positions(self, args: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [self.position(p) for p in self.exchange.positions()]

    # ------------------------------------------------------------------ shapes

    def order(self, o: EngineOrder, trade: TradeFill | None = None) -> dict[str, Any]:
        avg = o.cum_quote / o.filled_qty if o.filled_qty else None
        market = o.order_type is OrderType.MARKET
        kind = ("market" if market else "post_only" if o.post_only
                else {TimeInForce.IOC: "ioc", TimeInForce.FOK: "fok"}.get(o.time_in_force,
                                                                          "limit"))
        item: dict[str, Any] = {
            "instType": self.inst_type, "instId": o.symbol, "ordId": str(o.order_id),
            "clOrdId": o.client_order_id, "px": "" if market else plain(o.price),
            "sz": plain(self._contracts(o.symbol, o.qty)), "ordType": kind,
            "side": _SIDE_NAMES[o.side], "posSide": "net",
            "tdMode": "cash" if self.spot else "cross",
            "accFillSz": plain(self._contracts(o.symbol, o.filled_qty)),
            "avgPx": plain(avg) if avg else "", "state": _STATE[o.status],
            "reduceOnly": "true" if o.reduce_only else "false", "tradeId": "", "fillPx": "",
            "fillSz": "0", "fillFee": "0", "fillFeeCcy": "", "execType": "",
            "cTime": str(ms(o.created_ts)), "uTime": str(ms(o.updated_ts)),
        }
        if trade is not None:
            item |= {"tradeId": str(trade.trade_id), "fillPx": plain(trade.price),
                     "fillSz": plain(self._contracts(o.symbol, trade.qty)),
                     "fillFee": plain(-trade.fee), "fillFeeCcy": trade.fee_asset,
                     "execType": "M" if trade.is_maker else "T",
                     "fillTime": str(ms(trade.ts))}
        return item

    def detail(self, asset: str, total: Decimal, available: Decimal,
               locked: Decimal) -> dict[str, Any]:
        return {"ccy": asset, "cashBal": plain(total), "availBal": plain(available),
                "frozenBal": plain(locked), "eq": plain(total), "uTime": str(now_ms())}

    def position(self, p: PositionChanged) -> dict[str, Any]:
        return {"instType": self.inst_type, "instId": p.symbol, "mgnMode": "cross",
                "posSide": "net", "pos": plain(self._contracts(p.symbol, p.size)),
                "avgPx": plain(p.entry_price), "markPx": plain(p.mark_price),
                "upl": plain(p.unrealized_pnl), "realizedPnl": plain(p.realized_pnl),
                "lever": plain(p.leverage), "liqPx": "", "cTime": str(ms(p.ts)),
                "uTime": str(ms(p.ts))}

    def pushes(self, events: list[EngineEvent]) -> list[tuple[str, dict[str, Any]]]:
        """(channel, push) for one engine call: orders (with their trades), account,
        positions."""
        batch = regroup(events, self.exchange.account)
        out = []

        def push(channel: str, data: list[dict[str, Any]]) -> None:
            arg = {"channel": channel, "uid": "77777"}
            if channel != "account":
                arg["instType"] = self.inst_type
            out.append((channel, {"arg": arg, "data": data}))

        if batch.reports:
            push("orders", [self.order(ev.order, trade)  # type: ignore[attr-defined]
                            for ev, trade in batch.reports])
        if batch.balances:
            push("account", [{"uTime": str(now_ms()), "details": [
                self.detail(b.asset, b.total, b.available, b.locked) for b in batch.balances]}])
        if batch.positions and not self.spot:
            push("positions", [self.position(p) for p in batch.positions])
        return out

    # ------------------------------------------------------------------ WebSocket

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        return await serve_push_socket(self.sim, self.exchange, request, _PrivateWs(self))


class _PrivateWs(OpLoginSocket):
    def __init__(self, owner: OkxTrading) -> None:
        super().__init__(owner.pushes, owner.exchange)
        self.owner = owner

    def _send(self, session: Session, message: dict[str, Any]) -> None:
        session.send_json({**message, "connId": f"{session.id:08x}"})  # OKX names each connection

    def refuse(self, session: Session, problem: Literal["json", "op"], text: str) -> None:
        self._send(session, {"event": "error", "code": "60012",
                             "msg": f"Invalid request: {text[:100]}"})

    def bad_signature(self) -> AuthError:
        return AuthError(int(auth.WS_ERR_SIGN), "Invalid sign")

    def verify_login(self, req: dict[str, Any]) -> None:
        auth.verify_ws_login(self.exchange.credentials, req, now_ms=now_ms())

    def login_answer(self, session: Session, error: AuthError | None) -> None:
        if error is not None:
            self._send(session, {"event": "error", "code": str(error.code),
                                 "msg": error.message})
        else:
            self._send(session, {"event": "login", "code": "0", "msg": ""})

    def subscribable(self, session: Session, arg: Any) -> str | None:
        channel = arg.get("channel") if isinstance(arg, dict) else None
        if not self.authed:
            self._send(session, {"event": "error", "code": "60011", "msg": "Please log in"})
        elif channel not in ("orders", "account", "positions") or (
                channel != "account" and arg.get("instType") not in
                (self.owner.inst_type, "ANY")):
            self._send(session, {"event": "error", "code": "60018",
                                 "msg": f"Wrong URL or channel:{channel} doesn't exist"})
        else:
            return str(channel)
        return None

    def ack(self, session: Session, op: str, arg: Any) -> None:
        self._send(session, {"event": op, "arg": arg})
