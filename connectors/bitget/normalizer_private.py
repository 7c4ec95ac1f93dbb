"""Bitget v2 private stream and trading REST bodies -> events: pure functions.

Private WS pushes `{"action", "arg": {"instType", "channel", ...}, "data": [...], "ts"}`:

  orders -> OrderUpdate per item, and a Fill when the item reports a trade (`tradeId` with
      `fillPrice`, `baseVolume`, `fillFee`, `fillFeeCoin`, `tradeScope` T taker / M maker).
      Status: live/new/init -> NEW, partially_filled -> PARTIALLY_FILLED, filled -> FILLED,
      cancelled/canceled -> CANCELED. force post_only -> GTC (post-only); a market order has no
      price. Bitget's fees are signed (negative: paid): Fill.fee is what was paid ("-0.1" ->
      "0.1"; a rebate is negative). filled = accBaseVolume (REST: baseVolume).
  account -> Wallet (spot items: coin, available, frozen, locked: total = the three, locked =
      frozen + locked; USDT-M items: marginCoin, available, frozen/locked, equity = total).
  positions -> PositionUpdate per item (holdSide long/short, total, openPriceAvg, markPrice,
      unrealizedPL, achievedProfits, leverage, liquidationPrice).
  event frames (login, subscribe) -> nothing; `event: error` raises ExchangeMessageError.
Each event's venue comes from the push's instType (SPOT -> bitget_spot, USDT-FUTURES ->
bitget_usdtm). REST: order detail / open orders items are the same order objects (`state` on
USDT-M, `status` on spot), `wallet_from_rest` and `positions_from_rest` read the account calls.
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
    PositionSide,
    PositionUpdate,
    Side,
    TimeInForce,
    Wallet,
)
from ttxt_kafka.orders.normalize import PARSE_ERRORS, is_zero, nonzero, plain, unsigned, us

from ..base.errors import ExchangeMessageError
from ..base.normalizer import BaseNormalizer, Raw, malformed, parse

VENUES = {"SPOT": "bitget_spot", "USDT-FUTURES": "bitget_usdtm"}
_SIDES = {"buy": Side.BUY, "sell": Side.SELL}
_STATUS = {
    "live": OrderStatus.NEW, "new": OrderStatus.NEW, "init": OrderStatus.NEW,
    "partially_filled": OrderStatus.PARTIALLY_FILLED,
    "partial-fill": OrderStatus.PARTIALLY_FILLED,
    "filled": OrderStatus.FILLED, "full-fill": OrderStatus.FILLED,
    "cancelled": OrderStatus.CANCELED, "canceled": OrderStatus.CANCELED,
}
_TIF = {"gtc": TimeInForce.GTC, "post_only": TimeInForce.GTC, "ioc": TimeInForce.IOC,
        "fok": TimeInForce.FOK}


def venue_of(inst_type: str) -> str:
    return VENUES.get(inst_type.upper(), f"bitget_{inst_type.lower()}")


def paid(fee: str) -> str:
    """Bitget's signed fee (negative: paid) as the fee paid (positive)."""
    if is_zero(fee):
        return "0"
    return unsigned(fee) if fee.startswith("-") else f"-{fee}"


class BitgetPrivateNormalizer(BaseNormalizer):
    venue = "bitget_spot"  # the venue of items that do not say (REST bodies)

    def __init__(self, symbols: Any = None, account_venue: str | None = None) -> None:
        super().__init__(symbols)
        if account_venue is not None:
            self.venue = account_venue

    def __call__(self, raw: Raw, receive_ts: int) -> list[Event]:
        if raw == "pong" or raw == b"pong":
            return []
        msg = parse(raw)
        try:
            if not isinstance(msg, dict):
                raise TypeError("not a JSON object")
            if "event" in msg:
                if msg["event"] == "error":
                    raise ExchangeMessageError("bitget", str(msg.get("code")),
                                               str(msg.get("msg")))
                return []
            arg, items = msg["arg"], msg["data"]
            venue = venue_of(arg["instType"])
            channel = arg["channel"]
            push_ts = us(msg.get("ts") or 0)
            if channel == "orders":
                out: list[Event] = []
                for d in items:
                    out.append(self.order(d, receive_ts, venue))
                    if d.get("tradeId") and not is_zero(d.get("baseVolume")):
                        out.append(self.fill(d, receive_ts, venue))
                return out
            if channel == "account":
                return [self.wallet(items, push_ts, receive_ts, venue, snapshot=False)]
            if channel == "positions":
                return [self.position(d, push_ts, receive_ts, venue) for d in items]
            return []
        except PARSE_ERRORS as exc:
            raise malformed(raw, exc) from None

    def order(self, d: dict[str, Any], receive_ts: int, venue: str | None = None) -> OrderUpdate:
        native = d.get("instId") or d["symbol"]
        order_type = OrderType.MARKET if d["orderType"] == "market" else OrderType.LIMIT
        status = _STATUS[d.get("status") or d["state"]]
        filled = d.get("accBaseVolume") or d.get("baseVolume") or "0"
        return OrderUpdate(
            venue=venue or self.venue, symbol=self.symbol(native), native_symbol=native,
            exchange_ts=us(d["uTime"]), receive_ts=receive_ts,
            client_order_id=d.get("clientOid") or "", order_id=str(d["orderId"]),
            side=_SIDES[d["side"]], order_type=order_type,
            time_in_force=_TIF.get(d.get("force") or "gtc", TimeInForce.GTC), status=status,
            price=None if order_type is OrderType.MARKET else nonzero(d.get("price")),
            qty=d["size"], filled_qty=filled, avg_price=nonzero(d.get("priceAvg")),
            reduce_only=str(d.get("reduceOnly", "no")).lower() in ("yes", "true"),
            created_ts=us(d["cTime"]), reason="")

    def fill(self, d: dict[str, Any], receive_ts: int, venue: str | None = None) -> Fill:
        native = d.get("instId") or d["symbol"]
        return Fill(
            venue=venue or self.venue, symbol=self.symbol(native), native_symbol=native,
            exchange_ts=us(d.get("fillTime") or d["uTime"]), receive_ts=receive_ts,
            client_order_id=d.get("clientOid") or "", order_id=str(d["orderId"]),
            trade_id=str(d["tradeId"]), side=_SIDES[d["side"]], price=d["fillPrice"],
            qty=d["baseVolume"], fee=paid(d.get("fillFee") or "0"),
            fee_currency=d.get("fillFeeCoin") or "",
            is_maker=str(d.get("tradeScope", "T")).upper().startswith("M"))

    def wallet(self, items: list[dict[str, Any]], exchange_ts: int, receive_ts: int,
               venue: str | None = None, *, snapshot: bool) -> Wallet:
        return Wallet(venue=venue or self.venue, symbol="", exchange_ts=exchange_ts,
                      receive_ts=receive_ts, account_type="futures" if "marginCoin" in (
                          items[0] if items else {}) else "spot",
                      balances=[_balance(c) for c in items], is_snapshot=snapshot)

    def position(self, d: dict[str, Any], fallback_ts: int, receive_ts: int,
                 venue: str | None = None) -> PositionUpdate:
        native = d.get("instId") or d["symbol"]
        size = d.get("total") or "0"
        side = PositionSide.FLAT if is_zero(size) else (
            PositionSide.LONG if d.get("holdSide") == "long" else PositionSide.SHORT)
        updated = d.get("uTime")
        return PositionUpdate(
            venue=venue or self.venue, symbol=self.symbol(native), native_symbol=native,
            exchange_ts=us(updated) if updated else fallback_ts, receive_ts=receive_ts,
            side=side, size=size, entry_price=nonzero(d.get("openPriceAvg")),
            mark_price=nonzero(d.get("markPrice")), unrealized_pnl=d.get("unrealizedPL"),
            realized_pnl=d.get("achievedProfits"), leverage=nonzero(d.get("leverage")),
            liquidation_price=nonzero(d.get("liquidationPrice")))


def _balance(c: dict[str, Any]) -> Balance:
    if "marginCoin" in c:  # USDT-M account
        available = c.get("available") or "0"
        locked = c.get("locked") or c.get("frozen") or "0"
        total = c.get("accountEquity") or c.get("equity") or plain(
            Decimal(available) + Decimal(locked))
        return Balance(asset=c["marginCoin"], total=total, available=available, locked=locked)
    available = c.get("available") or "0"
    held = Decimal(c.get("frozen") or "0") + Decimal(c.get("locked") or "0")
    return Balance(asset=c["coin"], total=plain(Decimal(available) + held), available=available,
                   locked=plain(held))


def _data(body: Any) -> Any:
    if not isinstance(body, dict) or body.get("code") != "00000":
        code = body.get("code") if isinstance(body, dict) else "?"
        msg = body.get("msg") if isinstance(body, dict) else str(body)[:100]
        raise ExchangeMessageError("bitget", str(code), str(msg))
    return body["data"]


def wallet_from_rest(body: Any, receive_ts: int, venue: str) -> list[Wallet]:
    """GET /api/v2/spot/account/assets or /api/v2/mix/account/accounts -> one Wallet snapshot."""
    try:
        items = _data(body)
        ts = us(body.get("requestTime") or 0)
        return [BitgetPrivateNormalizer(account_venue=venue).wallet(items, ts, receive_ts,
                                                                    snapshot=True)]
    except PARSE_ERRORS as exc:
        raise malformed(body, exc) from None


def orders_from_rest(body: Any, normalizer: BitgetPrivateNormalizer,
                     receive_ts: int) -> list[OrderUpdate]:
    """Order detail (an object or a list) or open orders (`entrustedList` on USDT-M)."""
    try:
        data = _data(body)
        if isinstance(data, dict):
            items = data["entrustedList"] or [] if "entrustedList" in data else [data]
        else:
            items = data or []
        return [normalizer.order(d, receive_ts) for d in items]
    except PARSE_ERRORS as exc:
        raise malformed(body, exc) from None


def positions_from_rest(body: Any, normalizer: BitgetPrivateNormalizer,
                        receive_ts: int) -> list[PositionUpdate]:
    try:
        return [normalizer.position(d, receive_ts, receive_ts) for d in _data(body) or []]
    except PARSE_ERRORS as exc:
        raise malformed(body, exc) from None
