"""Gate.io v4 spot: validated order commands -> signed REST calls, answers -> results.

Every call is signed by `auth.sign_rest` over exactly what is sent (see `gateway`).

  create      POST /api/v4/spot/orders {text, currency_pair, type limit|market, account spot,
              side buy|sell, amount, price, time_in_force gtc|ioc|fok|poc}: post-only is
              `poc` (pending-or-cancelled); a market order is `ioc` (or `fok`), Gate takes no
              GTC market order. Gate sizes a spot market BUY in the quote currency and our
              quantities are base: such a command is refused before anything is sent (send a
              limit IOC instead), as for Bitget; market sells are sized in base.
  amend       PATCH /api/v4/spot/orders/{id}?currency_pair= {amount?, price?}: Gate amends in
              place (same order id and text; a price change or a larger amount loses priority)
  cancel      DELETE /api/v4/spot/orders/{id}?currency_pair=
  cancel-all  DELETE /api/v4/spot/orders?currency_pair=&account=spot, one call per symbol
  query       GET /api/v4/spot/orders/{id}?currency_pair=; `{id}` is the order id or the
              client id (`text`). Gate finds an order by text only while it is open and for
              60 s after it ends (its docs), so a miss is checked against the pair's recent finished
              orders (GET /api/v4/spot/orders?currency_pair=&status=finished&limit=100) before
              the executor may send again (the exactly-once rule)
  open orders GET /api/v4/spot/open_orders; account GET /api/v4/spot/accounts
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

ORDERS = "/api/v4/spot/orders"
OPEN_ORDERS = "/api/v4/spot/open_orders"
ACCOUNTS = "/api/v4/spot/accounts"
FINISHED_LIMIT = "100"
_SIDES = {Side.BUY: "buy", Side.SELL: "sell"}
_TIF = {TimeInForce.GTC: "gtc", TimeInForce.IOC: "ioc", TimeInForce.FOK: "fok"}


def plain(value: Decimal) -> str:
    return format(value, "f")


def order_path(ref: str) -> str:
    return f"{ORDERS}/{ref}"


def _ref(order_id: str | None, client_order_id: str | None) -> str:
    """Gate takes the order id or the text in the path; the order id wins when known."""
    ref = order_id or client_order_id
    if not ref:
        raise InvalidCommand("an order id or client order id is needed")
    return ref


def _extras(args: dict[str, Any], extras: Mapping[str, str]) -> None:
    for name, value in extras.items():
        if name in args or name in ("text", "account"):
            raise InvalidCommand(f"extras may not set {name!r}: the connector sets it")
        args[name] = value


def create_call(order: ValidCreate) -> RestCall:
    if order.reduce_only or order.take_profit is not None or order.stop_loss is not None:
        raise InvalidCommand("reduce-only, take-profit and stop-loss are derivatives fields")
    market = order.order_type is OrderType.MARKET
    if market and order.side is Side.BUY:
        raise InvalidCommand("Gate.io sizes a spot market buy in the quote currency; ttxt "
                             "quantities are base quantities: send a LIMIT IOC order instead")
    args: dict[str, Any] = {"text": order.client_order_id, "currency_pair": order.native_symbol,
                            "type": "market" if market else "limit", "account": "spot",
                            "side": _SIDES[order.side], "amount": plain(order.qty)}
    if market:
        args["time_in_force"] = "fok" if order.time_in_force is TimeInForce.FOK else "ioc"
    else:
        assert order.price is not None
        args["price"] = plain(order.price)
        args["time_in_force"] = "poc" if order.post_only else _TIF[order.time_in_force]
    _extras(args, order.extras)
    return RestCall("POST", ORDERS, body=args)


def amend_call(amend: ValidAmend) -> RestCall:
    if amend.new_take_profit is not None or amend.new_stop_loss is not None:
        raise InvalidCommand("take-profit and stop-loss are derivatives fields")
    body: dict[str, Any] = {}
    if amend.new_qty is not None:
        body["amount"] = plain(amend.new_qty)
    if amend.new_price is not None:
        body["price"] = plain(amend.new_price)
    if not body:
        raise InvalidCommand("an amendment needs a new price or quantity")
    return RestCall("PATCH", order_path(_ref(amend.order_id, amend.client_order_id)),
                    (("currency_pair", amend.native_symbol),), body=body)


def cancel_call(cancel: ValidCancel) -> RestCall:
    return RestCall("DELETE", order_path(_ref(cancel.order_id, cancel.client_order_id)),
                    (("currency_pair", cancel.native_symbol),))


def cancel_all_calls(cancel: ValidCancelAll, open_symbols: list[str]) -> list[RestCall]:
    symbols = [cancel.native_symbol] if cancel.native_symbol else open_symbols
    return [RestCall("DELETE", ORDERS, (("currency_pair", s), ("account", "spot")))
            for s in symbols]


def query_call(native_symbol: str, *, client_order_id: str | None = None,
               order_id: str | None = None) -> RestCall:
    if not client_order_id and not order_id:
        raise ValueError("query an order by client order id or order id")
    return RestCall("GET", order_path(_ref(order_id, client_order_id)),
                    (("currency_pair", native_symbol),))


def finished_call(native_symbol: str) -> RestCall:
    return RestCall("GET", ORDERS, (("currency_pair", native_symbol), ("status", "finished"),
                                    ("limit", FINISHED_LIMIT)))


def open_orders_call() -> RestCall:
    return RestCall("GET", OPEN_ORDERS)


def account_call() -> RestCall:
    return RestCall("GET", ACCOUNTS)


@dataclass(frozen=True, slots=True)
class OrderResult:
    order_id: str | None
    client_order_id: str | None
    exchange_ts: int | None  # microseconds


def parse_response(body: Any) -> OrderResult | ExchangeFailure:
    """A successful order call answers the order object: `{"id", "text", "update_time_ms",
    ...}` (errors come as HTTP errors with a label, see `gateway`)."""
    if not isinstance(body, dict) or "id" not in body:
        return ExchangeFailure("UNEXPECTED", str(body)[:200], ErrorKind.UNKNOWN_OUTCOME, None)
    ts = body.get("update_time_ms") or body.get("create_time_ms")
    return OrderResult(str(body["id"]), body.get("text") or None,
                       int(Decimal(str(ts)) * 1000) if ts else None)
