"""Gate.io v4 spot private side (the simulator's venue): signed REST order endpoints and the
private channels, over the simulator's matching engine.

  REST  POST /api/v4/spot/orders (201 + the order), GET /api/v4/spot/orders?currency_pair=
        &status=open|finished, DELETE /api/v4/spot/orders?currency_pair= (cancel the pair's
        orders), GET | DELETE | PATCH /api/v4/spot/orders/{order_id or text}?currency_pair=,
        GET /api/v4/spot/open_orders, GET /api/v4/spot/accounts; verified as Gate does
        (`auth.verify_rest`: KEY, 60 s Timestamp window, hex HMAC-SHA512 of the signature
        string over the path, query and body as received): HTTP 401 with its label. Errors are
        `{"label", "message"}`; a rate-limit fault is HTTP 429 TOO_MANY_REQUESTS.
  WS    the public endpoint `/ws/v4/` (its connection hands private channels here):
        spot.orders, spot.usertrades (payload ["!all"] or pairs), spot.balances, each subscribe
        checked by `auth.verify_ws`; engine events pushed as Gate shapes them.

As on Gate, an order is found by its text (`t-...` in the path) while it is open and for
`text_window` seconds after it ended (60: Gate's docs), then by its id only.
Simplification, said here: a text already used by another order is refused, as the engine
refuses duplicate client ids (Gate does not promise unique texts).
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from aiohttp import web

from ttxt_kafka.connectors.gateio import auth
from ttxt_kafka.connectors.gateio import orders as rq
from ttxt_kafka.connectors.gateio.normalizer_private import BALANCES, ORDERS, TRADES
from ttxt_kafka.connectors.gateio.order_errors import REJECTS
from ttxt_kafka.credentials import AuthError
from ttxt_kafka.events import OrderStatus, OrderType, Side, TimeInForce
from ttxt_kafka.matching import EngineEvent, OrderRequest, TradeFill
from ttxt_kafka.matching import OrderState as EngineOrder
from ttxt_kafka.simulator.faults import FaultKind
from ttxt_kafka.simulator.session import Session
from ttxt_kafka.simulator.synthetic import now_ms
from ttxt_kafka.simulator.trading.exchange import SimExchange, final_state, rejection
from ttxt_kafka.simulator.trading.params import Refusal, decimal
from ttxt_kafka.simulator.trading.render import ms, plain, regroup
from ttxt_kafka.simulator.trading.rest import private_call

if TYPE_CHECKING:
    from ttxt_kafka.simulator.server import Simulator

_JSON = "application/json"
_SIDES = {"buy": Side.BUY, "sell": Side.SELL}
_TIF = {"gtc": TimeInForce.GTC, "ioc": TimeInForce.IOC, "fok": TimeInForce.FOK,
        "poc": TimeInForce.GTC}
PRIVATE_CHANNELS = (ORDERS, TRADES, BALANCES)
USER_ID = 10_000_001


class GateRefusal(Refusal):
    """A refusal with Gate's label (its errors carry labels, not numeric codes)."""

    def __init__(self, label: str, message: str, status: int = 400) -> None:
        super().__init__(status, message, status)
        self.label = label


def _param(msg: str) -> GateRefusal:
    return GateRefusal("INVALID_PARAM_VALUE", msg)


def _status(o: EngineOrder) -> str:
    if o.status in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED):
        return "open"
    return "closed" if o.status is OrderStatus.FILLED else "cancelled"


def _finish_as(o: EngineOrder) -> str:
    if o.status in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED):
        return "open"
    if o.status is OrderStatus.FILLED:
        return "filled"
    if o.status is OrderStatus.EXPIRED:
        return "fok" if o.time_in_force is TimeInForce.FOK else "ioc"
    return "cancelled"


class GateTrading:
    def __init__(self, sim: Simulator, exchange: SimExchange) -> None:
        self.sim = sim
        self.exchange = exchange
        self.fees: dict[int, tuple[Decimal, str]] = {}  # order id -> (fee so far, asset)
        self.subscribers: dict[int, tuple[Session, set[str]]] = {}  # session id -> channels
        self.text_window = 60.0  # s after an order ends during which its text still finds it
        exchange.listeners.append(self._on_events)

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_post(rq.ORDERS, self._rest(self._create))
        router.add_get(rq.ORDERS, self._rest(self._list))
        router.add_delete(rq.ORDERS, self._rest(self._cancel_all))
        one = rq.ORDERS + "/{ref}"
        router.add_get(one, self._rest(self._query))
        router.add_delete(one, self._rest(self._cancel))
        router.add_patch(one, self._rest(self._amend))
        router.add_get(rq.OPEN_ORDERS, self._rest(self._open))
        router.add_get(rq.ACCOUNTS, self._rest(self._accounts))

    # ------------------------------------------------------------------ REST

    def _rest(self, handler: Callable[[Mapping[str, Any], dict[str, str], str], Any]
              ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def serve(request: web.Request) -> web.Response:
            query, body = await private_call(self.sim, self.exchange, request)
            try:
                if self.exchange.take_fault(FaultKind.BAD_SIGNATURE):
                    raise auth.GateAuthError(auth.INVALID_SIGNATURE)
                auth.verify_rest(self.exchange.credentials, dict(request.headers),
                                 request.method, request.path, query, body,
                                 now_s=now_ms() // 1000)
            except auth.GateAuthError as exc:
                return self._error(exc.label, exc.message, 401)
            if self.exchange.take_fault(FaultKind.RATE_LIMIT):
                return self._error("TOO_MANY_REQUESTS", "Request Rate limit Exceeded", 429)
            try:
                args: Any = json.loads(body) if body else {}
                if not isinstance(args, dict):
                    raise _param("the body must be a JSON object")
                params = dict(parse_qsl(query, keep_blank_values=True))
                result = handler(args, params, request.match_info.get("ref", ""))
            except ValueError:
                return self._error("INVALID_PARAM_VALUE", "invalid JSON body")
            except GateRefusal as exc:
                return self._error(exc.label, exc.message, exc.status)
            return web.Response(text=json.dumps(result, separators=(",", ":")),
                                content_type=_JSON, status=201 if request.method == "POST"
                                else 200)

        return serve

    @staticmethod
    def _error(label: str, message: str, status: int = 400) -> web.Response:
        return web.Response(text=json.dumps({"label": label, "message": message}),
                            content_type=_JSON, status=status)

    def _refusal(self, reason: str, message: str = "") -> GateRefusal:
        label, msg = REJECTS.get(reason, ("INVALID_PARAM_VALUE", message))
        return GateRefusal(label, msg)

    def _answer(self, events: list[EngineEvent]) -> dict[str, Any]:
        rejected = rejection(events)
        if rejected is not None:
            raise self._refusal(rejected.reason.value, rejected.message)
        state = final_state(events)
        assert state is not None
        return self.order(state)

    def _pair(self, value: Any) -> str:
        if not isinstance(value, str) or not value:
            raise GateRefusal("MISSING_REQUIRED_PARAM", "Missing required parameter: "
                              "currency_pair")
        if value not in self.exchange.instruments:
            raise GateRefusal("INVALID_CURRENCY_PAIR", f"Invalid currency pair {value}")
        return value

    def _find(self, pair: str, ref: str) -> EngineOrder:
        if ref.isdigit():
            found = self.exchange.order(pair, order_id=int(ref))
        elif ref.startswith("t-"):
            found = self.exchange.order(pair, client_order_id=ref)
            if found is not None and _status(found) != "open" and (
                    time.time_ns() // 1000 - found.updated_ts > self.text_window * 1e6):
                found = None  # ended too long ago: Gate knows it by its id only
        else:
            found = None
        if found is None:
            raise self._refusal("UNKNOWN_ORDER")
        return found

    def _create(self, args: Mapping[str, Any], params: dict[str, str], ref: str
                ) -> dict[str, Any]:
        pair = self._pair(args.get("currency_pair"))
        side = _SIDES.get(str(args.get("side")))
        kind = args.get("type", "limit")
        if side is None or kind not in ("limit", "market"):
            raise _param("side or type")
        if args.get("account", "spot") != "spot":
            raise _param("account: the simulator trades the spot account only")
        qty = decimal(_text(args.get("amount")), _param("amount"))
        price = decimal(_text(args.get("price")), _param("price"))
        tif = str(args.get("time_in_force", "gtc"))
        if tif not in _TIF or qty is None:
            raise _param("time_in_force or amount")
        if kind == "market":
            if tif not in ("ioc", "fok"):
                raise _param("a market order's time_in_force is ioc or fok")
            if side is Side.BUY:
                raise _param("the simulator does not size spot market buys in the quote "
                             "currency")
            price = None
        elif price is None:
            raise _param("price is required for a limit order")
        text = _text(args.get("text")) or "apiv4"
        if text != "apiv4" and (not text.startswith("t-") or len(text) > 30):
            raise _param("text: t- followed by at most 28 characters")
        if text.startswith("t-") and self.exchange.order(pair, client_order_id=text):
            raise self._refusal("DUPLICATE_CLIENT_ORDER_ID")
        if self.exchange.take_fault(FaultKind.INSUFFICIENT_BALANCE, pair):
            raise self._refusal("INSUFFICIENT_BALANCE")
        request = OrderRequest(
            symbol=pair, side=side, order_type=OrderType.LIMIT if kind == "limit"
            else OrderType.MARKET, qty=qty, price=price, time_in_force=_TIF[tif],
            post_only=tif == "poc", client_order_id=text if text.startswith("t-") else "")
        return self._answer(self.exchange.submit(request))

    def _query(self, args: Mapping[str, Any], params: dict[str, str], ref: str
               ) -> dict[str, Any]:
        return self.order(self._find(self._pair(params.get("currency_pair")), ref))

    def _cancel(self, args: Mapping[str, Any], params: dict[str, str], ref: str
                ) -> dict[str, Any]:
        found = self._find(self._pair(params.get("currency_pair")), ref)
        return self._answer(self.exchange.cancel(found.symbol, order_id=found.order_id))

    def _amend(self, args: Mapping[str, Any], params: dict[str, str], ref: str
               ) -> dict[str, Any]:
        found = self._find(self._pair(params.get("currency_pair") or args.get("currency_pair")),
                           ref)
        qty = decimal(_text(args.get("amount")), _param("amount"))
        price = decimal(_text(args.get("price")), _param("price"))
        if qty is None and price is None:
            raise _param("amount or price is required")
        return self._answer(self.exchange.amend(found.symbol, order_id=found.order_id,
                                                new_qty=qty, new_price=price))

    def _cancel_all(self, args: Mapping[str, Any], params: dict[str, str], ref: str
                    ) -> list[dict[str, Any]]:
        pair = self._pair(params.get("currency_pair"))
        events = self.exchange.cancel_all(pair)
        done = {}
        for ev in events:
            state = getattr(ev, "order", None)
            if isinstance(state, EngineOrder):
                done[state.order_id] = state
        return [self.order(o) for o in done.values()]

    def _list(self, args: Mapping[str, Any], params: dict[str, str], ref: str
              ) -> list[dict[str, Any]]:
        pair = self._pair(params.get("currency_pair"))
        status = params.get("status", "open")
        if status == "open":
            return [self.order(o) for o in self.exchange.open_orders(pair)]
        if status != "finished":
            raise _param("status: open or finished")
        limit = int(params.get("limit", "100") or 100)
        every = [o.snapshot() for o in self.exchange.engine._orders.values()]  # noqa: SLF001
        ended = [o for o in every if o.account == self.exchange.account and o.symbol == pair
                 and _status(o) != "open"]
        return [self.order(o) for o in sorted(ended, key=lambda o: -o.updated_ts)[:limit]]

    def _open(self, args: Mapping[str, Any], params: dict[str, str], ref: str
              ) -> list[dict[str, Any]]:
        by_pair: dict[str, list[dict[str, Any]]] = {}
        for o in self.exchange.open_orders():
            by_pair.setdefault(o.symbol, []).append(self.order(o))
        return [{"currency_pair": p, "total": len(items), "orders": items}
                for p, items in sorted(by_pair.items())]

    def _accounts(self, args: Mapping[str, Any], params: dict[str, str], ref: str
                  ) -> list[dict[str, Any]]:
        return [{"currency": a, "available": plain(avail), "locked": plain(locked),
                 "update_id": 1} for a, (_, avail, locked) in sorted(
                     self.exchange.balances().items())]

    # ------------------------------------------------------------------ shapes

    def order(self, o: EngineOrder, event: str | None = None) -> dict[str, Any]:
        fee, fee_asset = self.fees.get(o.order_id, (Decimal(0), ""))
        base, _, quote = o.symbol.partition("_")
        avg = o.cum_quote / o.filled_qty if o.filled_qty else None
        market = o.order_type is OrderType.MARKET
        item: dict[str, Any] = {
            "id": str(o.order_id), "text": o.client_order_id or "apiv4", "amend_text": "-",
            "create_time": str(o.created_ts // 1_000_000),
            "update_time": str(o.updated_ts // 1_000_000),
            "create_time_ms": ms(o.created_ts), "update_time_ms": ms(o.updated_ts),
            "status": _status(o), "currency_pair": o.symbol,
            "type": "market" if market else "limit", "account": "spot",
            "side": "buy" if o.side is Side.BUY else "sell", "amount": plain(o.qty),
            "price": "0" if market else plain(o.price),
            "time_in_force": "poc" if o.post_only else o.time_in_force.value.lower(),
            "iceberg": "0", "left": plain(o.qty - o.filled_qty),
            "filled_amount": plain(o.filled_qty), "filled_total": plain(o.cum_quote),
            "avg_deal_price": plain(avg) if avg else "0", "fee": plain(fee),
            "fee_currency": fee_asset or (base if o.side is Side.BUY else quote),
            "point_fee": "0", "gt_fee": "0", "gt_discount": False, "rebated_fee": "0",
            "rebated_fee_currency": quote, "finish_as": _finish_as(o),
        }
        if event is not None:  # the WS push: strings for the times, the change's kind
            item |= {"event": event, "user": USER_ID, "create_time_ms": str(item[
                "create_time_ms"]), "update_time_ms": str(item["update_time_ms"])}
        return item

    def trade(self, t: TradeFill, text: str) -> dict[str, Any]:
        return {"id": t.trade_id, "user_id": USER_ID, "order_id": str(t.order_id),
                "currency_pair": t.symbol, "create_time": t.ts // 1_000_000,
                "create_time_ms": f"{t.ts // 1000}.{t.ts % 1000:03d}",
                "side": "buy" if t.side is Side.BUY else "sell", "amount": plain(t.qty),
                "role": "maker" if t.is_maker else "taker", "price": plain(t.price),
                "fee": plain(t.fee), "fee_currency": t.fee_asset, "point_fee": "0",
                "gt_fee": "0", "text": text, "id_market": t.trade_id}

    def pushes(self, events: list[EngineEvent]) -> list[tuple[str, dict[str, Any]]]:
        batch = regroup(events, self.exchange.account)
        ts = ms(events[-1].ts) if events else now_ms()
        out = []

        def push(channel: str, result: list[dict[str, Any]]) -> None:
            out.append((channel, {"time": ts // 1000, "time_ms": ts, "channel": channel,
                                  "event": "update", "result": result}))

        if batch.reports:
            items = []
            for ev, trade in batch.reports:
                o: EngineOrder = ev.order  # type: ignore[attr-defined]
                kind = "finish" if _status(o) != "open" else (
                    "update" if trade is not None or o.filled_qty else "put")
                items.append(self.order(o, kind))
            push(ORDERS, items)
        if batch.fills:
            texts = {ev.order.order_id: ev.order.client_order_id  # type: ignore[attr-defined]
                     for ev, _ in batch.reports}
            push(TRADES, [self.trade(t, texts.get(t.order_id) or "apiv4")
                          for t in batch.fills])
        if batch.balances:
            push(BALANCES, [{"timestamp": str(ts // 1000), "timestamp_ms": str(ts),
                             "user": str(USER_ID), "currency": b.asset, "change": "0",
                             "total": plain(b.total), "available": plain(b.available),
                             "freeze": plain(b.locked), "freeze_change": "0",
                             "change_type": "order"} for b in batch.balances])
        return out

    # ------------------------------------------------------------------ WebSocket

    def _on_events(self, events: list[EngineEvent]) -> None:
        for t in events:
            if isinstance(t, TradeFill) and t.account == self.exchange.account:
                fee, _ = self.fees.get(t.order_id, (Decimal(0), ""))
                self.fees[t.order_id] = (fee + t.fee, t.fee_asset)
        if not self.subscribers:
            return
        pushes = self.pushes(events)
        for sid, (session, channels) in list(self.subscribers.items()):
            if session.closed:
                del self.subscribers[sid]
                continue
            for channel, message in pushes:
                if channel in channels:
                    session.send_json(message)

    def on_private(self, session: Session, req: dict[str, Any]) -> None:
        """A spot.orders / spot.usertrades / spot.balances request on a `/ws/v4/` socket."""
        channel, event = str(req.get("channel")), str(req.get("event"))
        self.exchange.requests[f"WS {channel} {event}"] += 1
        error: dict[str, Any] | None = None
        try:
            if self.exchange.take_fault(FaultKind.BAD_SIGNATURE):
                raise AuthError(auth.WS_AUTH_FAILED, "signature mismatch")
            auth.verify_ws(self.exchange.credentials, req, now_s=now_ms() // 1000)
        except AuthError as exc:
            error = {"code": exc.code, "message": exc.message}
        if error is None and event not in ("subscribe", "unsubscribe"):
            error = {"code": 1, "message": "invalid request body"}
        if error is None:
            _, channels = self.subscribers.setdefault(session.id, (session, set()))
            if event == "subscribe":
                channels.add(channel)
            else:
                channels.discard(channel)
        t = now_ms()
        session.send_json({"time": t // 1000, "time_ms": t, "channel": channel, "event": event,
                           "payload": req.get("payload"), "error": error,
                           "result": {"status": "fail" if error else "success"}})


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        return "invalid"
    return str(value)
