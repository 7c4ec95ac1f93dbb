"""Gate.io v4 spot private channels and trading REST bodies -> events: pure functions.

Private pushes are `{"time", "time_ms", "channel", "event": "update", "result": [...]}`:

  spot.orders -> OrderUpdate per item. Status: `event` put/update (REST `status` open) -> NEW,
      or PARTIALLY_FILLED once something is filled; `event` finish (REST `status` closed /
      cancelled) -> by `finish_as`: filled -> FILLED; ioc, fok, poc, depth_not_enough,
      trader_not_enough, small (the engine ended what was left) -> EXPIRED; the rest (cancelled,
      stp, ...) -> CANCELED. filled_qty = amount - left (base, exact; the docs example's
      `filled_amount` 812.8 on an order of 0.0001 contradicts its own amount and left), except
      for a market buy, whose `amount` is quote: its qty and filled_qty are `filled_amount`.
      time_in_force poc (post-only) -> GTC. avg_price = avg_deal_price, else filled_total /
      filled.
  spot.usertrades -> Fill per item (trade id `id`, role maker/taker, fee paid in
      `fee_currency`; where the push has none, as in the docs example, Gate's rule: a buy pays
      in the base currency, a sell in the quote currency).
  spot.balances -> Wallet delta (currency, total, available, freeze = locked).
Client order id: the order's `text` when it is a client id (`t-...`); Gate writes the origin
there for other orders ("apiv4", "web", "app"): no client id ("").
Control frames (subscribe answers, spot.pong) give nothing; an `error` raises
ExchangeMessageError. REST: an order object, a list of them, or open_orders' per-pair lists;
/spot/accounts items (currency, available, locked) -> a Wallet snapshot.
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
from ttxt_kafka.orders.normalize import PARSE_ERRORS, average, is_zero, nonzero, plain

from ..base.errors import ExchangeMessageError
from ..base.normalizer import BaseNormalizer, Raw, malformed, parse
from . import endpoints as ep

ORDERS, TRADES, BALANCES = ep.PRIVATE_CHANNELS
_SIDES = {"buy": Side.BUY, "sell": Side.SELL}
_TIF = {"gtc": TimeInForce.GTC, "poc": TimeInForce.GTC, "ioc": TimeInForce.IOC,
        "fok": TimeInForce.FOK}
_EXPIRED = frozenset({"ioc", "fok", "poc", "depth_not_enough", "trader_not_enough", "small"})
CLIENT_ID_PREFIX = "t-"


def ms_to_us(value: Any) -> int:
    """Gate milliseconds (int, "1694655225315" or "1605176741123.456") -> µs, exactly."""
    return int(Decimal(str(value)) * 1000)


def client_id(text: Any) -> str:
    text = str(text or "")
    return text if text.startswith(CLIENT_ID_PREFIX) else ""


def _status(d: dict[str, Any], filled: str) -> OrderStatus:
    state, finish = d.get("status"), d.get("finish_as") or ""
    if state not in ("closed", "cancelled") and d.get("event") != "finish":
        return OrderStatus.NEW if is_zero(filled) else OrderStatus.PARTIALLY_FILLED
    if finish == "filled" or (state == "closed" and finish not in _EXPIRED):
        return OrderStatus.FILLED
    return OrderStatus.EXPIRED if finish in _EXPIRED else OrderStatus.CANCELED


class GatePrivateNormalizer(BaseNormalizer):
    venue = "gateio_spot"

    def __init__(self, symbols: Any = None, account_venue: str | None = None) -> None:
        super().__init__(symbols)
        if account_venue is not None:
            self.venue = account_venue

    def __call__(self, raw: Raw, receive_ts: int) -> list[Event]:
        msg = parse(raw)
        try:
            if not isinstance(msg, dict):
                raise TypeError("not a JSON object")
            if msg.get("error"):
                err = msg["error"]
                raise ExchangeMessageError("gateio", str(err.get("code")),
                                           str(err.get("message")))
            channel = msg.get("channel")
            if msg.get("event") != "update" or channel not in (ORDERS, TRADES, BALANCES):
                return []  # subscribe answers, spot.pong
            items = msg["result"]
            if not isinstance(items, list):
                raise TypeError("result is not a list")
            if channel == ORDERS:
                return [self.order(d, receive_ts) for d in items]
            if channel == TRADES:
                return [self.fill(d, receive_ts) for d in items]
            return [self.wallet(items, ms_to_us(msg["time_ms"]), receive_ts)]
        except PARSE_ERRORS as exc:
            raise malformed(raw, exc) from None

    def order(self, d: dict[str, Any], receive_ts: int) -> OrderUpdate:
        native = d["currency_pair"]
        market = d["type"] == "market"
        side = _SIDES[d["side"]]
        if market and side is Side.BUY:  # amount is quote: what was bought is filled_amount
            qty = filled = d.get("filled_amount") or "0"
        else:
            qty = d["amount"]
            filled = plain(Decimal(qty) - Decimal(d["left"]))
        avg = nonzero(d.get("avg_deal_price")) or (
            average(d["filled_total"], filled) if d.get("filled_total") else None)
        updated = d.get("update_time_ms") or d["create_time_ms"]
        return OrderUpdate(
            venue=self.venue, symbol=self.symbol(native), native_symbol=native,
            exchange_ts=ms_to_us(updated), receive_ts=receive_ts,
            client_order_id=client_id(d.get("text")), order_id=str(d["id"]), side=side,
            order_type=OrderType.MARKET if market else OrderType.LIMIT,
            time_in_force=_TIF.get(d.get("time_in_force") or "gtc", TimeInForce.GTC),
            status=_status(d, filled), price=None if market else nonzero(d.get("price")),
            qty=qty, filled_qty=filled, avg_price=avg, created_ts=ms_to_us(d["create_time_ms"]),
            reason=d.get("finish_as") or "")

    def fill(self, d: dict[str, Any], receive_ts: int) -> Fill:
        native = d["currency_pair"]
        side = _SIDES[d["side"]]
        fee_currency = d.get("fee_currency")
        if not fee_currency:
            base, _, quote = native.partition("_")
            fee_currency = base if side is Side.BUY else quote
        return Fill(
            venue=self.venue, symbol=self.symbol(native), native_symbol=native,
            exchange_ts=ms_to_us(d["create_time_ms"]), receive_ts=receive_ts,
            client_order_id=client_id(d.get("text")), order_id=str(d["order_id"]),
            trade_id=str(d["id"]), side=side, price=d["price"], qty=d["amount"],
            fee=d.get("fee") or "0", fee_currency=fee_currency,
            is_maker=d.get("role") == "maker")

    def wallet(self, items: list[dict[str, Any]], exchange_ts: int, receive_ts: int) -> Wallet:
        return Wallet(venue=self.venue, symbol="", exchange_ts=exchange_ts,
                      receive_ts=receive_ts, account_type="spot", is_snapshot=False,
                      balances=[Balance(asset=b["currency"], total=b["total"],
                                        available=b["available"], locked=b.get("freeze"))
                                for b in items])


def orders_from_rest(body: Any, normalizer: GatePrivateNormalizer,
                     receive_ts: int) -> list[OrderUpdate]:
    """An order object, a list of them, or GET /spot/open_orders (`[{currency_pair, total,
    orders: [...]}]`)."""
    try:
        items = body if isinstance(body, list) else [body]
        orders: list[dict[str, Any]] = []
        for item in items:
            orders += item.get("orders", [item])
        return [normalizer.order(d, receive_ts) for d in orders]
    except PARSE_ERRORS as exc:
        raise malformed(body, exc) from None


def wallet_from_rest(body: Any, receive_ts: int, venue: str) -> list[Wallet]:
    """GET /api/v4/spot/accounts -> one Wallet snapshot (total = available + locked)."""
    try:
        balances = [Balance(asset=b["currency"], available=b["available"], locked=b["locked"],
                            total=plain(Decimal(b["available"]) + Decimal(b["locked"])))
                    for b in body]
        return [Wallet(venue=venue, symbol="", exchange_ts=receive_ts, receive_ts=receive_ts,
                       account_type="spot", balances=balances, is_snapshot=True)]
    except PARSE_ERRORS as exc:
        raise malformed(body, exc) from None
