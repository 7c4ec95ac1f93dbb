"""Kraken spot private side (the simulator's venue): signed private REST, the authenticated WS v2
order methods and the executions / balances channels, over the simulator's matching engine.

  REST  POST /0/private/GetWebSocketsToken | OpenOrders | ClosedOrders | BalanceEx, verified as
        Kraken does (`auth.verify`: API-Key, API-Sign over path + SHA256(nonce + body), a nonce
        above the key's last one); answers `{"error": [...], "result": {...}}` (HTTP 200, the
        error strings Kraken uses).
  WS    `/v2` (the public path: the public protocol hands each connection here when the
        simulator trades, and keeps serving its public methods): `add_order`, `cancel_order`,
        `amend_order`, `cancel_all`, `subscribe` / `unsubscribe` of `executions` (snapshot of
        the open orders) and `balances` (snapshot of the wallet), each with a token this
        simulator issued; engine events pushed as executions reports and balances updates,
        numbers as JSON numbers.
Faults: bad_signature (the next private REST call), rate_limit (the next order method:
`EOrder:Rate limit exceeded`), insufficient_balance, drop_connection (the session is cut like
any other).

Simplifications, said here: order ids are the engine's numbers as strings (Kraken's are
`OXXXXX-XXXXX-XXXXXX`); trade ids are the engine's; a token stays valid for the simulator's
life; the REST asset codes are Kraken's legacy ones only for BTC/ETH/USD (XXBT, XETH, ZUSD).
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import msgspec
from aiohttp import web

from ttxt_kafka.connectors.kraken import auth
from ttxt_kafka.connectors.kraken import endpoints as ep
from ttxt_kafka.connectors.kraken.order_errors import REJECTS
from ttxt_kafka.credentials import AuthError
from ttxt_kafka.events import OrderStatus, OrderType, Side, TimeInForce
from ttxt_kafka.matching import (
    BalanceChanged,
    EngineEvent,
    ExecType,
    OrderAccepted,
    OrderRequest,
    OrderUpdated,
    TradeFill,
)
from ttxt_kafka.matching import OrderState as EngineOrder
from ttxt_kafka.simulator.faults import FaultKind
from ttxt_kafka.simulator.publication import Publication
from ttxt_kafka.simulator.session import Renderer, Session
from ttxt_kafka.simulator.trading.exchange import SimExchange, final_state, rejection
from ttxt_kafka.simulator.trading.params import Refusal, decimal
from ttxt_kafka.simulator.trading.render import plain, regroup
from ttxt_kafka.simulator.trading.rest import json_reply, private_call

if TYPE_CHECKING:
    from ttxt_kafka.simulator.server import Simulator

_SIDES = {"buy": Side.BUY, "sell": Side.SELL}
_SIDE_NAMES = {Side.BUY: "buy", Side.SELL: "sell"}
_TIF = {"gtc": TimeInForce.GTC, "ioc": TimeInForce.IOC, "fok": TimeInForce.FOK}
_STATUS = {OrderStatus.NEW: "new", OrderStatus.PARTIALLY_FILLED: "partially_filled",
           OrderStatus.FILLED: "filled", OrderStatus.CANCELED: "canceled",
           OrderStatus.EXPIRED: "expired", OrderStatus.REJECTED: "canceled"}
_REST_STATUS = {OrderStatus.NEW: "open", OrderStatus.PARTIALLY_FILLED: "open",
                OrderStatus.FILLED: "closed", OrderStatus.CANCELED: "canceled",
                OrderStatus.EXPIRED: "expired", OrderStatus.REJECTED: "canceled"}
_EXEC = {ExecType.NEW: "new", ExecType.CANCELED: "canceled", ExecType.EXPIRED: "expired",
         ExecType.AMENDED: "amended", ExecType.TRADE: "trade"}
_REST_ASSETS = {"BTC": "XXBT", "ETH": "XETH", "USD": "ZUSD"}
ORDER_METHODS = frozenset({"add_order", "cancel_order", "amend_order", "cancel_all"})
PRIVATE_CHANNELS = frozenset({ep.EXECUTIONS, ep.BALANCES})
ERR_ARGS = "EGeneral:Invalid arguments"
ERR_TOKEN = "EAPI:Invalid token"  # the simulator's wording (Kraken's is not documented here)
_decode = msgspec.json.Decoder(float_hook=str).decode
_encode = msgspec.json.Encoder(decimal_format="number").encode


def _iso(ts_us: int | None = None) -> str:
    ts = time.time_ns() // 1000 if ts_us is None else ts_us
    return datetime.fromtimestamp(ts / 1e6, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _n(value: Decimal | None) -> Decimal:
    """An engine decimal as Kraken writes its numbers (trailing zeros dropped)."""
    return Decimal(plain(value))


def _arg(msg: str) -> Refusal:
    return Refusal(0, f"{ERR_ARGS}:{msg}")


def _number(value: Any, name: str) -> Decimal | None:
    """A JSON number from a request (its exact text: the decoder never makes a float)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _arg(name)
    return decimal(str(value), _arg(name))


class KrakenTrading:
    def __init__(self, sim: Simulator, exchange: SimExchange) -> None:
        auth.check_secret(exchange.credentials)  # Kraken's secrets are base64: say so at start
        self.sim = sim
        self.exchange = exchange
        self.tokens: set[str] = set()
        self.last_nonce = 0
        self.ledger = 0

    def add_routes(self, router: web.UrlDispatcher) -> None:
        routes: dict[str, Callable[[Mapping[str, str]], Any]] = {
            ep.TOKEN_PATH: self._token, ep.OPEN_ORDERS_PATH: self._open,
            ep.CLOSED_ORDERS_PATH: self._closed, ep.BALANCE_EX_PATH: self._balances}
        for path, handler in routes.items():
            router.add_post(path, self._rest(handler))
        # GET /v2 belongs to the public protocol, which hands its connections to `ws`

    # ------------------------------------------------------------------ REST

    def _rest(self, handler: Callable[[Mapping[str, str]], Any]
              ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def serve(request: web.Request) -> web.Response:
            _, body = await private_call(self.sim, self.exchange, request)
            try:
                if self.exchange.take_fault(FaultKind.BAD_SIGNATURE):
                    raise AuthError(0, auth.ERR_SIGN)
                params, nonce = auth.verify(self.exchange.credentials, dict(request.headers),
                                            request.path, body, last_nonce=self.last_nonce)
            except AuthError as exc:
                return json_reply({"error": [exc.message]})
            self.last_nonce = nonce
            try:
                return json_reply({"error": [], "result": handler(params)})
            except Refusal as exc:
                return json_reply({"error": [exc.message]})

        return serve

    def _token(self, params: Mapping[str, str]) -> dict[str, Any]:
        token = secrets.token_urlsafe(32)
        self.tokens.add(token)
        return {"token": token, "expires": 900}

    def _orders(self, params: Mapping[str, str], open_only: bool) -> dict[str, Any]:
        cid = params.get("cl_ord_id") or None
        found = []
        for symbol in sorted(self.exchange.instruments):
            if open_only:
                found += [o for o in self.exchange.open_orders(symbol)
                          if cid is None or o.client_order_id == cid]
            elif cid is not None:
                o = self.exchange.order(symbol, client_order_id=cid)
                if o is not None and o.status not in (OrderStatus.NEW,
                                                      OrderStatus.PARTIALLY_FILLED):
                    found.append(o)
        if not open_only and cid is None:
            found = [o.snapshot() for o in self.exchange.engine._orders.values()  # noqa: SLF001
                     if o.account == self.exchange.account and o.status not in (
                         OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)]
        return {str(o.order_id): self.rest_order(o) for o in found}

    def _open(self, params: Mapping[str, str]) -> dict[str, Any]:
        return {"open": self._orders(params, True)}

    def _closed(self, params: Mapping[str, str]) -> dict[str, Any]:
        closed = self._orders(params, False)
        return {"closed": closed, "count": len(closed)}

    def _balances(self, params: Mapping[str, str]) -> dict[str, Any]:
        return {_REST_ASSETS.get(a, a): {"balance": plain(total), "hold_trade": plain(locked)}
                for a, (total, _, locked) in sorted(self.exchange.balances().items())}

    def rest_order(self, o: EngineOrder) -> dict[str, Any]:
        market = o.order_type is OrderType.MARKET
        avg = o.cum_quote / o.filled_qty if o.filled_qty else Decimal(0)
        closed = o.status not in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED)
        return {
            "refid": None, "userref": 0, "cl_ord_id": o.client_order_id,
            "status": _REST_STATUS[o.status], "opentm": o.created_ts / 1e6,
            **({"closetm": o.updated_ts / 1e6} if closed else {}),
            "starttm": 0, "expiretm": 0,
            "descr": {"pair": ep.rest_pair(o.symbol), "type": _SIDE_NAMES[o.side],
                      "ordertype": "market" if market else "limit",
                      "price": "0" if market else plain(o.price), "price2": "0",
                      "leverage": "none", "close": "",
                      "order": f"{_SIDE_NAMES[o.side]} {plain(o.qty)} {ep.rest_pair(o.symbol)}"},
            "vol": plain(o.qty), "vol_exec": plain(o.filled_qty), "cost": plain(o.cum_quote),
            "fee": "0", "price": plain(avg), "stopprice": "0", "limitprice": "0", "misc": "",
            "oflags": "post" if o.post_only else ""}

    # ------------------------------------------------------------------ order methods

    def _find(self, params: Mapping[str, Any]) -> list[tuple[str, int | None, str | None]]:
        """(symbol, order id, client order id) of each order a request names."""
        ids, cids = params.get("order_id"), params.get("cl_ord_id")
        if ids is None and cids is None:
            raise _arg("order_id or cl_ord_id")
        names = [("o", i) for i in (ids if isinstance(ids, list) else [ids] if ids else [])]
        names += [("c", c) for c in (cids if isinstance(cids, list) else [cids] if cids else [])]
        out = []
        for kind, value in names:
            text = str(value)
            oid = int(text) if kind == "o" and text.isdigit() else None
            cid = text if kind == "c" else None
            if kind == "o" and oid is None:
                raise Refusal(0, REJECTS["UNKNOWN_ORDER"])
            symbol = next((s for s in sorted(self.exchange.instruments) if self.exchange.order(
                s, order_id=oid, client_order_id=cid) is not None), None)
            if symbol is None:
                raise Refusal(0, REJECTS["UNKNOWN_ORDER"])
            out.append((symbol, oid, cid))
        return out

    def _done(self, events: list[EngineEvent]) -> EngineOrder:
        rejected = rejection(events)
        if rejected is not None:
            raise Refusal(0, REJECTS.get(rejected.reason.value, ERR_ARGS))
        state = final_state(events)
        assert state is not None
        return state

    def method(self, name: str, params: Mapping[str, Any]) -> list[dict[str, Any]]:
        """One order method's results (cancel_order: one per order); Refusal on an error."""
        if self.exchange.take_fault(FaultKind.RATE_LIMIT):
            raise Refusal(0, "EOrder:Rate limit exceeded")
        if name == "add_order":
            return [self._add(params)]
        if name == "cancel_all":
            events = self.exchange.cancel_all(None)
            return [{"count": sum(isinstance(e, OrderUpdated) for e in events)}]
        targets = self._find(params)
        if name == "cancel_order":
            out = []
            for symbol, oid, cid in targets:
                o = self._done(self.exchange.cancel(symbol, order_id=oid, client_order_id=cid))
                out.append({"order_id": str(o.order_id), "cl_ord_id": o.client_order_id})
            return out
        if len(targets) != 1:
            raise _arg("amend one order")
        symbol, oid, cid = targets[0]
        o = self._done(self.exchange.amend(
            symbol, order_id=oid, client_order_id=cid,
            new_qty=_number(params.get("order_qty"), "order_qty"),
            new_price=_number(params.get("limit_price"), "limit_price")))
        return [{"amend_id": uuid.uuid4().hex, "order_id": str(o.order_id),
                 "cl_ord_id": o.client_order_id}]

    def _add(self, p: Mapping[str, Any]) -> dict[str, Any]:
        symbol = p.get("symbol")
        if not isinstance(symbol, str) or symbol not in self.exchange.instruments:
            raise Refusal(0, REJECTS["UNKNOWN_SYMBOL"])
        side, kind = _SIDES.get(str(p.get("side"))), p.get("order_type")
        if side is None or kind not in ("limit", "market"):
            raise _arg("side or order_type")
        qty = _number(p.get("order_qty"), "order_qty")
        price = _number(p.get("limit_price"), "limit_price")
        tif = _TIF.get(str(p.get("time_in_force", "gtc")).lower())
        if qty is None or tif is None:
            raise _arg("order_qty or time_in_force")
        if kind == "limit" and price is None:
            raise _arg("limit_price")
        cid = str(p.get("cl_ord_id") or uuid.uuid4().hex)
        if any(self.exchange.order(s, client_order_id=cid) is not None
               for s in self.exchange.instruments):
            raise Refusal(0, REJECTS["DUPLICATE_CLIENT_ORDER_ID"])
        if self.exchange.take_fault(FaultKind.INSUFFICIENT_BALANCE, symbol):
            raise Refusal(0, REJECTS["INSUFFICIENT_BALANCE"])
        o = self._done(self.exchange.submit(OrderRequest(
            symbol=symbol, side=side,
            order_type=OrderType.LIMIT if kind == "limit" else OrderType.MARKET, qty=qty,
            price=price if kind == "limit" else None,
            time_in_force=tif if kind == "limit" else TimeInForce.IOC,
            post_only=p.get("post_only") is True, client_order_id=cid)))
        return {"order_id": str(o.order_id), "cl_ord_id": cid}

    # ------------------------------------------------------------------ pushes

    def report(self, o: EngineOrder, exec_type: str) -> dict[str, Any]:
        """An executions report with the order's whole shape."""
        market = o.order_type is OrderType.MARKET
        avg = o.cum_quote / o.filled_qty if o.filled_qty else None
        out: dict[str, Any] = {
            "order_id": str(o.order_id), "cl_ord_id": o.client_order_id, "order_userref": 0,
            "symbol": o.symbol, "side": _SIDE_NAMES[o.side],
            "order_type": "market" if market else "limit", "order_qty": _n(o.qty),
            "time_in_force": o.time_in_force.value, "post_only": o.post_only,
            "order_status": _STATUS[o.status], "exec_type": exec_type,
            "cum_qty": _n(o.filled_qty), "cum_cost": _n(o.cum_quote),
            "timestamp": _iso(o.updated_ts)}
        if not market:
            out["limit_price"] = _n(o.price)
        if avg is not None:
            out["avg_price"] = avg
        if exec_type == "canceled":
            out["reason"] = "User requested"
        return out

    def trade(self, o: EngineOrder, t: TradeFill) -> dict[str, Any]:
        """A `trade` report: the trade's fields and the order's running totals only."""
        return {
            "order_id": str(o.order_id), "cl_ord_id": o.client_order_id, "order_userref": 0,
            "exec_id": f"T{t.trade_id:06d}-SIM", "exec_type": "trade", "trade_id": t.trade_id,
            "symbol": o.symbol, "side": _SIDE_NAMES[o.side], "last_qty": _n(t.qty),
            "last_price": _n(t.price), "liquidity_ind": "m" if t.is_maker else "t",
            "cost": _n(t.price * t.qty), "order_status": _STATUS[o.status],
            "order_type": "market" if o.order_type is OrderType.MARKET else "limit",
            "cum_qty": _n(o.filled_qty), "cum_cost": _n(o.cum_quote),
            "avg_price": o.cum_quote / o.filled_qty, "timestamp": _iso(t.ts),
            "fee_usd_equiv": _n(t.fee), "fees": [{"asset": t.fee_asset, "qty": _n(t.fee)}]}

    def executions(self, events: list[EngineEvent]) -> list[dict[str, Any]]:
        out = []
        for ev, trade in regroup(events, self.exchange.account).reports:
            o = ev.order  # type: ignore[attr-defined]
            if isinstance(ev, OrderAccepted):
                out.append(self.report(o, "new"))
            elif trade is not None:
                out.append(self.trade(o, trade))
                if o.status is OrderStatus.FILLED:
                    out.append(self.report(o, "filled"))
            elif isinstance(ev, OrderUpdated):
                out.append(self.report(o, _EXEC.get(ev.exec_type, "restated")))
        return out

    def balance_updates(self, events: list[EngineEvent]) -> list[dict[str, Any]]:
        out = []
        for b in regroup(events, self.exchange.account).balances:
            assert isinstance(b, BalanceChanged)
            self.ledger += 1
            out.append({"ledger_id": f"L{self.ledger:06d}-SIM", "ref_id": "", "type": "trade",
                        "subtype": "", "category": "trade", "asset": b.asset,
                        "asset_class": "currency", "wallet_type": "spot", "wallet_id": "main",
                        "amount": 0, "fee": 0, "balance": _n(b.total),
                        "timestamp": _iso()})
        return out

    def balance_snapshot(self) -> list[dict[str, Any]]:
        return [{"asset": a, "asset_class": "currency", "balance": _n(total),
                 "wallets": [{"type": "spot", "id": "main", "balance": _n(total)}]}
                for a, (total, _, _) in sorted(self.exchange.balances().items())]

    # ------------------------------------------------------------------ WebSocket

    async def ws(self, request: web.Request, public: Any) -> web.StreamResponse:
        """A `/v2` connection: the public protocol's methods, and the private ones."""
        conn = _AuthWs(self, public)
        self.exchange.listeners.append(conn.on_events)
        try:
            return await self.sim.run_ws(request, conn)
        finally:
            self.exchange.listeners.remove(conn.on_events)


class _AuthWs:
    def __init__(self, owner: KrakenTrading, public: Any) -> None:
        self.owner = owner
        self.public = public
        self.session: Session | None = None
        self.channels: set[str] = set()
        self.sequence = 0

    def opened(self, session: Session) -> None:
        self.session = session
        self.public.opened(session)

    def renderer(self, session: Session) -> Renderer:
        render: Callable[[Publication, list[str]], list[str | bytes]] = (
            self.public.renderer(session))
        return render

    def _push(self, session: Session, channel: str, kind: str, data: list[Any]) -> None:
        self.sequence += 1
        session.send_text(_encode({"channel": channel, "type": kind, "data": data,
                                   "sequence": self.sequence}).decode())

    def on_events(self, events: list[EngineEvent]) -> None:
        session = self.session
        if session is None or session.closed or not self.channels:
            return
        if ep.EXECUTIONS in self.channels:
            reports = self.owner.executions(events)
            if reports:
                self._push(session, ep.EXECUTIONS, "update", reports)
        if ep.BALANCES in self.channels:
            for update in self.owner.balance_updates(events):
                self._push(session, ep.BALANCES, "update", [update])

    def _answer(self, session: Session, req: Mapping[str, Any], result: Any = None,
                error: str | None = None) -> None:
        now = _iso()
        msg: dict[str, Any] = {"method": req.get("method")}
        msg |= {"result": result if result is not None else {}, "success": True} if (
            error is None) else {"error": error, "success": False}
        msg |= {"time_in": now, "time_out": now}
        if "req_id" in req:
            msg["req_id"] = req["req_id"]
        session.send_text(_encode(msg).decode())

    def on_text(self, session: Session, text: str) -> None:
        try:
            req = _decode(text)
        except msgspec.DecodeError:
            req = None
        params = req.get("params") if isinstance(req, dict) else None
        method = req.get("method") if isinstance(req, dict) else None
        private = method in ORDER_METHODS or (
            method in ("subscribe", "unsubscribe") and isinstance(params, dict)
            and params.get("channel") in PRIVATE_CHANNELS)
        if not private:
            self.public.on_text(session, text)
            return
        assert isinstance(req, dict)
        self.owner.exchange.requests[f"WS {method}"] += 1
        p: dict[str, Any] = params if isinstance(params, dict) else {}
        if p.get("token") not in self.owner.tokens:
            self._answer(session, req, error=ERR_TOKEN)
            return
        if method in ("subscribe", "unsubscribe"):
            self._subscription(session, req, p)
            return
        try:
            results = self.owner.method(str(method), p)
        except Refusal as exc:
            self._answer(session, req, error=exc.message)
            return
        for result in results:
            self._answer(session, req, result)

    def _subscription(self, session: Session, req: Mapping[str, Any],
                      p: Mapping[str, Any]) -> None:
        channel = str(p["channel"])
        result = {k: v for k, v in p.items() if k != "token"}
        if req.get("method") == "unsubscribe":
            self.channels.discard(channel)
            self._answer(session, req, result)
            return
        self.channels.add(channel)
        self._answer(session, req, result)
        if channel == ep.EXECUTIONS and p.get("snap_orders", True) is not False:
            orders = [self.owner.report(o, "new") for o in self.owner.exchange.open_orders()]
            self._push(session, ep.EXECUTIONS, "snapshot", orders)
        elif channel == ep.BALANCES and p.get("snapshot", True) is not False:
            self._push(session, ep.BALANCES, "snapshot", self.owner.balance_snapshot())
