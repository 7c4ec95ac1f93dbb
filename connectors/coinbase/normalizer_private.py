"""Coinbase Advanced Trade `user` channel and trading REST bodies -> events.

The `user` channel (`wss://advanced-trade-ws-user.coinbase.com`, JWT in the subscription)
pushes `{"channel": "user", "sequence_num", "events": [{"type": "snapshot" | "update",
"orders": [...]}]}`; each order carries cumulative figures (`cumulative_quantity`,
`leaves_quantity`, `avg_price`, `filled_value`, `total_fees`, `number_of_fills`), not the
trades themselves. So:

  OrderUpdate per order: status OPEN/PENDING/QUEUED -> NEW (PARTIALLY_FILLED once something
      filled), FILLED, CANCELLED/CANCEL_QUEUED -> CANCELED, EXPIRED, FAILED -> REJECTED;
      qty = cumulative + leaves (a canceled order has no leaves: its size as last seen open);
      time in force GOOD_UNTIL_CANCELLED / IMMEDIATE_OR_CANCEL /
      FILL_OR_KILL; a market order has no price.
  Fill when an `update` raises an order's cumulative quantity: qty = the increase, price =
      the increase of `filled_value` / qty (one trade: its price exactly; several trades in one
      push: their average), fee = the increase of `total_fees`, trade id = "<order id>-<fill
      number>" (Coinbase's fill count). That needs the previous figures of each order: this
      normalizer, unlike the public ones, keeps them (the `snapshot` sets them, giving no
      fills: those trades happened before). is_maker: post-only orders only (the push does
      not say; REST fills do).
REST: an order object (`/orders/historical/...`: `order_configuration`, `filled_size`,
`average_filled_price`, `status`) -> OrderUpdate; `/accounts` -> one Wallet snapshot
(total = available_balance + hold).
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
from ttxt_kafka.orders.normalize import PARSE_ERRORS, is_zero, nonzero, plain

from ..base.errors import ExchangeMessageError
from ..base.normalizer import Raw, malformed, parse
from .normalizer_spot import ProductNames, iso_us

_SIDES = {"BUY": Side.BUY, "SELL": Side.SELL}
_STATUS = {
    "OPEN": OrderStatus.NEW, "PENDING": OrderStatus.NEW, "QUEUED": OrderStatus.NEW,
    "FILLED": OrderStatus.FILLED, "CANCELLED": OrderStatus.CANCELED,
    "CANCEL_QUEUED": OrderStatus.CANCELED, "EXPIRED": OrderStatus.EXPIRED,
    "FAILED": OrderStatus.REJECTED,
}
_TIF = {"GOOD_UNTIL_CANCELLED": TimeInForce.GTC, "GOOD_UNTIL_DATE_TIME": TimeInForce.GTC,
        "IMMEDIATE_OR_CANCEL": TimeInForce.IOC, "FILL_OR_KILL": TimeInForce.FOK}


def _strip(value: Decimal) -> str:
    text = plain(value)
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def _ts(text: Any, fallback: int) -> int:
    if not text or str(text).startswith("0001-"):
        return fallback
    return iso_us(str(text))


class CoinbasePrivateNormalizer(ProductNames):
    venue = "coinbase_spot"

    def __init__(self, symbols: Any = None, account_venue: str | None = None) -> None:
        super().__init__(symbols)
        if account_venue is not None:
            self.venue = account_venue
        # order id -> (cumulative qty, filled value, fees, fills) last seen: fills are the steps
        self._seen: dict[str, tuple[Decimal, Decimal, Decimal, int]] = {}
        self._sizes: dict[str, Decimal] = {}  # order id -> size, while it is open

    def __call__(self, raw: Raw, receive_ts: int) -> list[Event]:
        msg = parse(raw)
        try:
            if not isinstance(msg, dict):
                raise TypeError("not a JSON object")
            if msg.get("type") == "error":
                raise ExchangeMessageError("coinbase", "error", str(msg.get("message", "")))
            if msg.get("channel") != "user":
                return []  # subscriptions, heartbeats
            ts = _ts(msg.get("timestamp"), receive_ts)
            out: list[Event] = []
            for ev in msg["events"]:
                snapshot = ev.get("type") == "snapshot"
                for o in ev.get("orders") or []:
                    out.append(self.order(o, ts, receive_ts))
                    fill = self._step(o, ts, receive_ts, snapshot)
                    if fill is not None:
                        out.append(fill)
            return out
        except PARSE_ERRORS as exc:
            raise malformed(raw, exc) from None

    # ------------------------------------------------------------------ the user channel

    def order(self, o: dict[str, Any], ts: int, receive_ts: int) -> OrderUpdate:
        native = o["product_id"]
        market = str(o.get("order_type", "")).upper() == "MARKET"
        filled = o.get("cumulative_quantity") or "0"
        leaves = o.get("leaves_quantity") or "0"
        status = _STATUS[o["status"]]
        if status is OrderStatus.NEW and not is_zero(filled):
            status = OrderStatus.PARTIALLY_FILLED
        order_id = str(o["order_id"])
        qty = Decimal(filled) + Decimal(leaves)
        if status in (OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED):
            self._sizes[order_id] = qty
        else:  # a canceled or expired order has nothing left: its size is what it was
            qty = max(qty, self._sizes.pop(order_id, qty))
        return OrderUpdate(
            venue=self.venue, symbol=self.symbol(native), native_symbol=native,
            exchange_ts=ts, receive_ts=receive_ts,
            client_order_id=o.get("client_order_id") or "", order_id=str(o["order_id"]),
            side=_SIDES[o["order_side"]],
            order_type=OrderType.MARKET if market else OrderType.LIMIT,
            time_in_force=_TIF.get(str(o.get("time_in_force")), TimeInForce.GTC), status=status,
            price=None if market else nonzero(o.get("limit_price")),
            qty=_strip(qty), filled_qty=filled,
            avg_price=nonzero(o.get("avg_price")), created_ts=_ts(o.get("creation_time"), ts),
            reason=o.get("reject_reason") or o.get("cancel_reason") or "")

    def _step(self, o: dict[str, Any], ts: int, receive_ts: int, snapshot: bool) -> Fill | None:
        order_id = str(o["order_id"])
        cum = Decimal(o.get("cumulative_quantity") or "0")
        value = Decimal(o.get("filled_value") or "0")
        if not value and cum:
            value = Decimal(o.get("avg_price") or "0") * cum
        fees = Decimal(o.get("total_fees") or "0")
        fills = int(o.get("number_of_fills") or 0)
        before = self._seen.get(order_id)
        self._seen[order_id] = (cum, value, fees, fills)
        if o["status"] in ("FILLED", "CANCELLED", "EXPIRED", "FAILED"):
            self._seen.pop(order_id, None)  # final: nothing more will come
        if snapshot:
            return None
        prev_cum, prev_value, prev_fees, _ = before or (Decimal(0), Decimal(0), Decimal(0), 0)
        qty = cum - prev_cum
        if qty <= 0:
            return None
        native = o["product_id"]
        return Fill(
            venue=self.venue, symbol=self.symbol(native), native_symbol=native, exchange_ts=ts,
            receive_ts=receive_ts, client_order_id=o.get("client_order_id") or "",
            order_id=order_id, trade_id=f"{order_id}-{fills}", side=_SIDES[o["order_side"]],
            price=_strip((value - prev_value) / qty), qty=_strip(qty),
            fee=_strip(fees - prev_fees), fee_currency=native.partition("-")[2],
            is_maker=str(o.get("post_only")).lower() == "true")

    # ------------------------------------------------------------------ REST

    def rest_order(self, o: dict[str, Any], receive_ts: int) -> OrderUpdate:
        native = o["product_id"]
        configs: dict[str, Any] = o.get("order_configuration") or {}
        config: dict[str, Any] = next(iter(configs.values()), {}) or {}
        market = (str(o.get("order_type", "")).upper() == "MARKET"
                  or "market_market_ioc" in configs)
        filled = o.get("filled_size") or "0"
        status = _STATUS[o["status"]]
        if status is OrderStatus.NEW and not is_zero(filled):
            status = OrderStatus.PARTIALLY_FILLED
        created = _ts(o.get("created_time"), receive_ts)
        return OrderUpdate(
            venue=self.venue, symbol=self.symbol(native), native_symbol=native,
            exchange_ts=_ts(o.get("last_fill_time"), created), receive_ts=receive_ts,
            client_order_id=o.get("client_order_id") or "", order_id=str(o["order_id"]),
            side=_SIDES[o["side"]], order_type=OrderType.MARKET if market else OrderType.LIMIT,
            time_in_force=_TIF.get(str(o.get("time_in_force")), TimeInForce.GTC), status=status,
            price=None if market else nonzero(config.get("limit_price")),
            qty=config.get("base_size") or filled, filled_qty=filled,
            avg_price=nonzero(o.get("average_filled_price")), created_ts=created,
            reason=o.get("reject_reason") or o.get("cancel_message") or "")


def orders_from_rest(body: Any, normalizer: CoinbasePrivateNormalizer,
                     receive_ts: int) -> list[OrderUpdate]:
    """`{"order": {...}}` (get order) or `{"orders": [...]}` (list orders)."""
    try:
        if not isinstance(body, dict):
            raise TypeError("not a JSON object")
        items = [body["order"]] if "order" in body else body["orders"]
        return [normalizer.rest_order(o, receive_ts) for o in items]
    except PARSE_ERRORS as exc:
        raise malformed(body, exc) from None


def wallet_from_rest(accounts: list[dict[str, Any]], receive_ts: int, venue: str) -> Wallet:
    """The `accounts` items of GET /api/v3/brokerage/accounts -> one Wallet snapshot."""
    try:
        balances = []
        for a in accounts:
            available = a["available_balance"]["value"]
            hold = (a.get("hold") or {}).get("value") or "0"
            balances.append(Balance(asset=a["currency"],
                                    total=_strip(Decimal(available) + Decimal(hold)),
                                    available=available, locked=hold))
        return Wallet(venue=venue, symbol="", exchange_ts=receive_ts, receive_ts=receive_ts,
                      account_type="spot", balances=balances, is_snapshot=True)
    except PARSE_ERRORS as exc:
        raise malformed(accounts, exc) from None
