"""Kraken spot WS v2 order methods: validated commands -> requests, answers -> results.

Requests go over the authenticated WS (`wss://ws-auth.kraken.com/v2`), each with the session
`token` and an integer `req_id` its answer repeats:

  add_order     {order_type limit|market, side buy|sell, symbol "BTC/USD", order_qty,
                limit_price (limit), time_in_force gtc|ioc|fok (limit; a market order is
                immediate by nature), post_only (limit), cl_ord_id}
  cancel_order  {order_id: [...]} or {cl_ord_id: [...]} (lists: a symbol's cancel-all is one
                cancel_order of that symbol's open orders: Kraken's cancel_all takes no symbol)
  amend_order   {order_id | cl_ord_id, order_qty (the new total), limit_price}: Kraken amends
                in place (the order keeps its id; priority kept when only the size shrinks)
  cancel_all    {} (every open order of the account)
Answers: `{"method", "req_id", "success": true, "result": {"order_id", "cl_ord_id"?}, "time_in",
"time_out"}` or `{"success": false, "error": "EOrder:Insufficient funds", ...}`.

Kraken takes quantities and prices as JSON numbers: each is written from the Decimal's exact
text with the pair's precision (lot_decimals, pair_decimals; msgspec's decimal_format="number"
writes the digits as they are), never through a float. Reduce-only, take-profit and stop-loss
are refused here (spot).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import msgspec

from ttxt_kafka.events import OrderType, Side, TimeInForce
from ttxt_kafka.orders.errors import ExchangeFailure
from ttxt_kafka.orders.validation import InvalidCommand, ValidAmend, ValidCancel, ValidCreate

from .normalizer_spot import rfc3339_us
from .order_errors import failure

ADD = "add_order"
CANCEL = "cancel_order"
AMEND = "amend_order"
CANCEL_ALL = "cancel_all"
_SIDES = {Side.BUY: "buy", Side.SELL: "sell"}
_TIF = {TimeInForce.GTC: "gtc", TimeInForce.IOC: "ioc", TimeInForce.FOK: "fok"}
_encode = msgspec.json.Encoder(decimal_format="number").encode

Places = tuple[int, int]  # (price decimals, quantity decimals)


def number(value: Decimal, places: int, what: str) -> Decimal:
    """`value` with exactly `places` decimals (the pair's precision); more digits: refused."""
    written = value.quantize(Decimal(1).scaleb(-places))
    if written != value:
        raise InvalidCommand(f"{what} {value} has more than the pair's {places} decimals")
    return written


def request(method: str, params: Mapping[str, Any], req_id: int, token: str) -> bytes:
    """One private WS request, as sent (numbers as JSON numbers)."""
    return _encode({"method": method, "params": {**params, "token": token}, "req_id": req_id})


def create_params(order: ValidCreate, places: Places) -> dict[str, Any]:
    if order.reduce_only or order.take_profit is not None or order.stop_loss is not None:
        raise InvalidCommand("reduce-only, take-profit and stop-loss are derivatives fields")
    pp, qp = places
    params: dict[str, Any] = {
        "order_type": "market" if order.order_type is OrderType.MARKET else "limit",
        "side": _SIDES[order.side], "symbol": order.native_symbol,
        "order_qty": number(order.qty, qp, "quantity")}
    if order.order_type is OrderType.LIMIT:
        assert order.price is not None
        params["limit_price"] = number(order.price, pp, "price")
        params["time_in_force"] = _TIF[order.time_in_force]
        if order.post_only:
            params["post_only"] = True
    if order.client_order_id:
        params["cl_ord_id"] = order.client_order_id
    for name, value in order.extras.items():
        if name in params or name in ("token", "cl_ord_id"):
            raise InvalidCommand(f"extras may not set {name!r}: the connector sets it")
        params[name] = value
    return params


def _ref(cancel: ValidCancel, many: bool) -> dict[str, Any]:
    """Kraken takes order_id or cl_ord_id; the order id wins when both are known."""
    name, value = (("order_id", cancel.order_id) if cancel.order_id
                   else ("cl_ord_id", cancel.client_order_id))
    return {name: [value] if many else value}


def cancel_params(cancel: ValidCancel) -> dict[str, Any]:
    return _ref(cancel, many=True)


def cancel_ids_params(order_ids: list[str]) -> dict[str, Any]:
    return {"order_id": order_ids}


def amend_params(amend: ValidAmend, places: Places) -> dict[str, Any]:
    if amend.new_take_profit is not None or amend.new_stop_loss is not None:
        raise InvalidCommand("take-profit and stop-loss are derivatives fields")
    pp, qp = places
    params = _ref(amend, many=False)
    if amend.new_qty is not None:
        params["order_qty"] = number(amend.new_qty, qp, "quantity")
    if amend.new_price is not None:
        params["limit_price"] = number(amend.new_price, pp, "price")
    return params


@dataclass(frozen=True, slots=True)
class OrderResult:
    order_id: str | None
    client_order_id: str | None
    exchange_ts: int | None  # microseconds


def parse_answer(msg: Mapping[str, Any]) -> OrderResult | ExchangeFailure:
    if msg.get("success") is not True:
        return failure(str(msg.get("error") or "EGeneral:Unknown error"))
    result = msg.get("result") or {}
    if not isinstance(result, Mapping):
        result = {}
    stamp = msg.get("time_out") or msg.get("time_in")
    order_id = result.get("order_id")
    return OrderResult(str(order_id) if order_id else None, result.get("cl_ord_id") or None,
                       rfc3339_us(stamp) if isinstance(stamp, str) and len(stamp) >= 19
                       else None)
