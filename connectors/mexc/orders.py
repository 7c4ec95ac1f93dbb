"""MEXC spot v3: validated order commands -> REST calls, answers -> results.

Every call is signed by `auth.signed_query` over exactly what is sent (see `gateway`); every
parameter travels in the query string.

  create      POST /api/v3/order {symbol, side BUY|SELL, type, quantity, price,
              newClientOrderId}: type LIMIT (GTC), LIMIT_MAKER (post-only),
              IMMEDIATE_OR_CANCEL / FILL_OR_KILL (limit IOC / FOK: MEXC has no timeInForce
              parameter, the type says it), MARKET (sized in the base asset by `quantity`)
  cancel      DELETE /api/v3/order {symbol, orderId | origClientOrderId}
  amend       MEXC has no amend: the documented cancel-replace is DELETE the order, then POST
              a new one with the same client order id, the new price and the new total minus
              what was filled. Between the two the order is off the book; if the new order is
              refused, the old one stays canceled and the amend reports the refusal.
  cancel-all  DELETE /api/v3/openOrders {symbol} (MEXC wants the symbol: one call per symbol
              with open orders for a venue-wide cancel)
  query       GET /api/v3/order {symbol, origClientOrderId | orderId}: the exactly-once check
  open orders GET /api/v3/openOrders {symbol} per configured symbol; account GET /api/v3/account
  user data   POST /api/v3/userDataStream (a listen key, valid 60 minutes), PUT to keep it
              alive, DELETE to end it
Reduce-only, take-profit and stop-loss are derivatives fields: refused on this spot venue.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ttxt_kafka.events import OrderType, Side, TimeInForce
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

from .order_errors import failure

ORDER = "/api/v3/order"
OPEN_ORDERS = "/api/v3/openOrders"
ACCOUNT = "/api/v3/account"
LISTEN_KEY = "/api/v3/userDataStream"
_SIDES = {Side.BUY: "BUY", Side.SELL: "SELL"}
_LIMIT_TYPES = {TimeInForce.GTC: "LIMIT", TimeInForce.IOC: "IMMEDIATE_OR_CANCEL",
                TimeInForce.FOK: "FILL_OR_KILL"}


def plain(value: Decimal) -> str:
    return format(value, "f")


def _extras(args: dict[str, Any], extras: Mapping[str, str]) -> None:
    for name, value in extras.items():
        if name in args or name in ("newClientOrderId", "signature", "timestamp"):
            raise InvalidCommand(f"extras may not set {name!r}: the connector sets it")
        args[name] = value


def order_type(kind: OrderType, time_in_force: TimeInForce, post_only: bool) -> str:
    if kind is OrderType.MARKET:
        return "MARKET"
    return "LIMIT_MAKER" if post_only else _LIMIT_TYPES[time_in_force]


def create_call(order: ValidCreate, qty: Decimal | None = None) -> RestCall:
    """POST /api/v3/order; `qty` overrides the order's quantity (the cancel-replace's rest)."""
    if order.reduce_only or order.take_profit is not None or order.stop_loss is not None:
        raise InvalidCommand("reduce-only, take-profit and stop-loss are derivatives fields")
    args: dict[str, Any] = {
        "symbol": order.native_symbol, "side": _SIDES[order.side],
        "type": order_type(order.order_type, order.time_in_force, order.post_only),
        "quantity": plain(order.qty if qty is None else qty)}
    if order.order_type is OrderType.LIMIT:
        assert order.price is not None
        args["price"] = plain(order.price)
    args["newClientOrderId"] = order.client_order_id
    _extras(args, order.extras)
    return RestCall("POST", ORDER, tuple(args.items()))


def _ref(native_symbol: str, order_id: str | None, client_order_id: str | None
         ) -> tuple[tuple[str, str], ...]:
    """MEXC takes orderId or origClientOrderId; orderId wins when both are known."""
    if order_id:
        return (("symbol", native_symbol), ("orderId", order_id))
    if client_order_id:
        return (("symbol", native_symbol), ("origClientOrderId", client_order_id))
    raise ValueError("name an order by client order id or order id")


def cancel_call(cancel: ValidCancel) -> RestCall:
    return RestCall("DELETE", ORDER, _ref(cancel.native_symbol, cancel.order_id,
                                          cancel.client_order_id))


def replacement(amend: ValidAmend, current: KnownOrder) -> ValidCreate:
    """The order the cancel-replace places: the current one with the new price and quantity
    (the new total; what was filled is not placed again)."""
    if amend.new_take_profit is not None or amend.new_stop_loss is not None:
        raise InvalidCommand("take-profit and stop-loss are derivatives fields")
    if current.order_type is not OrderType.LIMIT:
        raise InvalidCommand("only a resting LIMIT order can be amended")
    total = amend.new_qty if amend.new_qty is not None else current.qty
    rest = total - current.filled_qty
    if rest <= 0:
        raise InvalidCommand(f"the new quantity {total} is not above the filled "
                             f"{current.filled_qty}")
    return ValidCreate(
        venue=amend.venue, symbol=amend.symbol, native_symbol=amend.native_symbol,
        command_id=amend.command_id, client_order_id=current.client_order_id,
        side=current.side, order_type=OrderType.LIMIT, time_in_force=current.time_in_force,
        post_only=current.post_only, qty=rest,
        price=amend.new_price if amend.new_price is not None else current.price)


def cancel_all_calls(cancel: ValidCancelAll, open_symbols: list[str]) -> list[RestCall]:
    symbols = [cancel.native_symbol] if cancel.native_symbol else open_symbols
    return [RestCall("DELETE", OPEN_ORDERS, (("symbol", s),)) for s in symbols]


def query_call(native_symbol: str, *, client_order_id: str | None = None,
               order_id: str | None = None) -> RestCall:
    return RestCall("GET", ORDER, _ref(native_symbol, order_id, client_order_id))


def open_orders_call(native_symbol: str) -> RestCall:
    return RestCall("GET", OPEN_ORDERS, (("symbol", native_symbol),))


def account_call() -> RestCall:
    return RestCall("GET", ACCOUNT)


def listen_key_call(action: str, key: str = "") -> RestCall:
    method = {"create": "POST", "keepalive": "PUT", "close": "DELETE"}[action]
    return RestCall(method, LISTEN_KEY, (("listenKey", key),) if key else ())


@dataclass(frozen=True, slots=True)
class OrderResult:
    order_id: str | None
    client_order_id: str | None
    exchange_ts: int | None  # microseconds


def parse_response(body: Any) -> OrderResult | ExchangeFailure:
    """An order answer: `{"symbol", "orderId", "price", "origQty", "type", "side",
    "transactTime"}` (create) or the order (cancel); an error `{"code", "msg"}`."""
    if not isinstance(body, dict):
        return ExchangeFailure("0", str(body)[:200], ErrorKind.OTHER, None)
    if "orderId" not in body:
        return failure(str(body.get("code", "0")), str(body.get("msg", "")))
    ts = body.get("transactTime") or body.get("updateTime")
    return OrderResult(str(body["orderId"]), body.get("clientOrderId") or None,
                       int(ts) * 1000 if ts else None)
