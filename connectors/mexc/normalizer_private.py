"""MEXC spot v3 private pushes and trading REST bodies -> events: pure functions.

Private pushes are protobuf `PushDataV3ApiWrapper`s (the public stream's wrapper) on
`spot@private.orders.v3.api.pb`, `spot@private.deals.v3.api.pb`, `spot@private.account.v3.api.pb`:

  privateOrders -> OrderUpdate: orderType 1 LIMIT, 2 LIMIT_MAKER (post-only), 3 IOC, 4 FOK,
      5 MARKET; tradeType 1 buy, 2 sell; status 1 NEW, 2 FILLED, 3 PARTIALLY_FILLED,
      4 CANCELED, 5 PARTIALLY_CANCELED (-> CANCELED with its fills); filled =
      cumulativeQuantity; a market order has no price.
  privateDeals -> Fill (isMaker, feeAmount in feeCurrency: what was paid).
  privateAccount -> Wallet of the one asset that changed (balanceAmount available,
      frozenAmount locked), not a snapshot.
Text frames (subscription answers, PONG) -> nothing; a refused subscription or a non-zero code
raises ExchangeMessageError. REST: the order object of GET /api/v3/order and /openOrders
(`status` NEW | PARTIALLY_FILLED | FILLED | CANCELED | PARTIALLY_CANCELED, `type`), and
GET /api/v3/account (`balances`: asset, free, locked) -> a Wallet snapshot.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from ttxt_kafka.events import (
    Balance,
    Event,
    Fill,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Side,
    TimeInForce,
    Wallet,
)
from ttxt_kafka.orders.normalize import PARSE_ERRORS, nonzero, plain, us

from ..base.errors import ExchangeMessageError, MalformedMessage
from ..base.normalizer import BaseNormalizer, Raw, malformed, parse
from .normalizer_spot import control_frame, decode
from .pb.PrivateAccountV3Api_pb2 import PrivateAccountV3Api
from .pb.PrivateDealsV3Api_pb2 import PrivateDealsV3Api
from .pb.PrivateOrdersV3Api_pb2 import PrivateOrdersV3Api

_SIDES = {1: Side.BUY, 2: Side.SELL, "BUY": Side.BUY, "SELL": Side.SELL}
# MEXC's order types -> (type, time in force, post-only); the push numbers them, REST names them
_TYPES: dict[int | str, tuple[OrderType, TimeInForce]] = {
    1: (OrderType.LIMIT, TimeInForce.GTC), "LIMIT": (OrderType.LIMIT, TimeInForce.GTC),
    2: (OrderType.LIMIT, TimeInForce.GTC), "LIMIT_MAKER": (OrderType.LIMIT, TimeInForce.GTC),
    3: (OrderType.LIMIT, TimeInForce.IOC),
    "IMMEDIATE_OR_CANCEL": (OrderType.LIMIT, TimeInForce.IOC),
    4: (OrderType.LIMIT, TimeInForce.FOK), "FILL_OR_KILL": (OrderType.LIMIT, TimeInForce.FOK),
    5: (OrderType.MARKET, TimeInForce.GTC), "MARKET": (OrderType.MARKET, TimeInForce.GTC),
}
_STATUS: dict[int | str, OrderStatus] = {
    1: OrderStatus.NEW, "NEW": OrderStatus.NEW,
    2: OrderStatus.FILLED, "FILLED": OrderStatus.FILLED,
    3: OrderStatus.PARTIALLY_FILLED, "PARTIALLY_FILLED": OrderStatus.PARTIALLY_FILLED,
    4: OrderStatus.CANCELED, "CANCELED": OrderStatus.CANCELED,
    5: OrderStatus.CANCELED, "PARTIALLY_CANCELED": OrderStatus.CANCELED,
}


class MexcPrivateNormalizer(BaseNormalizer):
    venue = "mexc_spot"
    exchange = "mexc"

    def __call__(self, raw: Raw, receive_ts: int) -> list[Event]:
        if not isinstance(raw, bytes | bytearray):
            return control_frame(raw)  # the same text frames as the public stream's
        push = decode(raw)
        body = push.WhichOneof("body")
        ts = us(push.sendTime or push.createTime)
        try:
            if body == "privateOrders":
                return [self.order(push.symbol, push.privateOrders, ts, receive_ts)]
            if body == "privateDeals":
                return [self.fill(push.symbol, push.privateDeals, receive_ts)]
            if body == "privateAccount":
                return [self.account(push.privateAccount, ts, receive_ts)]
        except PARSE_ERRORS as exc:
            raise malformed(str(push)[:200], exc) from None
        raise MalformedMessage(f"MEXC private push without a private body: {body!r}")

    def order(self, native: str, d: PrivateOrdersV3Api, ts: int, receive_ts: int
              ) -> OrderUpdate:
        if not native:
            raise MalformedMessage("MEXC order push without a symbol")
        order_type, tif = _TYPES[d.orderType]
        return OrderUpdate(
            venue=self.venue, symbol=self.symbol(native), native_symbol=native,
            exchange_ts=ts or us(d.createTime), receive_ts=receive_ts,
            client_order_id=d.clientId, order_id=d.id, side=_SIDES[d.tradeType],
            order_type=order_type, time_in_force=tif, status=_STATUS[d.status],
            price=None if order_type is OrderType.MARKET else nonzero(d.price),
            qty=d.quantity, filled_qty=d.cumulativeQuantity or "0",
            avg_price=nonzero(d.avgPrice), created_ts=us(d.createTime), reason="")

    def fill(self, native: str, d: PrivateDealsV3Api, receive_ts: int) -> Fill:
        if not native:
            raise MalformedMessage("MEXC deal push without a symbol")
        return Fill(
            venue=self.venue, symbol=self.symbol(native), native_symbol=native,
            exchange_ts=us(d.time), receive_ts=receive_ts, client_order_id=d.clientOrderId,
            order_id=d.orderId, trade_id=d.tradeId, side=_SIDES[d.tradeType], price=d.price,
            qty=d.quantity, fee=d.feeAmount or "0", fee_currency=d.feeCurrency,
            is_maker=d.isMaker)

    def account(self, d: PrivateAccountV3Api, ts: int, receive_ts: int) -> Wallet:
        total = plain(Decimal(d.balanceAmount) + Decimal(d.frozenAmount or "0"))
        return Wallet(venue=self.venue, symbol="", exchange_ts=ts or us(d.time),
                      receive_ts=receive_ts, account_type="spot",
                      balances=[Balance(asset=d.vcoinName, total=total,
                                        available=d.balanceAmount,
                                        locked=d.frozenAmount or "0")],
                      is_snapshot=False)

    # ------------------------------------------------------------------ REST

    def rest_order(self, d: Mapping[str, Any], receive_ts: int) -> OrderUpdate:
        native = d["symbol"]
        order_type, tif = _TYPES[d["type"]]
        return OrderUpdate(
            venue=self.venue, symbol=self.symbol(native), native_symbol=native,
            exchange_ts=us(d.get("updateTime") or d["time"]), receive_ts=receive_ts,
            client_order_id=d.get("clientOrderId") or "", order_id=str(d["orderId"]),
            side=_SIDES[d["side"]], order_type=order_type, time_in_force=tif,
            status=_STATUS[d["status"]],
            price=None if order_type is OrderType.MARKET else nonzero(d.get("price")),
            qty=d["origQty"], filled_qty=d.get("executedQty") or "0",
            avg_price=_average(d.get("cummulativeQuoteQty"), d.get("executedQty")),
            created_ts=us(d["time"]), reason="")


def _average(quote: Any, qty: Any) -> str | None:
    if not quote or not qty or Decimal(qty) == 0:
        return None
    return plain(Decimal(quote) / Decimal(qty))


def _checked(body: Any) -> Any:
    if isinstance(body, dict) and "code" in body and "msg" in body and len(body) == 2:
        raise ExchangeMessageError("mexc", str(body["code"]), str(body["msg"]))
    return body


def orders_from_rest(body: Any, normalizer: MexcPrivateNormalizer,
                     receive_ts: int) -> list[OrderUpdate]:
    """GET /api/v3/order (an object) or /api/v3/openOrders (a list) -> OrderUpdates."""
    data = _checked(parse(body))
    try:
        items = data if isinstance(data, list) else [data]
        return [normalizer.rest_order(d, receive_ts) for d in items]
    except PARSE_ERRORS as exc:
        raise malformed(body, exc) from None


def wallet_from_rest(body: Any, receive_ts: int, venue: str) -> Wallet:
    """GET /api/v3/account -> one Wallet snapshot."""
    data = _checked(parse(body))
    try:
        balances = []
        for b in data["balances"]:
            free, locked = b["free"], b.get("locked") or "0"
            balances.append(Balance(asset=b["asset"], available=free, locked=locked,
                                    total=plain(Decimal(free) + Decimal(locked))))
        return Wallet(venue=venue, symbol="", exchange_ts=us(data.get("updateTime") or 0)
                      or receive_ts, receive_ts=receive_ts, account_type="spot",
                      balances=balances, is_snapshot=True)
    except PARSE_ERRORS as exc:
        raise malformed(body, exc) from None
