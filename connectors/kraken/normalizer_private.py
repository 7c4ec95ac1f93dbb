"""Kraken spot WS v2 private messages and private REST bodies -> events.

`executions` (snapshot: open orders; updates: one report per event) -> OrderUpdate, plus a
Fill for `exec_type: trade`. Kraken's reports carry only the fields of their event (a `trade`
has last_qty / last_price / fees but no order_qty or limit_price; an `amended` has the new
order_qty / limit_price): the normalizer keeps each open order's last known fields and merges
every report into them, forgetting the order once it is closed. exec_type pending_new, new,
trade, filled, canceled, expired, amended, restated; order_status pending_new | new -> NEW,
partially_filled, filled, canceled, expired. Numbers are JSON numbers, read as their exact text
(`float_hook=str`, never a float). Fill: trade_id (the pair's trade id; exec_id when absent),
last_price, last_qty, fees[0] (asset, qty: what was paid), liquidity_ind m = maker.
`balances` pushes carry an asset's total only (no hold): they produce no event here; the
private stream re-reads BalanceEx (balance and hold_trade) on each and publishes that.
Method answers and status / heartbeat / pong -> nothing; a failed answer raises
ExchangeMessageError.

REST: OpenOrders / ClosedOrders (`{"open"|"closed": {txid: order}}`: status pending | open |
closed | canceled | expired, vol, vol_exec, price = average, descr.price = limit, oflags "post"
= post-only, cl_ord_id) -> OrderUpdates; BalanceEx (`{asset: {balance, hold_trade}}`, REST's
legacy asset codes: XXBT -> BTC, ZUSD -> USD) -> one Wallet snapshot.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import msgspec

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
from ttxt_kafka.orders.normalize import PARSE_ERRORS, plain

from ..base.errors import ExchangeMessageError, MalformedMessage
from ..base.normalizer import BaseNormalizer, Raw, malformed
from ..base.symbols import SymbolMap
from . import endpoints as ep
from .normalizer_spot import rfc3339_us

_decode = msgspec.json.Decoder(float_hook=str).decode
_SIDES = {"buy": Side.BUY, "sell": Side.SELL}
_TYPES = {"limit": OrderType.LIMIT, "market": OrderType.MARKET}
_TIF = {"gtc": TimeInForce.GTC, "ioc": TimeInForce.IOC, "fok": TimeInForce.FOK,
        "gtd": TimeInForce.GTC}
_STATUS = {"pending_new": OrderStatus.NEW, "new": OrderStatus.NEW,
           "partially_filled": OrderStatus.PARTIALLY_FILLED, "filled": OrderStatus.FILLED,
           "canceled": OrderStatus.CANCELED, "expired": OrderStatus.EXPIRED}
_CLOSED = (OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.EXPIRED)
_REST_STATUS = {"pending": OrderStatus.NEW, "open": OrderStatus.NEW,
                "closed": OrderStatus.FILLED, "canceled": OrderStatus.CANCELED,
                "expired": OrderStatus.EXPIRED}


def num(value: Any) -> str:
    """A JSON number's exact text (the decoder gives str for non-integers, int for integers);
    a REST decimal string as it is."""
    if type(value) is int:
        return str(value)
    if isinstance(value, str) and value[:1] in "-0123456789":
        if "e" in value.lower():
            return plain(Decimal(value))
        Decimal(value)  # raises on text that is not a number
        return value
    raise ValueError(f"{value!r} is not a number")


def asset_name(code: str) -> str:
    """REST's legacy asset codes (XXBT, ZUSD) as WS v2 names them (BTC, USD)."""
    return ep.LEGACY_ASSETS.get(code) or ep.V2_ASSETS.get(code, code)


class KrakenPrivateNormalizer(BaseNormalizer):
    venue = "kraken_spot"
    exchange = "kraken"

    def __init__(self, symbols: SymbolMap | Mapping[str, str] | None = None) -> None:
        super().__init__(symbols)
        self._orders: dict[str, dict[str, Any]] = {}  # open orders' last known fields
        self._by_pair = {ep.rest_pair(n): n for n in self._names}  # REST altname -> v2

    def symbol(self, native: str) -> str:
        return self._names.get(native) or native  # v2 symbols are already BASE/QUOTE

    def __call__(self, raw: Raw, receive_ts: int) -> list[Event]:
        try:
            msg = _decode(raw) if isinstance(raw, str | bytes | bytearray) else raw
        except msgspec.DecodeError as exc:
            raise MalformedMessage(f"not JSON ({exc}): {str(raw)[:120]}") from None
        if not isinstance(msg, Mapping):
            raise MalformedMessage(f"kraken message is not an object: {str(raw)[:120]}")
        channel = msg.get("channel")
        try:
            if channel == ep.EXECUTIONS:
                out: list[Event] = []
                for item in msg["data"]:
                    out += self.execution(item, receive_ts)
                return out
        except PARSE_ERRORS as exc:
            raise malformed(raw, exc) from None
        if channel in (ep.BALANCES, "status", "heartbeat"):
            return []
        if "method" in msg:
            if msg.get("success") is False:
                raise ExchangeMessageError(self.exchange, str(msg.get("method")),
                                           str(msg.get("error", "")))
            return []
        raise MalformedMessage(f"unknown kraken private message: {str(raw)[:120]}")

    def execution(self, item: Mapping[str, Any], receive_ts: int) -> list[Event]:
        order_id = str(item["order_id"])
        known = self._orders.setdefault(order_id, {})
        if item["exec_type"] == "trade" and "cum_qty" not in item:
            # no running total in this report: add the trade to what was known
            known["cum_qty"] = plain(Decimal(num(known.get("cum_qty", 0)))
                                     + Decimal(num(item["last_qty"])))
        known.update((k, v) for k, v in item.items() if v is not None)
        ts = rfc3339_us(item["timestamp"])
        out: list[Event] = []
        if item["exec_type"] == "trade":
            out.append(self.fill(item, known, ts, receive_ts))
        update = self.order(order_id, known, ts, receive_ts)
        if update is not None:
            out.append(update)
        if _STATUS.get(known.get("order_status", "")) in _CLOSED:
            self._orders.pop(order_id, None)
        return out

    def fill(self, item: Mapping[str, Any], known: Mapping[str, Any], ts: int,
             receive_ts: int) -> Fill:
        native = known["symbol"]
        fees = item.get("fees") or [{"asset": "", "qty": 0}]
        return Fill(
            venue=self.venue, symbol=self.symbol(native), native_symbol=native,
            exchange_ts=ts, receive_ts=receive_ts,
            client_order_id=str(known.get("cl_ord_id") or ""), order_id=str(item["order_id"]),
            trade_id=str(item.get("trade_id") or item["exec_id"]), side=_SIDES[known["side"]],
            price=num(item["last_price"]), qty=num(item["last_qty"]), fee=num(fees[0]["qty"]),
            fee_currency=str(fees[0]["asset"]), is_maker=item.get("liquidity_ind") == "m")

    def order(self, order_id: str, known: Mapping[str, Any], ts: int,
              receive_ts: int) -> OrderUpdate | None:
        """The order's state from what is known; None while its reports lacked its shape (an
        order placed before the snapshot and closed since: its fill still goes out)."""
        if not {"symbol", "side", "order_type", "order_qty", "order_status"} <= known.keys():
            return None
        native = known["symbol"]
        order_type = _TYPES[known["order_type"]]
        avg = known.get("avg_price")
        return OrderUpdate(
            venue=self.venue, symbol=self.symbol(native), native_symbol=native,
            exchange_ts=ts, receive_ts=receive_ts,
            client_order_id=str(known.get("cl_ord_id") or ""), order_id=order_id,
            side=_SIDES[known["side"]], order_type=order_type,
            time_in_force=_TIF.get(str(known.get("time_in_force", "gtc")).lower(),
                                   TimeInForce.GTC),
            status=_STATUS[known["order_status"]],
            price=(num(known["limit_price"]) if order_type is OrderType.LIMIT
                   and "limit_price" in known else None),
            qty=num(known["order_qty"]), filled_qty=num(known.get("cum_qty", 0)),
            avg_price=num(avg) if avg is not None and Decimal(num(avg)) else None,
            created_ts=ts, reason=str(known.get("reason") or ""))

    # ------------------------------------------------------------------ REST

    def rest_order(self, order_id: str, d: Mapping[str, Any], receive_ts: int) -> OrderUpdate:
        descr = d["descr"]
        native = self._by_pair.get(descr["pair"], descr["pair"])
        order_type = _TYPES[descr["ordertype"]]
        qty, filled = num(d["vol"]), num(d.get("vol_exec") or "0")
        status = _REST_STATUS[d["status"]]
        if status is OrderStatus.NEW and Decimal(filled) > 0:
            status = OrderStatus.PARTIALLY_FILLED
        opened = _seconds_us(d["opentm"])
        closed = d.get("closetm")
        return OrderUpdate(
            venue=self.venue, symbol=self.symbol(native), native_symbol=native,
            exchange_ts=_seconds_us(closed) if closed else opened,
            receive_ts=receive_ts, client_order_id=str(d.get("cl_ord_id") or ""),
            order_id=order_id, side=_SIDES[descr["type"]], order_type=order_type,
            time_in_force=TimeInForce.GTC, status=status,
            price=num(descr["price"]) if order_type is OrderType.LIMIT else None,
            qty=qty, filled_qty=filled,
            avg_price=num(d["price"]) if Decimal(filled) > 0 and d.get("price") else None,
            created_ts=opened, reason=str(d.get("reason") or ""))


def _seconds_us(value: Any) -> int:
    """REST's opentm / closetm (seconds with 4 decimals; a time, not a price: a float that the
    JSON parser made is fine here) -> microseconds."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"{value!r} is not a time")
    return int(Decimal(str(value)) * 1_000_000)


def _result(body: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(body, Mapping):
        raise MalformedMessage(f"kraken {what}: not an object")
    if body.get("error"):
        raise ExchangeMessageError("kraken", what, str(body["error"][0]))
    result = body.get("result")
    if not isinstance(result, Mapping):
        raise MalformedMessage(f"kraken {what}: no result")
    return result


def orders_from_rest(body: Any, normalizer: KrakenPrivateNormalizer,
                     receive_ts: int) -> list[OrderUpdate]:
    """OpenOrders (`result.open`) or ClosedOrders (`result.closed`) -> OrderUpdates."""
    result = _result(body, "orders")
    try:
        orders = result.get("open") or result.get("closed") or {}
        return [normalizer.rest_order(txid, d, receive_ts) for txid, d in orders.items()]
    except PARSE_ERRORS as exc:
        raise malformed(str(body)[:200], exc) from None


def wallet_from_rest(body: Any, receive_ts: int, venue: str) -> Wallet:
    """BalanceEx -> one Wallet snapshot (available = balance - hold_trade)."""
    result = _result(body, "BalanceEx")
    try:
        balances = []
        for code, b in sorted(result.items()):
            if "." in code:
                continue  # staking / earn sub-balances (XBT.M, ETH.F): not spot funds
            total, hold = Decimal(num(b["balance"])), Decimal(num(b.get("hold_trade") or "0"))
            balances.append(Balance(asset=asset_name(code), total=plain(total),
                                    available=plain(total - hold), locked=plain(hold)))
        return Wallet(venue=venue, symbol="", exchange_ts=receive_ts, receive_ts=receive_ts,
                      account_type="spot", balances=balances, is_snapshot=True)
    except PARSE_ERRORS as exc:
        raise malformed(str(body)[:200], exc) from None
