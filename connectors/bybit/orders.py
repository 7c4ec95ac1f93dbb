"""Bybit v5 spot and linear: validated order commands -> trade-API requests, answers -> acks.

The same argument objects go over the WebSocket trade API (`order.create`, `order.amend`,
`order.cancel`: `ws_message`) or REST (`POST /v5/order/create|amend|cancel`: `rest_call`, with
`ttxt_kafka.connectors.bybit.auth.sign_rest` over the JSON body as sent):

  create      category, symbol, side Buy/Sell, orderType Limit/Market, qty (a spot market order
              is sized in the base coin: marketUnit baseCoin), price and timeInForce
              (GTC/IOC/FOK, PostOnly) for limits, orderLinkId, reduceOnly, takeProfit/stopLoss
  amend       orderId/orderLinkId with qty (the new total), price, takeProfit, stopLoss
  cancel      orderId/orderLinkId
  cancel-all  POST /v5/order/cancel-all: spot per category (or symbol); linear needs a symbol,
              base or settle coin, so a venue-wide cancel is one request per settle coin
  query       GET /v5/order/realtime by orderLinkId (open and recent closed orders: the
              exactly-once check); open orders; GET /v5/account/wallet-balance;
              GET /v5/position/list
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from ttxt_kafka.events import Event, OrderAck, OrderType, Side
from ttxt_kafka.orders.acks import accepted_ack, rejected_ack
from ttxt_kafka.orders.errors import ErrorKind, ExchangeFailure
from ttxt_kafka.orders.requests import RestCall, WsCall
from ttxt_kafka.orders.validation import (
    InvalidCommand,
    ValidAmend,
    ValidCancel,
    ValidCancelAll,
    ValidCreate,
)

from .auth import DEFAULT_RECV_WINDOW_MS, trade_header
from .order_errors import failure

Category = Literal["spot", "linear"]
VENUE_CATEGORIES: dict[str, Category] = {"bybit_spot": "spot", "bybit_linear": "linear"}
OP_PATHS = {"order.create": "/v5/order/create", "order.amend": "/v5/order/amend",
            "order.cancel": "/v5/order/cancel"}
CANCEL_ALL = "/v5/order/cancel-all"
REALTIME = "/v5/order/realtime"
WALLET_BALANCE = "/v5/account/wallet-balance"
POSITIONS = "/v5/position/list"
SETTLE_COINS = ("USDT", "USDC")
_SIDES = {Side.BUY: "Buy", Side.SELL: "Sell"}


def category_of(venue: str) -> Category:
    try:
        return VENUE_CATEGORIES[venue]
    except KeyError:
        raise ValueError(f"{venue!r} is not a Bybit venue (bybit_spot, bybit_linear)") from None


def plain(value: Decimal) -> str:
    return format(value, "f")


def _extras(args: dict[str, Any], extras: Mapping[str, str]) -> None:
    for name, value in extras.items():
        if name in args or name in ("category", "orderLinkId"):
            raise InvalidCommand(f"extras may not set {name!r}: the connector sets it")
        args[name] = value


def _ref(args: dict[str, Any], order_id: str | None, client_order_id: str | None) -> None:
    """Bybit takes orderId or orderLinkId; orderId wins when both are known."""
    if order_id:
        args["orderId"] = order_id
    elif client_order_id:
        args["orderLinkId"] = client_order_id


# ====================================================================== commands -> arguments


def create_args(order: ValidCreate, category: Category) -> dict[str, Any]:
    args: dict[str, Any] = {
        "category": category, "symbol": order.native_symbol, "side": _SIDES[order.side],
        "orderType": "Market" if order.order_type is OrderType.MARKET else "Limit",
        "qty": plain(order.qty),
    }
    if order.order_type is OrderType.LIMIT:
        assert order.price is not None
        args["price"] = plain(order.price)
        args["timeInForce"] = "PostOnly" if order.post_only else order.time_in_force.value
    elif category == "spot":
        args["marketUnit"] = "baseCoin"  # our quantities are base quantities
    args["orderLinkId"] = order.client_order_id
    if order.reduce_only:
        args["reduceOnly"] = True
    if order.take_profit is not None:
        args["takeProfit"] = plain(order.take_profit)
    if order.stop_loss is not None:
        args["stopLoss"] = plain(order.stop_loss)
    _extras(args, order.extras)
    return args


def amend_args(amend: ValidAmend, category: Category) -> dict[str, Any]:
    args: dict[str, Any] = {"category": category, "symbol": amend.native_symbol}
    _ref(args, amend.order_id, amend.client_order_id)
    for name, value in (("qty", amend.new_qty), ("price", amend.new_price),
                        ("takeProfit", amend.new_take_profit),
                        ("stopLoss", amend.new_stop_loss)):
        if value is not None:
            args[name] = plain(value)
    return args


def cancel_args(cancel: ValidCancel, category: Category) -> dict[str, Any]:
    args: dict[str, Any] = {"category": category, "symbol": cancel.native_symbol}
    _ref(args, cancel.order_id, cancel.client_order_id)
    return args


def cancel_all_args(cancel: ValidCancelAll, category: Category,
                    settle_coins: Iterable[str] = SETTLE_COINS) -> list[dict[str, Any]]:
    if cancel.native_symbol:
        return [{"category": category, "symbol": cancel.native_symbol}]
    if category == "spot":
        return [{"category": "spot"}]
    return [{"category": category, "settleCoin": coin} for coin in settle_coins]


# ====================================================================== transport


def req_id_for(command_id: str) -> str:
    """A trade-API reqId (echoed in the answer) for a command: itself if short, else a hash."""
    if 0 < len(command_id) <= 36 and command_id.isascii():
        return command_id
    return hashlib.sha256(command_id.encode()).hexdigest()[:36]


def ws_call(op: str, args: dict[str, Any], command_id: str) -> WsCall:
    if op not in OP_PATHS:
        raise ValueError(f"unknown trade op {op!r}")
    return WsCall(op, args, req_id_for(command_id))


def ws_message(call: WsCall, *, timestamp_ms: int,
               recv_window_ms: int = DEFAULT_RECV_WINDOW_MS) -> dict[str, Any]:
    """The frame to send on the authenticated trade WebSocket."""
    return {"reqId": call.req_id, "header": trade_header(timestamp_ms, recv_window_ms),
            "op": call.op, "args": [call.args]}


def rest_call(op: str, args: dict[str, Any]) -> RestCall:
    return RestCall("POST", OP_PATHS[op], body=args)


def cancel_all_calls(cancel: ValidCancelAll, category: Category,
                     settle_coins: Iterable[str] = SETTLE_COINS) -> list[RestCall]:
    return [RestCall("POST", CANCEL_ALL, body=args)
            for args in cancel_all_args(cancel, category, settle_coins)]


def query_order(category: Category, *, client_order_id: str | None = None,
                order_id: str | None = None, native_symbol: str | None = None) -> RestCall:
    """Is this order known (open or recently closed)? The exactly-once check before a resend."""
    if not client_order_id and not order_id:
        raise ValueError("query an order by client order id or order id")
    params: list[tuple[str, str]] = [("category", category)]
    if native_symbol:
        params.append(("symbol", native_symbol))
    params.append(("orderId", order_id) if order_id else ("orderLinkId", str(client_order_id)))
    params.append(("openOnly", "0"))
    return RestCall("GET", REALTIME, tuple(params))


def open_orders(category: Category, native_symbol: str | None = None,
                settle_coin: str = "USDT") -> RestCall:
    params: list[tuple[str, str]] = [("category", category)]
    if native_symbol:
        params.append(("symbol", native_symbol))
    elif category == "linear":
        params.append(("settleCoin", settle_coin))
    params += [("openOnly", "0"), ("limit", "50")]
    return RestCall("GET", REALTIME, tuple(params))


def wallet_balance(account_type: str = "UNIFIED") -> RestCall:
    return RestCall("GET", WALLET_BALANCE, (("accountType", account_type),))


def positions(native_symbol: str | None = None, settle_coin: str = "USDT") -> RestCall:
    params: list[tuple[str, str]] = [("category", "linear")]
    params.append(("symbol", native_symbol) if native_symbol else ("settleCoin", settle_coin))
    return RestCall("GET", POSITIONS, tuple(params))


# ====================================================================== answers -> acks


@dataclass(frozen=True, slots=True)
class OrderResult:
    order_id: str | None
    client_order_id: str | None
    exchange_ts: int | None  # microseconds


def parse_response(body: Any, http_status: int = 200) -> OrderResult | ExchangeFailure:
    """A REST (`retCode`, `result`, `time`) or trade-WS (`retCode`, `data`, `header`) answer."""
    if not isinstance(body, dict) or "retCode" not in body:
        kind = (ErrorKind.RATE_LIMIT if http_status in (403, 429) else
                ErrorKind.UNKNOWN_OUTCOME if http_status >= 500 else ErrorKind.OTHER)
        return ExchangeFailure(str(http_status), str(body)[:200], kind, http_status)
    code = int(body["retCode"])
    if code != 0:
        return failure(code, str(body.get("retMsg", "")), http_status)
    result = body.get("result") if "result" in body else body.get("data")
    header = body.get("header") or {}
    ts = body.get("time") or header.get("Timenow")
    order_id = link_id = None
    if isinstance(result, dict):
        order_id = result.get("orderId") or None
        link_id = result.get("orderLinkId") or None
    return OrderResult(order_id, link_id, int(ts) * 1000 if ts else None)


def ack_for(command: Event, body: Any, *, now_us: int, http_status: int = 200,
            client_order_id: str | None = None) -> OrderAck:
    result = parse_response(body, http_status)
    if isinstance(result, ExchangeFailure):
        return rejected_ack(command, result.message or f"HTTP {http_status}", now_us=now_us,
                            error_code=result.code, client_order_id=client_order_id)
    return accepted_ack(command, now_us=now_us, exchange_ts=result.exchange_ts,
                        client_order_id=client_order_id or result.client_order_id,
                        order_id=result.order_id)
