"""OKX v5 spot and swaps: validated order commands -> REST calls, answers -> results.

Orders go over signed REST (`/api/v5/trade/*`), not the WebSocket `order` ops: the exactly-once
rule asks the exchange by client order id before a resend, which is a REST query anyway, and a
REST call's answer belongs to its request with no session state (login, id correlation) to lose
on a reconnect. Every call is signed by `auth.sign_rest` over exactly what is sent.

  create      POST /api/v5/trade/order {instId, tdMode cash (spot) | cross (swap), side
              buy|sell, ordType market|limit|post_only|ioc|fok, sz, px, clOrdId, reduceOnly
              (swap)}; spot market orders say `tgtCcy: base_ccy` (OKX sizes a spot market buy in
              the quote coin unless told). Swap `sz` is in contracts: the command's base
              quantity / `ctVal`, refused unless it is a whole number of lots (`lotSz` x
              `ctVal`); inverse swaps (contracts worth USD) are refused.
  amend       POST /api/v5/trade/amend-order {instId, ordId|clOrdId, newSz, newPx} (in place:
              OKX amends the order, same ordId)
  cancel      POST /api/v5/trade/cancel-order {instId, ordId|clOrdId}
  cancel-all  the open orders (GET /api/v5/trade/orders-pending), cancelled 20 at a time by
              POST /api/v5/trade/cancel-batch-orders [{instId, ordId}, ...]
  query       GET /api/v5/trade/order?instId&clOrdId|ordId (the exactly-once check);
              account: GET /api/v5/account/balance, /api/v5/account/positions?instType=SWAP
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ttxt_kafka.events import InstrumentInfo, MarketType, OrderType, Side, TimeInForce
from ttxt_kafka.orders.errors import ErrorKind, ExchangeFailure
from ttxt_kafka.orders.requests import RestCall
from ttxt_kafka.orders.validation import (
    InvalidCommand,
    ValidAmend,
    ValidCancel,
    ValidCreate,
)

from .order_errors import failure

PATHS = {
    "create": "/api/v5/trade/order",
    "amend": "/api/v5/trade/amend-order",
    "cancel": "/api/v5/trade/cancel-order",
    "cancel_batch": "/api/v5/trade/cancel-batch-orders",
    "query": "/api/v5/trade/order",
    "open": "/api/v5/trade/orders-pending",
    "balance": "/api/v5/account/balance",
    "positions": "/api/v5/account/positions",
}
BATCH = 20  # orders per cancel-batch-orders request
_SIDES = {Side.BUY: "buy", Side.SELL: "sell"}
_ORD_TYPES = {TimeInForce.GTC: "limit", TimeInForce.IOC: "ioc", TimeInForce.FOK: "fok"}


def plain(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"


def contracts(qty: Decimal, info: InstrumentInfo | None) -> Decimal:
    """A base quantity in the instrument's contracts (spot: the quantity itself)."""
    if info is None or not info.contract_size:
        return qty
    if info.market_type is MarketType.INVERSE:
        raise InvalidCommand(f"{info.native_symbol} is an inverse swap (contracts worth "
                             f"{info.contract_size} USD); ttxt quantities are base quantities")
    lot = Decimal(info.lot_size)
    if qty % lot:
        raise InvalidCommand(f"quantity {plain(qty)} is not a whole number of "
                             f"{info.native_symbol} lots of {info.lot_size} (contracts of "
                             f"{info.contract_size})")
    return qty / Decimal(info.contract_size)


def _ref(args: dict[str, Any], order_id: str | None, client_order_id: str | None) -> None:
    """OKX takes ordId or clOrdId; ordId wins when both are known."""
    if order_id:
        args["ordId"] = order_id
    elif client_order_id:
        args["clOrdId"] = client_order_id


def _extras(args: dict[str, Any], extras: Mapping[str, str]) -> None:
    for name, value in extras.items():
        if name in args or name in ("clOrdId", "tdMode"):
            raise InvalidCommand(f"extras may not set {name!r}: the connector sets it")
        args[name] = value


def create_call(order: ValidCreate, info: InstrumentInfo | None) -> RestCall:
    spot = info is None or not info.contract_size
    args: dict[str, Any] = {"instId": order.native_symbol, "tdMode": "cash" if spot else "cross",
                            "side": _SIDES[order.side]}
    if order.order_type is OrderType.MARKET:
        args["ordType"] = "market"
        if spot:
            args["tgtCcy"] = "base_ccy"  # sz in the base coin, for buys too
    else:
        assert order.price is not None
        args["ordType"] = "post_only" if order.post_only else _ORD_TYPES[order.time_in_force]
        args["px"] = plain(order.price)
    args["sz"] = plain(contracts(order.qty, info))
    args["clOrdId"] = order.client_order_id
    if not spot:
        args["reduceOnly"] = order.reduce_only
    elif order.reduce_only:
        raise InvalidCommand("reduce-only is a derivatives field")
    if order.take_profit is not None or order.stop_loss is not None:
        raise InvalidCommand("take-profit and stop-loss are not sent with OKX orders here")
    _extras(args, order.extras)
    return RestCall("POST", PATHS["create"], body=args)


def amend_call(amend: ValidAmend, info: InstrumentInfo | None) -> RestCall:
    args: dict[str, Any] = {"instId": amend.native_symbol}
    _ref(args, amend.order_id, amend.client_order_id)
    if amend.new_qty is not None:
        args["newSz"] = plain(contracts(amend.new_qty, info))
    if amend.new_price is not None:
        args["newPx"] = plain(amend.new_price)
    if amend.new_take_profit is not None or amend.new_stop_loss is not None:
        raise InvalidCommand("take-profit and stop-loss are not amended on OKX orders here")
    return RestCall("POST", PATHS["amend"], body=args)


def cancel_call(cancel: ValidCancel) -> RestCall:
    args: dict[str, Any] = {"instId": cancel.native_symbol}
    _ref(args, cancel.order_id, cancel.client_order_id)
    return RestCall("POST", PATHS["cancel"], body=args)


def cancel_batch_calls(orders: list[tuple[str, str]]) -> list[RestCall]:
    """(instId, ordId) pairs, cancelled 20 per request."""
    items = [{"instId": inst, "ordId": oid} for inst, oid in orders]
    return [RestCall("POST", PATHS["cancel_batch"], body=items[i:i + BATCH])  # type: ignore[arg-type]
            for i in range(0, len(items), BATCH)]


def query_call(native_symbol: str, *, client_order_id: str | None = None,
               order_id: str | None = None) -> RestCall:
    if not client_order_id and not order_id:
        raise ValueError("query an order by client order id or order id")
    ref = ("ordId", order_id) if order_id else ("clOrdId", str(client_order_id))
    return RestCall("GET", PATHS["query"], (("instId", native_symbol), ref))


def open_orders_call(inst_type: str, native_symbol: str = "") -> RestCall:
    params: tuple[tuple[str, str], ...] = (("instType", inst_type),)
    if native_symbol:
        params += (("instId", native_symbol),)
    return RestCall("GET", PATHS["open"], params)


def account_calls(spot: bool) -> list[RestCall]:
    calls = [RestCall("GET", PATHS["balance"])]
    if not spot:
        calls.append(RestCall("GET", PATHS["positions"], (("instType", "SWAP"),)))
    return calls


@dataclass(frozen=True, slots=True)
class OrderResult:
    order_id: str | None
    client_order_id: str | None
    exchange_ts: int | None  # microseconds


def parse_response(body: Any, http_status: int = 200) -> OrderResult | ExchangeFailure:
    """`{"code": "0", "msg": "", "data": [{"ordId", "clOrdId", "sCode": "0", "sMsg", "ts"}]}`;
    a refused order: code "1" and the item's sCode/sMsg."""
    if not isinstance(body, dict) or "code" not in body:
        kind = (ErrorKind.RATE_LIMIT if http_status == 429 else
                ErrorKind.UNKNOWN_OUTCOME if http_status >= 500 else ErrorKind.OTHER)
        return ExchangeFailure(str(http_status), str(body)[:200], kind, http_status)
    data = body.get("data")
    item = data[0] if isinstance(data, list) and data and isinstance(data[0], dict) else {}
    code = str(body["code"])
    if code != "0" or str(item.get("sCode", "0")) != "0":
        if item.get("sCode") not in (None, "", "0"):
            return failure(str(item["sCode"]), str(item.get("sMsg", "")), http_status)
        return failure(code, str(body.get("msg", "")), http_status)
    ts = item.get("ts")
    return OrderResult(item.get("ordId") or None, item.get("clOrdId") or None,
                       int(ts) * 1000 if ts else None)
