"""Coinbase Advanced Trade spot: validated order commands -> REST calls, answers -> results.

Every request carries its own JWT (`auth.Signer`, `uri` = the request's method, host and path).

  create      POST /api/v3/brokerage/orders {client_order_id, product_id, side BUY|SELL,
              order_configuration}: market -> `market_market_ioc {base_size}`; limit GTC ->
              `limit_limit_gtc {base_size, limit_price, post_only}`; limit IOC ->
              `sor_limit_ioc {base_size, limit_price}`; limit FOK -> `limit_limit_fok
              {base_size, limit_price}`. Post-only exists on GTC only.
  cancel      POST /api/v3/brokerage/orders/batch_cancel {order_ids: [...]} (Coinbase cancels by
              order id only: an order known by its client id alone is looked up first)
  amend       POST /api/v3/brokerage/orders/edit {order_id, price, size}: Coinbase edits limit
              GTC orders, the only orders that rest (market, IOC and FOK orders never do), so
              every amend is an edit; both fields are sent, the unchanged one as it is.
  cancel-all  the open orders (GET /api/v3/brokerage/orders/historical/batch?order_status=OPEN,
              per product or all), then batch_cancel of their ids, 100 a request
  query       GET /api/v3/brokerage/orders/historical/{order_id}; by client order id (the
              exactly-once check) the product's recent orders are listed and searched
  account     GET /api/v3/brokerage/accounts -> Wallet (available + hold)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ttxt_kafka.events import OrderType, Side, TimeInForce
from ttxt_kafka.orders.errors import ExchangeFailure
from ttxt_kafka.orders.requests import RestCall
from ttxt_kafka.orders.validation import InvalidCommand, ValidCancelAll, ValidCreate

from .order_errors import failure

BROKERAGE = "/api/v3/brokerage"
CREATE = f"{BROKERAGE}/orders"
BATCH_CANCEL = f"{BROKERAGE}/orders/batch_cancel"
EDIT = f"{BROKERAGE}/orders/edit"
HISTORICAL = f"{BROKERAGE}/orders/historical"
LIST = f"{BROKERAGE}/orders/historical/batch"
ACCOUNTS = f"{BROKERAGE}/accounts"
CANCEL_BATCH = 100  # order ids per batch_cancel request
LIST_PAGES = 5  # pages of recent orders searched for a client order id (100 orders a page)

_SIDES = {Side.BUY: "BUY", Side.SELL: "SELL"}


def plain(value: Decimal) -> str:
    return format(value, "f")


def configuration(order: ValidCreate) -> dict[str, Any]:
    size = plain(order.qty)
    if order.order_type is OrderType.MARKET:
        if order.post_only:
            raise InvalidCommand("post-only is for limit orders")
        return {"market_market_ioc": {"base_size": size}}
    assert order.price is not None
    price = plain(order.price)
    tif = order.time_in_force
    if order.post_only and tif is not TimeInForce.GTC:
        raise InvalidCommand("Coinbase has post-only on GTC limit orders only")
    if tif is TimeInForce.GTC:
        return {"limit_limit_gtc": {"base_size": size, "limit_price": price,
                                    "post_only": order.post_only}}
    if tif is TimeInForce.IOC:
        return {"sor_limit_ioc": {"base_size": size, "limit_price": price}}
    return {"limit_limit_fok": {"base_size": size, "limit_price": price}}


def create_call(order: ValidCreate) -> RestCall:
    if order.reduce_only or order.take_profit is not None or order.stop_loss is not None:
        raise InvalidCommand("reduce-only, take-profit and stop-loss are derivatives fields")
    body: dict[str, Any] = {"client_order_id": order.client_order_id,
                            "product_id": order.native_symbol, "side": _SIDES[order.side],
                            "order_configuration": configuration(order)}
    _extras(body, order.extras)
    return RestCall("POST", CREATE, body=body)


def _extras(body: dict[str, Any], extras: Mapping[str, str]) -> None:
    for name, value in extras.items():
        if name in body:
            raise InvalidCommand(f"extras may not set {name!r}: the connector sets it")
        body[name] = value  # e.g. retail_portfolio_id, self_trade_prevention_id


def cancel_calls(order_ids: list[str]) -> list[RestCall]:
    return [RestCall("POST", BATCH_CANCEL, body={"order_ids": order_ids[i:i + CANCEL_BATCH]})
            for i in range(0, len(order_ids), CANCEL_BATCH)]


def edit_call(order_id: str, price: Decimal, size: Decimal) -> RestCall:
    return RestCall("POST", EDIT, body={"order_id": order_id, "price": plain(price),
                                        "size": plain(size)})


def get_call(order_id: str) -> RestCall:
    return RestCall("GET", f"{HISTORICAL}/{order_id}")


def list_call(native_symbol: str = "", *, open_only: bool = False, cursor: str = "") -> RestCall:
    params: list[tuple[str, str]] = []
    if native_symbol:
        params.append(("product_ids", native_symbol))
    if open_only:
        params.append(("order_status", "OPEN"))
    params.append(("limit", "100"))
    if cursor:
        params.append(("cursor", cursor))
    return RestCall("GET", LIST, tuple(params))


def cancel_all_scope(cancel: ValidCancelAll) -> str:
    return cancel.native_symbol


def accounts_call(cursor: str = "") -> RestCall:
    params = (("limit", "250"),) + ((("cursor", cursor),) if cursor else ())
    return RestCall("GET", ACCOUNTS, params)


@dataclass(frozen=True, slots=True)
class OrderResult:
    order_id: str | None
    client_order_id: str | None


def parse_create(body: Any) -> OrderResult | ExchangeFailure:
    """`{"success": true, "success_response": {order_id, product_id, side, client_order_id}}`
    or `{"success": false, "failure_reason", "error_response": {error, message, ...}}`."""
    if not isinstance(body, dict):
        return failure("UNKNOWN", str(body)[:200])
    if body.get("success"):
        ok = body.get("success_response") or {}
        return OrderResult(ok.get("order_id") or body.get("order_id") or None,
                           ok.get("client_order_id") or None)
    err = body.get("error_response") or {}
    code = (err.get("error") or err.get("new_order_failure_reason")
            or err.get("preview_failure_reason") or body.get("failure_reason") or "UNKNOWN")
    return failure(str(code), str(err.get("message") or err.get("error_details") or ""))


def parse_cancel(body: Any) -> list[ExchangeFailure | str]:
    """Each result: the canceled order id, or why it was not canceled."""
    out: list[ExchangeFailure | str] = []
    for item in (body or {}).get("results") or []:
        if item.get("success"):
            out.append(str(item.get("order_id")))
        else:
            out.append(failure(str(item.get("failure_reason") or "UNKNOWN_CANCEL_FAILURE"),
                               f"order {item.get('order_id')} not canceled"))
    return out


def parse_edit(body: Any) -> ExchangeFailure | None:
    if isinstance(body, dict) and body.get("success"):
        return None
    errors = (body or {}).get("errors") or [{}] if isinstance(body, dict) else [{}]
    first = errors[0] if errors else {}
    code = first.get("edit_failure_reason") or first.get("preview_failure_reason") or "UNKNOWN"
    return failure(str(code), "edit refused")
