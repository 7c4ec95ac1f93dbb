"""Binance spot and USD-M: validated order commands -> REST requests, responses -> acks.

Requests are `RestCall`s, unsigned (`ttxt_kafka.connectors.binance.auth.sign_rest` signs them when
sent):

  create      spot POST /api/v3/order: LIMIT (+timeInForce), LIMIT_MAKER for post-only, MARKET;
              USD-M POST /fapi/v1/order: LIMIT with timeInForce GTX for post-only,
              reduceOnly. newClientOrderId always set, newOrderRespType RESULT.
  cancel      DELETE /api/v3/order | /fapi/v1/order (orderId and/or origClientOrderId)
  amend       spot has no in-place amend of price: a quantity decrease at the same price uses
              PUT /api/v3/order/amend/keepPriority (keeps the queue position); anything else
              POST /api/v3/order/cancelReplace (STOP_ON_FAILURE; the new order keeps the client
              order id and gets quantity = new total - filled). USD-M: PUT /fapi/v1/order
              (side, quantity and price all required). Both need the order's known state.
  cancel-all  DELETE /api/v3/openOrders | /fapi/v1/allOpenOrders: a symbol is required, so a
              venue-wide cancel becomes one request per symbol with open orders.
  query       GET /api/v3/order | /fapi/v1/order by origClientOrderId (exactly-once check)
  open orders GET /api/v3/openOrders | /fapi/v1/openOrders; account GET /api/v3/account |
              /fapi/v3/account; positions GET /fapi/v3/positionRisk.
  user data   USD-M listen key POST/PUT/DELETE /fapi/v1/listenKey (API key only); spot via the
              WebSocket API `userDataStream.subscribe.signature` (the listen-key REST endpoints of
              spot are deprecated).
Take-profit / stop-loss are refused: Binance has no TP/SL on a plain order (they are separate
conditional orders, not placed atomically with it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from ttxt_kafka.credentials import Credentials
from ttxt_kafka.events import Event, OrderAck, OrderType
from ttxt_kafka.orders.acks import accepted_ack, rejected_ack
from ttxt_kafka.orders.errors import ErrorKind, ExchangeFailure
from ttxt_kafka.orders.requests import RestCall
from ttxt_kafka.orders.state import KnownOrder
from ttxt_kafka.orders.validation import (
    InvalidCommand,
    ValidAmend,
    ValidCancel,
    ValidCancelAll,
    ValidCreate,
)

from .auth import sign_ws_params
from .order_errors import failure

Market = Literal["spot", "usdm"]
VENUE_MARKETS: dict[str, Market] = {"binance": "spot", "binance_usdm": "usdm"}


@dataclass(frozen=True, slots=True)
class Paths:
    order: str
    open_orders: str
    cancel_all: str
    account: str


PATHS: dict[Market, Paths] = {
    "spot": Paths("/api/v3/order", "/api/v3/openOrders", "/api/v3/openOrders", "/api/v3/account"),
    "usdm": Paths("/fapi/v1/order", "/fapi/v1/openOrders", "/fapi/v1/allOpenOrders",
                  "/fapi/v3/account"),
}
CANCEL_REPLACE = "/api/v3/order/cancelReplace"
AMEND_KEEP_PRIORITY = "/api/v3/order/amend/keepPriority"
POSITIONS = "/fapi/v3/positionRisk"
LISTEN_KEY = "/fapi/v1/listenKey"


def market_of(venue: str) -> Market:
    try:
        return VENUE_MARKETS[venue]
    except KeyError:
        raise ValueError(f"{venue!r} is not a Binance venue (binance, binance_usdm)") from None


def plain(value: Decimal) -> str:
    return format(value, "f")


def _extras(params: list[tuple[str, str]], extras: Mapping[str, str]) -> None:
    taken = {name for name, _ in params}
    for name, value in extras.items():
        if name in taken or name in ("timestamp", "signature", "recvWindow"):
            raise InvalidCommand(f"extras may not set {name!r}: the connector sets it")
        params.append((name, value))


def _order_ref(params: list[tuple[str, str]], order_id: str | None, client_order_id: str | None,
               names: tuple[str, str] = ("orderId", "origClientOrderId")) -> None:
    """orderId and/or origClientOrderId (Binance uses orderId when both are sent)."""
    if order_id:
        params.append((names[0], order_id))
    if client_order_id:
        params.append((names[1], client_order_id))


# ====================================================================== commands -> requests


def new_order(order: ValidCreate, market: Market) -> RestCall:
    if order.take_profit is not None or order.stop_loss is not None:
        raise InvalidCommand(f"take-profit/stop-loss is not supported on binance {market}: "
                             "place them as separate conditional orders")
    params: list[tuple[str, str]] = [("symbol", order.native_symbol), ("side", order.side.value)]
    if order.order_type is OrderType.MARKET:
        params += [("type", "MARKET"), ("quantity", plain(order.qty))]
    else:
        assert order.price is not None
        if order.post_only and market == "spot":
            params.append(("type", "LIMIT_MAKER"))
        else:
            tif = "GTX" if order.post_only else order.time_in_force.value
            params += [("type", "LIMIT"), ("timeInForce", tif)]
        params += [("quantity", plain(order.qty)), ("price", plain(order.price))]
    if order.reduce_only:
        params.append(("reduceOnly", "true"))
    params += [("newClientOrderId", order.client_order_id), ("newOrderRespType", "RESULT")]
    _extras(params, order.extras)
    return RestCall("POST", PATHS[market].order, tuple(params))


def cancel_order(cancel: ValidCancel, market: Market) -> RestCall:
    params = [("symbol", cancel.native_symbol)]
    _order_ref(params, cancel.order_id, cancel.client_order_id)
    return RestCall("DELETE", PATHS[market].order, tuple(params))


def amend_order(amend: ValidAmend, market: Market, current: KnownOrder | None) -> RestCall:
    if amend.new_take_profit is not None or amend.new_stop_loss is not None:
        raise InvalidCommand(f"take-profit/stop-loss is not supported on binance {market}")
    if current is None:
        ref = amend.client_order_id or amend.order_id
        raise InvalidCommand(f"cannot amend order {ref} on binance {market}: its side, price and "
                             "quantity are not known to the connector")
    if current.order_type is not OrderType.LIMIT or current.price is None:
        raise InvalidCommand("only LIMIT orders can be amended")
    qty = amend.new_qty if amend.new_qty is not None else current.qty
    price = amend.new_price if amend.new_price is not None else current.price
    order_id = amend.order_id or current.order_id
    cid = amend.client_order_id or current.client_order_id
    params: list[tuple[str, str]] = [("symbol", amend.native_symbol)]
    if market == "usdm":
        _order_ref(params, order_id, None if order_id else cid)
        params += [("side", current.side.value), ("quantity", plain(qty)),
                   ("price", plain(price))]
        return RestCall("PUT", PATHS[market].order, tuple(params))
    if price == current.price and qty < current.qty:
        _order_ref(params, order_id, None if order_id else cid)
        params += [("newQty", plain(qty)), ("newClientOrderId", current.client_order_id)]
        return RestCall("PUT", AMEND_KEEP_PRIORITY, tuple(params), weight=4)
    remaining = qty - current.filled_qty
    params += [("side", current.side.value)]
    if current.post_only:
        params.append(("type", "LIMIT_MAKER"))
    else:
        params += [("type", "LIMIT"), ("timeInForce", current.time_in_force.value)]
    params += [("cancelReplaceMode", "STOP_ON_FAILURE"), ("quantity", plain(remaining)),
               ("price", plain(price))]
    _order_ref(params, order_id, cid, ("cancelOrderId", "cancelOrigClientOrderId"))
    params += [("newClientOrderId", current.client_order_id), ("newOrderRespType", "RESULT")]
    return RestCall("POST", CANCEL_REPLACE, tuple(params))


def cancel_all(cancel: ValidCancelAll, market: Market,
               open_symbols: Iterable[str] = ()) -> list[RestCall]:
    """One request per native symbol: the command's, or every symbol with open orders."""
    natives = [cancel.native_symbol] if cancel.native_symbol else sorted(set(open_symbols))
    return [RestCall("DELETE", PATHS[market].cancel_all, (("symbol", native),))
            for native in natives]


def query_order(native_symbol: str, market: Market, *, client_order_id: str | None = None,
                order_id: str | None = None) -> RestCall:
    """Does this order exist (any status)? The exactly-once check before a resend."""
    if not client_order_id and not order_id:
        raise ValueError("query an order by client order id or order id")
    params = [("symbol", native_symbol)]
    _order_ref(params, order_id, client_order_id)
    return RestCall("GET", PATHS[market].order, tuple(params), weight=4 if market == "spot"
                    else 1)


def open_orders(market: Market, native_symbol: str | None = None) -> RestCall:
    params = (("symbol", native_symbol),) if native_symbol else ()
    weight = (6 if native_symbol else 80) if market == "spot" else (1 if native_symbol else 40)
    return RestCall("GET", PATHS[market].open_orders, params, weight=weight)


def account(market: Market) -> RestCall:
    params = (("omitZeroBalances", "true"),) if market == "spot" else ()
    return RestCall("GET", PATHS[market].account, params, weight=20 if market == "spot" else 5)


def positions() -> RestCall:
    return RestCall("GET", POSITIONS, (), weight=5)


def listen_key(action: Literal["create", "keepalive", "close"]) -> RestCall:
    """USD-M user data stream key (API key header, no signature)."""
    method = {"create": "POST", "keepalive": "PUT", "close": "DELETE"}[action]
    return RestCall(method, LISTEN_KEY, (), signed=False)


def user_data_subscribe(credentials: Credentials, *, timestamp_ms: int,
                        request_id: str) -> dict[str, Any]:
    """Spot user data over the WebSocket API (frames arrive as {"subscriptionId", "event"})."""
    return {"id": request_id, "method": "userDataStream.subscribe.signature",
            "params": sign_ws_params(credentials, {}, timestamp_ms=timestamp_ms)}


# ====================================================================== responses -> acks


@dataclass(frozen=True, slots=True)
class OrderResult:
    order_id: str | None
    client_order_id: str | None
    status: str | None
    exchange_ts: int | None  # microseconds


def parse_response(http_status: int, body: Any) -> OrderResult | ExchangeFailure:
    """A trading endpoint's answer: the order it concerns, or the exchange's refusal."""
    if isinstance(body, dict) and isinstance(body.get("code"), int) and body["code"] < 0:
        data = body.get("data")
        if isinstance(data, dict):  # cancelReplace: the half that failed says why
            for part in ("cancelResponse", "newOrderResponse"):
                inner = data.get(part)
                if isinstance(inner, dict) and isinstance(inner.get("code"), int):
                    return failure(inner["code"], str(inner.get("msg", "")), http_status)
        return failure(body["code"], str(body.get("msg", "")), http_status)
    if http_status >= 400 or body is None:
        text = str(body)[:200] if body is not None else ""
        kind = (ErrorKind.RATE_LIMIT if http_status in (418, 429) else
                ErrorKind.UNKNOWN_OUTCOME if http_status >= 500 else ErrorKind.OTHER)
        return ExchangeFailure(str(http_status), text, kind, http_status)
    if isinstance(body, dict):
        order = body.get("newOrderResponse") or body.get("amendedOrder") or body
        if isinstance(order, dict):
            ts = order.get("transactTime") or order.get("updateTime") or order.get("time")
            oid = order.get("orderId")
            return OrderResult(
                order_id=str(oid) if oid is not None else None,
                client_order_id=order.get("origClientOrderId") or order.get("clientOrderId"),
                status=order.get("status"),
                exchange_ts=int(ts) * 1000 if ts else None)
    return OrderResult(None, None, None, None)  # e.g. cancel-all: a list, or {"code": 200}


def ack_for(command: Event, http_status: int, body: Any, *, now_us: int,
            client_order_id: str | None = None) -> OrderAck:
    """The ack of a command from its request's answer (rejected acks carry code and message)."""
    result = parse_response(http_status, body)
    if isinstance(result, ExchangeFailure):
        return rejected_ack(command, result.message or f"HTTP {http_status}", now_us=now_us,
                            error_code=result.code, client_order_id=client_order_id)
    return accepted_ack(command, now_us=now_us, exchange_ts=result.exchange_ts,
                        client_order_id=client_order_id or result.client_order_id,
                        order_id=result.order_id)
