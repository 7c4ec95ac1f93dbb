"""KuCoin spot (HF orders): validated order commands -> REST calls, answers -> results.

Every call is signed by `auth.sign_rest` over exactly what is sent (see `gateway`).

  create      POST /api/v1/hf/orders {clientOid, symbol, side buy|sell, type limit|market,
              size, price, timeInForce GTC|IOC|FOK, postOnly} (a market order is sized in base,
              `size`, buy or sell)
  amend       POST /api/v1/hf/orders/alter {symbol, clientOid|orderId, newPrice, newSize}:
              KuCoin's alter is a cancel-replace: the new order gets a new orderId and keeps
              the clientOid; an unchanged field is sent as it is
  cancel      DELETE /api/v1/hf/orders/client-order/{clientOid}?symbol= (or
              /api/v1/hf/orders/{orderId}?symbol=)
  cancel-all  DELETE /api/v1/hf/orders?symbol= per symbol
  query       GET /api/v1/hf/orders/client-order/{clientOid}?symbol= (the exactly-once check;
              or /api/v1/hf/orders/{orderId}?symbol=); open orders: GET
              /api/v1/hf/orders/active/symbols, then /api/v1/hf/orders/active?symbol= each;
              account: GET /api/v1/accounts?type=trade
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from ttxt_kafka.events import OrderType, Side
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

ORDERS = "/api/v1/hf/orders"
ALTER = "/api/v1/hf/orders/alter"
BY_CLIENT = "/api/v1/hf/orders/client-order/"
ACTIVE = "/api/v1/hf/orders/active"
ACTIVE_SYMBOLS = "/api/v1/hf/orders/active/symbols"
ACCOUNTS = "/api/v1/accounts"
_SIDES = {Side.BUY: "buy", Side.SELL: "sell"}


def plain(value: Decimal) -> str:
    return format(value, "f")


def _path_id(value: str) -> str:
    return quote(value, safe="")


def _extras(args: dict[str, Any], extras: Mapping[str, str]) -> None:
    for name, value in extras.items():
        if name in args or name == "clientOid":
            raise InvalidCommand(f"extras may not set {name!r}: the connector sets it")
        args[name] = value


def create_call(order: ValidCreate) -> RestCall:
    if order.reduce_only or order.take_profit is not None or order.stop_loss is not None:
        raise InvalidCommand("reduce-only, take-profit and stop-loss are derivatives fields")
    args: dict[str, Any] = {"clientOid": order.client_order_id, "symbol": order.native_symbol,
                            "side": _SIDES[order.side], "size": plain(order.qty)}
    if order.order_type is OrderType.LIMIT:
        assert order.price is not None
        args |= {"type": "limit", "price": plain(order.price),
                 "timeInForce": order.time_in_force.value}
        if order.post_only:
            args["postOnly"] = True
    else:
        args["type"] = "market"
    _extras(args, order.extras)
    return RestCall("POST", ORDERS, body=args)


def _ref_path(native_symbol: str, client_order_id: str | None, order_id: str | None
              ) -> tuple[str, tuple[tuple[str, str], ...]]:
    """The order's own path (by orderId when known, else by clientOid) and its query."""
    if order_id:
        return f"{ORDERS}/{_path_id(order_id)}", (("symbol", native_symbol),)
    if client_order_id:
        return f"{BY_CLIENT}{_path_id(client_order_id)}", (("symbol", native_symbol),)
    raise ValueError("name the order by client order id or order id")


def amend_call(amend: ValidAmend, current_qty: Decimal | None = None,
               current_price: Decimal | None = None) -> RestCall:
    if amend.new_take_profit is not None or amend.new_stop_loss is not None:
        raise InvalidCommand("take-profit and stop-loss are derivatives fields")
    args: dict[str, Any] = {"symbol": amend.native_symbol}
    if amend.order_id:
        args["orderId"] = amend.order_id
    else:
        args["clientOid"] = amend.client_order_id
    qty = amend.new_qty if amend.new_qty is not None else current_qty
    price = amend.new_price if amend.new_price is not None else current_price
    if qty is not None:
        args["newSize"] = plain(qty)
    if price is not None:
        args["newPrice"] = plain(price)
    return RestCall("POST", ALTER, body=args)


def cancel_call(cancel: ValidCancel) -> RestCall:
    path, params = _ref_path(cancel.native_symbol, cancel.client_order_id, cancel.order_id)
    return RestCall("DELETE", path, params)


def cancel_all_calls(cancel: ValidCancelAll, open_symbols: list[str]) -> list[RestCall]:
    symbols = [cancel.native_symbol] if cancel.native_symbol else open_symbols
    return [RestCall("DELETE", ORDERS, (("symbol", s),)) for s in symbols]


def query_call(native_symbol: str, *, client_order_id: str | None = None,
               order_id: str | None = None) -> RestCall:
    path, params = _ref_path(native_symbol, client_order_id, order_id)
    return RestCall("GET", path, params)


def active_symbols_call() -> RestCall:
    return RestCall("GET", ACTIVE_SYMBOLS)


def active_call(native_symbol: str) -> RestCall:
    return RestCall("GET", ACTIVE, (("symbol", native_symbol),))


def active_symbols(body: Any) -> list[str]:
    """`{"code": "200000", "data": {"symbols": [...]}}` -> the symbols with active orders."""
    return [str(s) for s in (body["data"] or {}).get("symbols") or []]


def account_call() -> RestCall:
    return RestCall("GET", ACCOUNTS, (("type", "trade"),))


@dataclass(frozen=True, slots=True)
class OrderResult:
    order_id: str | None
    client_order_id: str | None


def parse_response(body: Any, http_status: int = 200) -> OrderResult | ExchangeFailure:
    """`{"code": "200000", "data": {"orderId" | "newOrderId", "clientOid"}}`."""
    if not isinstance(body, dict) or "code" not in body:
        kind = (ErrorKind.RATE_LIMIT if http_status == 429 else
                ErrorKind.UNKNOWN_OUTCOME if http_status >= 500 else ErrorKind.OTHER)
        return ExchangeFailure(str(http_status), str(body)[:200], kind, http_status)
    code = str(body["code"])
    if code != "200000":
        return failure(code, str(body.get("msg", "")), http_status)
    data = body.get("data")
    order_id = client_id = None
    if isinstance(data, dict):
        order_id = data.get("newOrderId") or data.get("orderId") or None
        client_id = data.get("clientOid") or None
    return OrderResult(order_id, client_id)
