"""KuCoin private stream and trading REST bodies -> events: pure functions.

Private pushes `{"type": "message", "topic", "subject", "channelType": "private", "data"}`:

  /spotMarket/tradeOrdersV2 (and the older /spotMarket/tradeOrders), subject orderChange ->
      OrderUpdate, by `type`: received / open / update -> NEW (PARTIALLY_FILLED once something
      filled), match -> PARTIALLY_FILLED (FILLED when nothing remains), filled -> FILLED,
      canceled -> CANCELED; plus a Fill for `match` (tradeId, matchPrice, matchSize, liquidity
      maker|taker). The push carries no fee: Fill.fee is "0" and fee_currency "" (the fee shows
      in the account's balance change and in the REST order's `fee`). qty = size (received:
      originSize), filled = filledSize. Times: `ts` and `orderTime` are ns in V2 pushes, ms in
      the older channel's orderTime: read by magnitude.
  /account/balance, subject account.balance -> Wallet (total, available, hold = locked).
  welcome / ack / pong -> nothing; `error` raises ExchangeMessageError.
REST: an HF order (`GET /api/v1/hf/orders/...`: id, clientOid, side, type, price, size,
dealSize, dealFunds, timeInForce, postOnly, active, createdAt, lastUpdatedAt) -> OrderUpdate
(inactive: FILLED when dealSize == size, else CANCELED); accounts -> one Wallet snapshot.
"""

from __future__ import annotations

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
from ttxt_kafka.orders.normalize import PARSE_ERRORS, average, is_zero, nonzero

from ..base.errors import ExchangeMessageError
from ..base.normalizer import BaseNormalizer, Raw, malformed, parse
from ..base.symbols import normalized_symbol

_SIDES = {"buy": Side.BUY, "sell": Side.SELL}
_TIF = {"GTC": TimeInForce.GTC, "IOC": TimeInForce.IOC, "FOK": TimeInForce.FOK,
        "GTT": TimeInForce.GTC}
ORDER_TOPICS = ("/spotMarket/tradeOrdersV2", "/spotMarket/tradeOrders")
BALANCE_TOPIC = "/account/balance"


def to_us(value: Any) -> int:
    """An exchange time in ns, µs or ms (KuCoin mixes them) -> µs, by its magnitude."""
    t = int(value)
    if t >= 10**17:
        return t // 1000
    if t >= 10**14:
        return t
    return t * 1000


class KucoinPrivateNormalizer(BaseNormalizer):
    venue = "kucoin_spot"

    def symbol(self, native: str) -> str:
        name = self._names.get(native)
        if name is None:
            base, _, quote = native.partition("-")
            name = self._names[native] = normalized_symbol(base, quote) if quote else native
        return name

    def __call__(self, raw: Raw, receive_ts: int) -> list[Event]:
        msg = parse(raw)
        try:
            if not isinstance(msg, dict):
                raise TypeError("not a JSON object")
            kind = msg.get("type")
            if kind in ("welcome", "ack", "pong"):
                return []
            if kind == "error":
                raise ExchangeMessageError("kucoin", str(msg.get("code")), str(msg.get("data")))
            topic, d = msg["topic"], msg["data"]
            if topic in ORDER_TOPICS:
                out: list[Event] = [self.order_change(d, receive_ts)]
                if d["type"] == "match":
                    out.append(self.fill(d, receive_ts))
                return out
            if topic == BALANCE_TOPIC:
                return [self.balance(d, receive_ts)]
            return []
        except PARSE_ERRORS as exc:
            raise malformed(raw, exc) from None

    def order_change(self, d: dict[str, Any], receive_ts: int) -> OrderUpdate:
        native = d["symbol"]
        order_type = OrderType.MARKET if d["orderType"] == "market" else OrderType.LIMIT
        kind = d["type"]
        filled = d.get("filledSize") or "0"
        remain = d.get("remainSize")
        if kind == "canceled":
            status = OrderStatus.CANCELED
        elif kind == "filled" or (kind == "match" and remain is not None and is_zero(remain)):
            status = OrderStatus.FILLED
        elif kind == "match" or not is_zero(filled):
            status = OrderStatus.PARTIALLY_FILLED
        else:
            status = OrderStatus.NEW
        ts = to_us(d["ts"])
        return OrderUpdate(
            venue=self.venue, symbol=self.symbol(native), native_symbol=native, exchange_ts=ts,
            receive_ts=receive_ts, client_order_id=d.get("clientOid") or "",
            order_id=str(d["orderId"]), side=_SIDES[d["side"]], order_type=order_type,
            time_in_force=TimeInForce.GTC, status=status,
            price=None if order_type is OrderType.MARKET else nonzero(d.get("price")),
            qty=d.get("size") or d.get("originSize") or "0", filled_qty=filled,
            created_ts=to_us(d["orderTime"]) if d.get("orderTime") else ts, reason="")

    def fill(self, d: dict[str, Any], receive_ts: int) -> Fill:
        native = d["symbol"]
        return Fill(
            venue=self.venue, symbol=self.symbol(native), native_symbol=native,
            exchange_ts=to_us(d["ts"]), receive_ts=receive_ts,
            client_order_id=d.get("clientOid") or "", order_id=str(d["orderId"]),
            trade_id=str(d["tradeId"]), side=_SIDES[d["side"]], price=d["matchPrice"],
            qty=d["matchSize"], fee="0", fee_currency="", is_maker=d.get("liquidity") == "maker")

    def balance(self, d: dict[str, Any], receive_ts: int) -> Wallet:
        return Wallet(venue=self.venue, symbol="", exchange_ts=to_us(d["time"]),
                      receive_ts=receive_ts, account_type="trade",
                      balances=[Balance(asset=d["currency"], total=d["total"],
                                        available=d["available"], locked=d.get("hold") or "0")],
                      is_snapshot=False)

    def rest_order(self, d: dict[str, Any], receive_ts: int) -> OrderUpdate:
        native = d["symbol"]
        order_type = OrderType.MARKET if d["type"] == "market" else OrderType.LIMIT
        size, filled = d.get("size") or "0", d.get("dealSize") or "0"
        if d.get("active"):
            status = OrderStatus.NEW if is_zero(filled) else OrderStatus.PARTIALLY_FILLED
        else:
            status = (OrderStatus.FILLED if not is_zero(size) and Decimal(filled) >= Decimal(size)
                      else OrderStatus.CANCELED)
        return OrderUpdate(
            venue=self.venue, symbol=self.symbol(native), native_symbol=native,
            exchange_ts=to_us(d.get("lastUpdatedAt") or d["createdAt"]), receive_ts=receive_ts,
            client_order_id=d.get("clientOid") or "", order_id=str(d["id"]),
            side=_SIDES[d["side"]], order_type=order_type,
            time_in_force=_TIF.get(d.get("timeInForce") or "GTC", TimeInForce.GTC),
            status=status,
            price=None if order_type is OrderType.MARKET else nonzero(d.get("price")),
            qty=size, filled_qty=filled,
            avg_price=average(d.get("dealFunds") or "0", filled),
            created_ts=to_us(d["createdAt"]), reason="")


def _data(body: Any) -> Any:
    if not isinstance(body, dict) or str(body.get("code")) != "200000":
        code = body.get("code") if isinstance(body, dict) else "?"
        msg = body.get("msg") if isinstance(body, dict) else str(body)[:100]
        raise ExchangeMessageError("kucoin", str(code), str(msg))
    return body.get("data")


def orders_from_rest(body: Any, normalizer: KucoinPrivateNormalizer,
                     receive_ts: int) -> list[OrderUpdate]:
    """One HF order (an object) or the active orders (a list, or {"items": [...]})."""
    try:
        data = _data(body)
        if data is None:
            return []
        items = data if isinstance(data, list) else data.get("items", [data])
        return [normalizer.rest_order(d, receive_ts) for d in items or []]
    except PARSE_ERRORS as exc:
        raise malformed(body, exc) from None


def wallet_from_rest(body: Any, receive_ts: int, venue: str) -> list[Wallet]:
    """GET /api/v1/accounts?type=trade -> one Wallet snapshot."""
    try:
        items = _data(body) or []
        balances = [Balance(asset=a["currency"], total=a["balance"], available=a["available"],
                            locked=a.get("holds") or "0") for a in items]
        return [Wallet(venue=venue, symbol="", exchange_ts=receive_ts, receive_ts=receive_ts,
                       account_type="trade", balances=balances, is_snapshot=True)]
    except PARSE_ERRORS as exc:
        raise malformed(body, exc) from None
