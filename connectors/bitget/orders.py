"""Bitget v2 spot and USDT-M: validated order commands -> REST calls, answers -> results.

Every call is signed by `auth.sign_rest` over exactly what is sent (see `gateway`).

  create      spot POST /api/v2/spot/trade/place-order {symbol, side buy|sell, orderType
              limit|market, force gtc|ioc|fok|post_only, price, size, clientOid};
              USDT-M POST /api/v2/mix/order/place-order {symbol, productType USDT-FUTURES,
              marginMode crossed, marginCoin, size, price, side, orderType, force, clientOid,
              reduceOnly YES|NO} (one-way position mode). Bitget sizes a spot market BUY in the
              quote coin, our quantities are base: such a command is refused before anything is
              sent (send a limit IOC instead); market sells are sized in base.
  amend       spot POST /api/v2/spot/trade/cancel-replace-order {symbol, orderId|clientOid,
              price, size} (Bitget's cancel-replace: the new order keeps the client id);
              USDT-M POST /api/v2/mix/order/modify-order {orderId|clientOid, newPrice, newSize}
  cancel      .../cancel-order {symbol, orderId|clientOid}
  cancel-all  spot POST /api/v2/spot/trade/cancel-symbol-order {symbol} per symbol; USDT-M
              POST /api/v2/mix/order/batch-cancel-orders {symbol} or cancel-all-orders
  query       spot GET /api/v2/spot/trade/orderInfo, USDT-M GET /api/v2/mix/order/detail (by
              clientOid: the exactly-once check); open orders: unfilled-orders / orders-pending;
              account: GET /api/v2/spot/account/assets, /api/v2/mix/account/accounts and
              /api/v2/mix/position/all-position
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ttxt_kafka.events import OrderType, Side, TimeInForce
from ttxt_kafka.orders.errors import ErrorKind, ExchangeFailure
from ttxt_kafka.orders.requests import RestCall
from ttxt_kafka.orders.validation import (
    InvalidCommand,
    ValidAmend,
    ValidCancel,
    ValidCancelAll,
    ValidCreate,
)

from .order_errors import failure

PRODUCT_TYPE = "USDT-FUTURES"
MARGIN_COIN = "USDT"
_SIDES = {Side.BUY: "buy", Side.SELL: "sell"}
_FORCE = {TimeInForce.GTC: "gtc", TimeInForce.IOC: "ioc", TimeInForce.FOK: "fok"}

SPOT = {
    "create": "/api/v2/spot/trade/place-order",
    "amend": "/api/v2/spot/trade/cancel-replace-order",
    "cancel": "/api/v2/spot/trade/cancel-order",
    "cancel_symbol": "/api/v2/spot/trade/cancel-symbol-order",
    "query": "/api/v2/spot/trade/orderInfo",
    "open": "/api/v2/spot/trade/unfilled-orders",
    "assets": "/api/v2/spot/account/assets",
}
MIX = {
    "create": "/api/v2/mix/order/place-order",
    "amend": "/api/v2/mix/order/modify-order",
    "cancel": "/api/v2/mix/order/cancel-order",
    "cancel_symbol": "/api/v2/mix/order/batch-cancel-orders",
    "cancel_all": "/api/v2/mix/order/cancel-all-orders",
    "query": "/api/v2/mix/order/detail",
    "open": "/api/v2/mix/order/orders-pending",
    "accounts": "/api/v2/mix/account/accounts",
    "positions": "/api/v2/mix/position/all-position",
}


def plain(value: Decimal) -> str:
    return format(value, "f")


def _mix(args: dict[str, Any]) -> dict[str, Any]:
    return {**args, "productType": PRODUCT_TYPE, "marginCoin": MARGIN_COIN}


def _ref(args: dict[str, Any], order_id: str | None, client_order_id: str | None) -> None:
    """Bitget takes orderId or clientOid; orderId wins when both are known."""
    if order_id:
        args["orderId"] = order_id
    elif client_order_id:
        args["clientOid"] = client_order_id


def _extras(args: dict[str, Any], extras: Mapping[str, str]) -> None:
    for name, value in extras.items():
        if name in args or name in ("clientOid", "productType"):
            raise InvalidCommand(f"extras may not set {name!r}: the connector sets it")
        args[name] = value


def create_call(order: ValidCreate, spot: bool) -> RestCall:
    if spot and order.order_type is OrderType.MARKET and order.side is Side.BUY:
        raise InvalidCommand("Bitget sizes a spot market buy in the quote coin; ttxt quantities "
                             "are base quantities: send a LIMIT IOC order instead")
    args: dict[str, Any] = {"symbol": order.native_symbol, "side": _SIDES[order.side],
                            "orderType": "market" if order.order_type is OrderType.MARKET
                            else "limit", "size": plain(order.qty)}
    if order.order_type is OrderType.LIMIT:
        assert order.price is not None
        args["price"] = plain(order.price)
        args["force"] = "post_only" if order.post_only else _FORCE[order.time_in_force]
    else:
        args["force"] = _FORCE.get(order.time_in_force, "gtc")
    args["clientOid"] = order.client_order_id
    if not spot:
        args["marginMode"] = "crossed"
        args["reduceOnly"] = "YES" if order.reduce_only else "NO"
        if order.take_profit is not None:
            args["presetStopSurplusPrice"] = plain(order.take_profit)
        if order.stop_loss is not None:
            args["presetStopLossPrice"] = plain(order.stop_loss)
        args = _mix(args)
    elif order.reduce_only or order.take_profit is not None or order.stop_loss is not None:
        raise InvalidCommand("reduce-only, take-profit and stop-loss are derivatives fields")
    _extras(args, order.extras)
    return RestCall("POST", (SPOT if spot else MIX)["create"], body=args)


def amend_call(amend: ValidAmend, spot: bool, current_qty: Decimal | None = None,
               current_price: Decimal | None = None) -> RestCall:
    args: dict[str, Any] = {"symbol": amend.native_symbol}
    _ref(args, amend.order_id, amend.client_order_id)
    qty = amend.new_qty if amend.new_qty is not None else current_qty
    price = amend.new_price if amend.new_price is not None else current_price
    if spot:
        if qty is None or price is None:
            raise InvalidCommand("Bitget's spot cancel-replace needs the order's price and size")
        args["price"], args["size"] = plain(price), plain(qty)
        return RestCall("POST", SPOT["amend"], body=args)
    if amend.new_qty is not None:
        args["newSize"] = plain(amend.new_qty)
    if amend.new_price is not None:
        args["newPrice"] = plain(amend.new_price)
    if amend.new_take_profit is not None:
        args["newPresetStopSurplusPrice"] = plain(amend.new_take_profit)
    if amend.new_stop_loss is not None:
        args["newPresetStopLossPrice"] = plain(amend.new_stop_loss)
    return RestCall("POST", MIX["amend"], body=_mix(args))


def cancel_call(cancel: ValidCancel, spot: bool) -> RestCall:
    args: dict[str, Any] = {"symbol": cancel.native_symbol}
    _ref(args, cancel.order_id, cancel.client_order_id)
    return RestCall("POST", (SPOT if spot else MIX)["cancel"], body=args if spot else _mix(args))


def cancel_all_calls(cancel: ValidCancelAll, spot: bool, open_symbols: list[str]) -> list[RestCall]:
    if spot:
        symbols = [cancel.native_symbol] if cancel.native_symbol else open_symbols
        return [RestCall("POST", SPOT["cancel_symbol"], body={"symbol": s}) for s in symbols]
    if cancel.native_symbol:
        return [RestCall("POST", MIX["cancel_symbol"], body=_mix({"symbol": cancel.native_symbol}))]
    return [RestCall("POST", MIX["cancel_all"], body=_mix({}))]


def query_call(native_symbol: str, spot: bool, *, client_order_id: str | None = None,
               order_id: str | None = None) -> RestCall:
    if not client_order_id and not order_id:
        raise ValueError("query an order by client order id or order id")
    ref = ("orderId", order_id) if order_id else ("clientOid", str(client_order_id))
    if spot:
        return RestCall("GET", SPOT["query"], (ref,))
    return RestCall("GET", MIX["query"], (("symbol", native_symbol),
                                          ("productType", PRODUCT_TYPE), ref))


def open_orders_call(spot: bool) -> RestCall:
    if spot:
        return RestCall("GET", SPOT["open"])
    return RestCall("GET", MIX["open"], (("productType", PRODUCT_TYPE),))


def account_calls(spot: bool) -> list[RestCall]:
    if spot:
        return [RestCall("GET", SPOT["assets"])]
    return [RestCall("GET", MIX["accounts"], (("productType", PRODUCT_TYPE),)),
            RestCall("GET", MIX["positions"], (("productType", PRODUCT_TYPE),
                                                ("marginCoin", MARGIN_COIN)))]


@dataclass(frozen=True, slots=True)
class OrderResult:
    order_id: str | None
    client_order_id: str | None
    exchange_ts: int | None  # microseconds


def parse_response(body: Any, http_status: int = 200) -> OrderResult | ExchangeFailure:
    """`{"code": "00000", "msg": "success", "requestTime": ms, "data": {orderId, clientOid}}`."""
    if not isinstance(body, dict) or "code" not in body:
        kind = (ErrorKind.RATE_LIMIT if http_status == 429 else
                ErrorKind.UNKNOWN_OUTCOME if http_status >= 500 else ErrorKind.OTHER)
        return ExchangeFailure(str(http_status), str(body)[:200], kind, http_status)
    code = str(body["code"])
    if code != "00000":
        return failure(code, str(body.get("msg", "")), http_status)
    data = body.get("data")
    ts = body.get("requestTime")
    order_id = client_id = None
    if isinstance(data, dict):
        order_id = data.get("orderId") or None
        client_id = data.get("clientOid") or None
    return OrderResult(order_id, client_id, int(ts) * 1000 if ts else None)
