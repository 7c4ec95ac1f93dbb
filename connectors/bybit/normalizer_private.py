"""Bybit v5 private stream -> events: pure functions, every category.

One private connection carries all categories, so each event's venue comes from the item's
`category`: spot -> `bybit_spot`, linear -> `bybit_linear`, inverse -> `bybit_inverse`,
option -> `bybit_option` (a connector publishes its own venue's events). The wallet is the
whole (unified) account: its venue is the one the normalizer was built with.

  order -> OrderUpdate per item. Status: New/Untriggered/Triggered -> NEW, PartiallyFilled ->
      PARTIALLY_FILLED, Filled -> FILLED, Cancelled/PartiallyFilledCanceled/Deactivated ->
      CANCELED, Rejected -> REJECTED. PostOnly/RPI time in force -> GTC. A market order's
      `price` (Bybit's protection price) is not an order price: None. takeProfit/stopLoss ""
      or "0" -> None. reason = rejectReason (unless EC_NoError), else cancelType of a cancel.
  execution -> Fill per item that is a trade (execType Trade, AdlTrade, BustTrade, BlockTrade);
      Funding, Settle, Delivery and the rest move money but are not fills. The fee currency is
      `feeCurrency`; older messages lack it: linear -> quote, inverse -> base, spot -> the asset
      received (base on a buy, quote on a sell). `execution.fast` is ignored: it has no fee.
  wallet -> Wallet per account (coins: total = walletBalance, available = availableToWithdraw,
      or when Bybit leaves it empty walletBalance - locked - totalOrderIM - totalPositionIM;
      locked = locked). REST GET /v5/account/wallet-balance has the same items:
      `wallet_from_rest`.
  position -> PositionUpdate per item (positionIdx 1/2: the hedge-mode LONG/SHORT leg; 0:
      side Buy -> LONG, Sell -> SHORT, "" -> FLAT; sequence = seq).
  op frames (auth, subscribe, pong) -> nothing; a refused op raises ExchangeMessageError.
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
from ttxt_kafka.orders.normalize import PARSE_ERRORS, is_zero, nonzero, plain, us

from ..base.errors import ExchangeMessageError
from ..base.normalizer import BaseNormalizer, Raw, malformed, parse

VENUES = {"spot": "bybit_spot", "linear": "bybit_linear", "inverse": "bybit_inverse",
          "option": "bybit_option"}
_SIDES = {"Buy": Side.BUY, "Sell": Side.SELL}
_STATUS = {
    "New": OrderStatus.NEW,
    "Untriggered": OrderStatus.NEW,
    "Triggered": OrderStatus.NEW,
    "PartiallyFilled": OrderStatus.PARTIALLY_FILLED,
    "Filled": OrderStatus.FILLED,
    "Cancelled": OrderStatus.CANCELED,
    "PartiallyFilledCanceled": OrderStatus.CANCELED,
    "Deactivated": OrderStatus.CANCELED,
    "Rejected": OrderStatus.REJECTED,
}
_TIF = {"GTC": TimeInForce.GTC, "IOC": TimeInForce.IOC, "FOK": TimeInForce.FOK}
FILL_EXEC_TYPES = frozenset({"Trade", "AdlTrade", "BustTrade", "BlockTrade"})


def venue_of(category: str) -> str:
    return VENUES.get(category, f"bybit_{category}")


class BybitPrivateNormalizer(BaseNormalizer):
    venue = "bybit"  # venue of account-wide events (wallet); others take their category's

    def __init__(self, symbols: Any = None, account_venue: str | None = None) -> None:
        super().__init__(symbols)
        if account_venue is not None:
            self.venue = account_venue

    def __call__(self, raw: Raw, receive_ts: int) -> list[Event]:
        msg = parse(raw)
        try:
            topic = msg.get("topic")
            if topic is None:
                return self._control(msg)
            kind = topic.split(".", 1)[0] if topic != "execution.fast" else topic
            items = msg["data"]
            fallback_ts = us(msg.get("creationTime") or 0)
            if kind == "order":
                return [self.order(d, receive_ts) for d in items]
            if kind == "execution":
                return [self.execution(d, receive_ts) for d in items
                        if d.get("execType", "Trade") in FILL_EXEC_TYPES]
            if kind == "wallet":
                return [self.wallet(d, fallback_ts, receive_ts) for d in items]
            if kind == "position":
                return [self.position(d, fallback_ts, receive_ts) for d in items]
            return []
        except PARSE_ERRORS as exc:
            raise malformed(raw, exc) from None

    def _control(self, msg: dict[str, Any]) -> list[Event]:
        refused = msg.get("success") is False or msg.get("retCode") not in (None, 0)
        if refused:
            code = str(msg.get("retCode", msg.get("ret_code", "")))
            raise ExchangeMessageError("bybit", code, str(msg.get("ret_msg") or msg.get("retMsg")))
        return []

    def order(self, d: dict[str, Any], receive_ts: int) -> OrderUpdate:
        native, category = d["symbol"], d["category"]
        status = _STATUS[d["orderStatus"]]
        order_type = OrderType.MARKET if d["orderType"] == "Market" else OrderType.LIMIT
        reject = d.get("rejectReason") or "EC_NoError"
        cancel = d.get("cancelType") or "UNKNOWN"
        reason = reject if reject != "EC_NoError" else (
            cancel if status is OrderStatus.CANCELED and cancel != "UNKNOWN" else "")
        return OrderUpdate(
            venue=venue_of(category), symbol=self.symbol(native), native_symbol=native,
            exchange_ts=us(d["updatedTime"]), receive_ts=receive_ts,
            client_order_id=d.get("orderLinkId") or "", order_id=d["orderId"],
            side=_SIDES[d["side"]], order_type=order_type,
            time_in_force=_TIF.get(d.get("timeInForce", "GTC"), TimeInForce.GTC), status=status,
            price=None if order_type is OrderType.MARKET else nonzero(d.get("price")),
            qty=d["qty"], filled_qty=d.get("cumExecQty") or "0",
            avg_price=nonzero(d.get("avgPrice")), take_profit=nonzero(d.get("takeProfit")),
            stop_loss=nonzero(d.get("stopLoss")), reduce_only=bool(d.get("reduceOnly", False)),
            created_ts=us(d["createdTime"]), reason=reason)

    def execution(self, d: dict[str, Any], receive_ts: int) -> Fill:
        native, category = d["symbol"], d["category"]
        side = _SIDES[d["side"]]
        symbol = self.symbol(native)
        seq = d.get("seq")
        return Fill(
            venue=venue_of(category), symbol=symbol, native_symbol=native,
            exchange_ts=us(d["execTime"]), receive_ts=receive_ts,
            sequence=int(seq) if seq is not None else None,
            client_order_id=d.get("orderLinkId") or "", order_id=d["orderId"],
            trade_id=d["execId"], side=side, price=d["execPrice"], qty=d["execQty"],
            fee=d["execFee"],
            fee_currency=d.get("feeCurrency") or _fee_currency(category, symbol, side),
            is_maker=bool(d["isMaker"]))

    def wallet(self, d: dict[str, Any], exchange_ts: int, receive_ts: int) -> Wallet:
        return Wallet(venue=self.venue, symbol="", exchange_ts=exchange_ts,
                      receive_ts=receive_ts, account_type=d.get("accountType", ""),
                      balances=[_balance(c) for c in d["coin"]], is_snapshot=False)

    def position(self, d: dict[str, Any], fallback_ts: int, receive_ts: int) -> PositionUpdate:
        native, category = d["symbol"], d["category"]
        idx = int(d.get("positionIdx") or 0)
        if idx in (1, 2):
            side = PositionSide.LONG if idx == 1 else PositionSide.SHORT
        else:
            side = {"Buy": PositionSide.LONG, "Sell": PositionSide.SHORT}.get(
                d.get("side") or "", PositionSide.FLAT)
        seq = d.get("seq")
        updated = d.get("updatedTime")
        return PositionUpdate(
            venue=venue_of(category), symbol=self.symbol(native), native_symbol=native,
            exchange_ts=us(updated) if updated else fallback_ts, receive_ts=receive_ts,
            sequence=int(seq) if seq is not None else None, side=side, size=d["size"],
            entry_price=nonzero(d.get("entryPrice") or d.get("avgPrice")),
            mark_price=nonzero(d.get("markPrice")), unrealized_pnl=d.get("unrealisedPnl"),
            realized_pnl=d.get("cumRealisedPnl"), leverage=nonzero(d.get("leverage")),
            liquidation_price=nonzero(d.get("liqPrice")))


def _fee_currency(category: str, symbol: str, side: Side) -> str:
    base, _, quote = symbol.partition("/")
    quote = quote.split("-", 1)[0]
    if category == "inverse":
        return base
    if category == "spot" and side is Side.BUY:
        return base
    return quote


def _balance(c: dict[str, Any]) -> Balance:
    total = c.get("walletBalance") or "0"
    locked = c.get("locked") or None
    available = c.get("availableToWithdraw")
    if not available:
        free = Decimal(total)
        for field in ("locked", "totalOrderIM", "totalPositionIM"):
            if not is_zero(c.get(field)):
                free -= Decimal(c[field])
        available = plain(free)
    return Balance(asset=c["coin"], total=total, available=available, locked=locked)


def wallet_from_rest(body: dict[str, Any], receive_ts: int, venue: str = "bybit") -> list[Wallet]:
    """GET /v5/account/wallet-balance -> one full Wallet snapshot per account."""
    try:
        if body.get("retCode") not in (None, 0):
            raise ExchangeMessageError("bybit", str(body["retCode"]), str(body.get("retMsg")))
        exchange_ts = us(body.get("time") or 0)
        return [Wallet(venue=venue, symbol="", exchange_ts=exchange_ts, receive_ts=receive_ts,
                       account_type=d.get("accountType", ""),
                       balances=[_balance(c) for c in d["coin"]], is_snapshot=True)
                for d in body["result"]["list"]]
    except PARSE_ERRORS as exc:
        raise malformed(body, exc) from None
