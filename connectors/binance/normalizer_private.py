"""Binance private streams (user data) -> events: pure functions, spot and USD-M.

Frames are accepted bare (`{"e": ...}`), wrapped by the WebSocket API user-data subscription
(`{"subscriptionId": n, "event": {...}}`) or by a combined stream (`{"stream", "data"}`).

Spot (venue `binance`):
  executionReport -> OrderUpdate, plus a Fill when it reports a trade (`x` = TRADE) with the
      commission `n` in asset `N` and the maker flag `m`. On a cancel Binance puts the cancel
      request's id in `c` and the order's own id in `C`: the order's is used.
  outboundAccountPosition -> Wallet (only the assets that changed: is_snapshot False;
      total = free + locked, available = free, locked = locked)
  balanceUpdate -> nothing. It carries a delta (deposit, withdrawal, transfer), which `Wallet`
      cannot express (its balances are absolute), and Binance follows every balance change with
      an outboundAccountPosition holding the new absolute balance. `balance_delta()` reads one.
  listStatus -> nothing: order lists (OCO, OTO) are not placed by this platform, and each of a
      list's orders reports itself through executionReport anyway.
  listenKeyExpired, eventStreamTerminated, externalLockUpdate, method answers -> nothing
      (`event_type()` lets the connector act on them).
USD-M (venue `binance_usdm`):
  ORDER_TRADE_UPDATE -> OrderUpdate (+ Fill on x = TRADE). The stream does not carry the
      order's creation time: created_ts is the event time of its NEW report and 0 (unknown)
      in later reports.
  ACCOUNT_UPDATE -> Wallet (total = wallet balance `wb`, available = cross wallet balance `cw`:
      the stream has no free-margin figure) and one PositionUpdate per position (one-way mode
      `BOTH`: side from the sign of `pa`; hedge mode: the LONG / SHORT leg). Sizes are unsigned.
  TRADE_LITE -> nothing: a low-latency duplicate of ORDER_TRADE_UPDATE's trade without the fee;
      publishing it would count every fill twice or once without its fee.
  ACCOUNT_CONFIG_UPDATE, MARGIN_CALL, listenKeyExpired -> nothing.
REST: `spot_account_wallet` (GET /api/v3/account).
Order types map to the catalogue's two: *_MARKET, STOP_LOSS, TAKE_PROFIT, LIQUIDATION -> MARKET,
the rest (LIMIT, LIMIT_MAKER, STOP, ...) -> LIMIT; time in force GTX (post-only) and GTD -> GTC.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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
from ttxt_kafka.orders.normalize import PARSE_ERRORS, add, average, is_zero, nonzero, unsigned, us

from ..base.errors import MalformedMessage
from ..base.normalizer import BaseNormalizer, Raw, malformed, parse

_STATUS = {
    "NEW": OrderStatus.NEW,
    "PENDING_NEW": OrderStatus.NEW,
    "PARTIALLY_FILLED": OrderStatus.PARTIALLY_FILLED,
    "FILLED": OrderStatus.FILLED,
    "CANCELED": OrderStatus.CANCELED,
    "PENDING_CANCEL": OrderStatus.NEW,  # unused by Binance; the order is still live
    "REJECTED": OrderStatus.REJECTED,
    "EXPIRED": OrderStatus.EXPIRED,
    "EXPIRED_IN_MATCH": OrderStatus.EXPIRED,  # expired by self-trade prevention
}
_MARKET_TYPES = frozenset({"MARKET", "STOP_LOSS", "TAKE_PROFIT", "STOP_MARKET",
                           "TAKE_PROFIT_MARKET", "TRAILING_STOP_MARKET", "LIQUIDATION"})
_TIF = {"GTC": TimeInForce.GTC, "IOC": TimeInForce.IOC, "FOK": TimeInForce.FOK}


def _order_type(value: str) -> OrderType:
    return OrderType.MARKET if value in _MARKET_TYPES else OrderType.LIMIT


def _tif(value: str | None) -> TimeInForce:
    return _TIF.get(value or "GTC", TimeInForce.GTC)


def unwrap(msg: Any) -> dict[str, Any]:
    """The event of a bare, WS-API-subscription or combined-stream frame."""
    if isinstance(msg, dict):
        if isinstance(msg.get("event"), dict) and "subscriptionId" in msg:
            return msg["event"]
        if isinstance(msg.get("data"), dict) and "stream" in msg:
            return msg["data"]
    if not isinstance(msg, dict):
        raise TypeError(f"a user-data frame is an object, not {type(msg).__name__}")
    return msg


def event_type(raw: Raw) -> str | None:
    """The frame's event type (`e`), e.g. to renew the listen key on `listenKeyExpired`."""
    try:
        event = unwrap(parse(raw)).get("e")
    except (*PARSE_ERRORS, MalformedMessage):
        return None
    return event if isinstance(event, str) else None


@dataclass(frozen=True, slots=True)
class BalanceDelta:
    asset: str
    delta: str
    clear_ts: int  # microseconds
    exchange_ts: int


def balance_delta(raw: Raw) -> BalanceDelta:
    """A spot `balanceUpdate` read as what it is: a delta (not published, see the docstring)."""
    try:
        data = unwrap(parse(raw))
        return BalanceDelta(data["a"], str(data["d"]), us(data["T"]), us(data["E"]))
    except PARSE_ERRORS as exc:
        raise malformed(raw, exc) from None


class _BinancePrivate(BaseNormalizer):
    def __init__(self, symbols: Any = None) -> None:
        super().__init__(symbols)
        self._handlers: dict[str, Callable[[dict[str, Any], int], list[Event]]] = {}

    def __call__(self, raw: Raw, receive_ts: int) -> list[Event]:
        msg = parse(raw)
        try:
            data = unwrap(msg)
            handler = self._handlers.get(data.get("e", ""))
            return handler(data, receive_ts) if handler is not None else []
        except PARSE_ERRORS as exc:
            raise malformed(raw, exc) from None

    def _fill(self, native: str, exchange_ts: int, receive_ts: int, client_order_id: str,
              order_id: str, side: Side, d: dict[str, Any]) -> Fill:
        return Fill(
            venue=self.venue, symbol=self.symbol(native), native_symbol=native,
            exchange_ts=exchange_ts, receive_ts=receive_ts, client_order_id=client_order_id,
            order_id=order_id, trade_id=str(d["t"]), side=side, price=str(d["L"]),
            qty=str(d["l"]), fee=str(d["n"]), fee_currency=d.get("N") or "",
            is_maker=bool(d["m"]))


class BinanceSpotPrivateNormalizer(_BinancePrivate):
    venue = "binance"

    def __init__(self, symbols: Any = None) -> None:
        super().__init__(symbols)
        self._handlers = {
            "executionReport": self.execution_report,
            "outboundAccountPosition": self.account_position,
        }

    def execution_report(self, d: dict[str, Any], receive_ts: int) -> list[Event]:
        native = d["s"]
        client_order_id = d.get("C") or d["c"]
        order_id, side = str(d["i"]), Side(d["S"])
        exchange_ts = us(d.get("T") or d["E"])
        reject = d.get("r") or "NONE"
        update = OrderUpdate(
            venue=self.venue, symbol=self.symbol(native), native_symbol=native,
            exchange_ts=exchange_ts, receive_ts=receive_ts, client_order_id=client_order_id,
            order_id=order_id, side=side, order_type=_order_type(d["o"]),
            time_in_force=_tif(d.get("f")), status=_STATUS[d["X"]], price=nonzero(d["p"]),
            qty=str(d["q"]), filled_qty=str(d["z"]), avg_price=average(d["Z"], d["z"]),
            created_ts=us(d["O"]) if d.get("O") else exchange_ts,
            reason="" if reject == "NONE" else reject)
        if d["x"] != "TRADE":
            return [update]
        return [update, self._fill(native, exchange_ts, receive_ts, client_order_id, order_id,
                                   side, d)]

    def account_position(self, d: dict[str, Any], receive_ts: int) -> list[Event]:
        balances = [Balance(asset=b["a"], total=add(b["f"], b["l"]), available=str(b["f"]),
                            locked=str(b["l"])) for b in d["B"]]
        return [Wallet(venue=self.venue, symbol="", exchange_ts=us(d.get("u") or d["E"]),
                       receive_ts=receive_ts, account_type="SPOT", balances=balances,
                       is_snapshot=False)]


class BinanceUsdmPrivateNormalizer(_BinancePrivate):
    venue = "binance_usdm"

    def __init__(self, symbols: Any = None) -> None:
        super().__init__(symbols)
        self._handlers = {
            "ORDER_TRADE_UPDATE": self.order_trade_update,
            "ACCOUNT_UPDATE": self.account_update,
        }

    def order_trade_update(self, data: dict[str, Any], receive_ts: int) -> list[Event]:
        d = data["o"]
        native = d["s"]
        client_order_id, order_id, side = d["c"], str(d["i"]), Side(d["S"])
        exchange_ts = us(d.get("T") or data.get("T") or data["E"])
        expire = str(d.get("er") or "0")
        status = _STATUS[d["X"]]
        update = OrderUpdate(
            venue=self.venue, symbol=self.symbol(native), native_symbol=native,
            exchange_ts=exchange_ts, receive_ts=receive_ts, client_order_id=client_order_id,
            order_id=order_id, side=side, order_type=_order_type(d["o"]),
            time_in_force=_tif(d.get("f")), status=status, price=nonzero(d["p"]),
            qty=str(d["q"]), filled_qty=str(d["z"]),
            avg_price=None if is_zero(d["z"]) else nonzero(d.get("ap")),
            reduce_only=bool(d.get("R", False)),
            created_ts=exchange_ts if d["x"] == "NEW" else 0,
            reason=f"expire reason {expire}" if status is OrderStatus.EXPIRED and expire != "0"
            else "")
        if d["x"] != "TRADE":
            return [update]
        return [update, self._fill(native, exchange_ts, receive_ts, client_order_id, order_id,
                                   side, d)]

    def account_update(self, data: dict[str, Any], receive_ts: int) -> list[Event]:
        a = data["a"]
        exchange_ts = us(data.get("T") or data["E"])
        events: list[Event] = [Wallet(
            venue=self.venue, symbol="", exchange_ts=exchange_ts, receive_ts=receive_ts,
            account_type="USDM",
            balances=[Balance(asset=b["a"], total=str(b["wb"]), available=str(b["cw"]))
                      for b in a.get("B", [])],
            is_snapshot=False)]
        for p in a.get("P", []):
            native, amount = p["s"], str(p["pa"])
            hedge = p.get("ps", "BOTH")
            if hedge in ("LONG", "SHORT"):
                side = PositionSide(hedge)
            else:
                side = (PositionSide.FLAT if is_zero(amount) else PositionSide.SHORT
                        if amount.startswith("-") else PositionSide.LONG)
            events.append(PositionUpdate(
                venue=self.venue, symbol=self.symbol(native), native_symbol=native,
                exchange_ts=exchange_ts, receive_ts=receive_ts, side=side,
                size=unsigned(amount), entry_price=nonzero(p.get("ep")),
                unrealized_pnl=str(p["up"]), realized_pnl=str(p["cr"])))
        return events


def spot_account_wallet(body: dict[str, Any], receive_ts: int, venue: str = "binance",
                        include_zero: bool = False) -> Wallet:
    """`GET /api/v3/account` -> a full Wallet snapshot (zero balances left out by default)."""
    try:
        balances = [Balance(asset=b["asset"], total=add(b["free"], b["locked"]),
                            available=str(b["free"]), locked=str(b["locked"]))
                    for b in body["balances"]
                    if include_zero or not (is_zero(b["free"]) and is_zero(b["locked"]))]
        return Wallet(venue=venue, symbol="", exchange_ts=us(body["updateTime"]),
                      receive_ts=receive_ts, account_type=body.get("accountType", "SPOT"),
                      balances=balances, is_snapshot=True)
    except PARSE_ERRORS as exc:
        raise malformed(body, exc) from None
