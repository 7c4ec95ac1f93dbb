"""Binance private REST bodies -> events: pure functions (the user-data stream's counterparts
for the snapshots taken over REST at start, after a reconnect and on demand).

  GET /api/v3/order, /api/v3/openOrders, /fapi/v1/order, /fapi/v1/openOrders -> OrderUpdate
  GET /fapi/v3/account -> Wallet (total = walletBalance, available = availableBalance)
  GET /fapi/v3/positionRisk -> PositionUpdate (one-way mode: side from the sign of positionAmt)
Spot's GET /api/v3/account is `normalizer_private.spot_account_wallet`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ttxt_kafka.events import (
    Balance,
    OrderStatus,
    OrderType,
    OrderUpdate,
    PositionSide,
    PositionUpdate,
    Side,
    TimeInForce,
    Wallet,
)
from ttxt_kafka.orders.normalize import PARSE_ERRORS, average, is_zero, nonzero, unsigned, us

from ..base.normalizer import malformed

_MARKET_TYPES = frozenset({"MARKET", "STOP_LOSS", "TAKE_PROFIT", "STOP_MARKET",
                           "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET", "LIQUIDATION"})
_STATUS = {"NEW": OrderStatus.NEW, "PENDING_NEW": OrderStatus.NEW,
           "PARTIALLY_FILLED": OrderStatus.PARTIALLY_FILLED, "FILLED": OrderStatus.FILLED,
           "CANCELED": OrderStatus.CANCELED, "PENDING_CANCEL": OrderStatus.NEW,
           "REJECTED": OrderStatus.REJECTED, "EXPIRED": OrderStatus.EXPIRED,
           "EXPIRED_IN_MATCH": OrderStatus.EXPIRED}
_TIF = {"GTC": TimeInForce.GTC, "IOC": TimeInForce.IOC, "FOK": TimeInForce.FOK}

SymbolOf = Callable[[str], str]


def order_update(body: dict[str, Any], venue: str, symbol_of: SymbolOf,
                 receive_ts: int) -> OrderUpdate:
    """One order object of the order / openOrders endpoints (spot or USD-M)."""
    try:
        native = body["symbol"]
        filled = str(body["executedQty"])
        cum_quote = body.get("cummulativeQuoteQty", body.get("cumQuote"))
        avg = nonzero(body.get("avgPrice")) if "avgPrice" in body else (
            average(str(cum_quote), filled) if cum_quote is not None else None)
        updated = body.get("updateTime") or body.get("time") or body.get("transactTime")
        return OrderUpdate(
            venue=venue, symbol=symbol_of(native), native_symbol=native,
            exchange_ts=us(updated) if updated else receive_ts, receive_ts=receive_ts,
            client_order_id=body.get("clientOrderId") or "", order_id=str(body["orderId"]),
            side=Side(body["side"]),
            order_type=OrderType.MARKET if body["type"] in _MARKET_TYPES else OrderType.LIMIT,
            time_in_force=_TIF.get(body.get("timeInForce") or "GTC", TimeInForce.GTC),
            status=_STATUS[body["status"]], price=nonzero(body.get("price")),
            qty=str(body["origQty"]), filled_qty=filled,
            avg_price=None if is_zero(filled) else avg,
            reduce_only=bool(body.get("reduceOnly", False)),
            created_ts=us(body["time"]) if body.get("time") else 0)
    except PARSE_ERRORS as exc:
        raise malformed(str(body)[:200], exc) from None


def usdm_account_wallet(body: dict[str, Any], receive_ts: int,
                        venue: str = "binance_usdm") -> Wallet:
    try:
        assets = body["assets"]
        times = [int(a["updateTime"]) for a in assets if a.get("updateTime")]
        return Wallet(
            venue=venue, symbol="", exchange_ts=us(max(times)) if times else receive_ts,
            receive_ts=receive_ts, account_type="USDM", is_snapshot=True,
            balances=[Balance(asset=a["asset"], total=str(a["walletBalance"]),
                              available=str(a["availableBalance"])) for a in assets])
    except PARSE_ERRORS as exc:
        raise malformed(str(body)[:200], exc) from None


def usdm_position(p: dict[str, Any], venue: str, symbol_of: SymbolOf,
                  receive_ts: int) -> PositionUpdate:
    try:
        native, amount = p["symbol"], str(p["positionAmt"])
        hedge = p.get("positionSide", "BOTH")
        if hedge in ("LONG", "SHORT"):
            side = PositionSide(hedge)
        else:
            side = (PositionSide.FLAT if is_zero(amount) else PositionSide.SHORT
                    if amount.startswith("-") else PositionSide.LONG)
        updated = p.get("updateTime")
        return PositionUpdate(
            venue=venue, symbol=symbol_of(native), native_symbol=native,
            exchange_ts=us(updated) if updated else receive_ts, receive_ts=receive_ts,
            side=side, size=unsigned(amount), entry_price=nonzero(p.get("entryPrice")),
            mark_price=nonzero(p.get("markPrice")), unrealized_pnl=p.get("unRealizedProfit"),
            liquidation_price=nonzero(p.get("liquidationPrice")))
    except PARSE_ERRORS as exc:
        raise malformed(str(p)[:200], exc) from None
