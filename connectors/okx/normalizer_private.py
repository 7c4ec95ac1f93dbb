"""OKX v5 private stream and trading REST bodies -> events: pure functions.

Private WS pushes `{"arg": {"channel", "instType", "uid"}, "data": [...]}`:

  orders -> OrderUpdate per item, and a Fill when the item reports a trade (`tradeId` with
      `fillPx`, `fillSz`, `fillFee` (else `fee`), `fillFeeCcy`, `execType` T taker / M maker).
      State: live -> NEW, partially_filled -> PARTIALLY_FILLED, filled -> FILLED,
      canceled/mmp_canceled -> CANCELED. ordType post_only -> GTC (post-only), ioc / fok / market
      as they say. OKX's fees are signed (negative: paid): Fill.fee is what was paid ("-0.1" ->
      "0.1"; a rebate is negative).
  account -> Wallet (each `details` item: ccy, cashBal = total, availBal, frozenBal = locked).
  positions -> PositionUpdate per item (pos signed in net mode, posSide long/short otherwise;
      avgPx, markPx, upl, realizedPnl, lever, liqPx).
  event frames (login, subscribe, channel-conn-count) -> nothing; `event: error` raises
      ExchangeMessageError.
Swap sizes (sz, accFillSz, fillSz, pos) are contracts on the wire; events carry base
quantities (contracts x the instrument's `ctVal`), as the commands give them. REST: the order
query / pending orders items are the same order objects; `wallet_from_rest` and
`positions_from_rest` read GET /api/v5/account/balance and /api/v5/account/positions.
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
from ttxt_kafka.orders.normalize import PARSE_ERRORS, is_zero, nonzero, unsigned, us

from ..base.errors import ExchangeMessageError
from ..base.normalizer import BaseNormalizer, Raw, malformed, parse
from ..base.symbols import SymbolMap

_SIDES = {"buy": Side.BUY, "sell": Side.SELL}
_STATUS = {
    "live": OrderStatus.NEW, "partially_filled": OrderStatus.PARTIALLY_FILLED,
    "filled": OrderStatus.FILLED, "canceled": OrderStatus.CANCELED,
    "mmp_canceled": OrderStatus.CANCELED,
}
_TIF = {"limit": TimeInForce.GTC, "post_only": TimeInForce.GTC, "ioc": TimeInForce.IOC,
        "fok": TimeInForce.FOK, "market": TimeInForce.IOC, "optimal_limit_ioc": TimeInForce.IOC}


def paid(fee: str) -> str:
    """OKX's signed fee (negative: paid) as the fee paid (positive)."""
    if is_zero(fee):
        return "0"
    return unsigned(fee) if fee.startswith("-") else f"-{fee}"


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"


class OkxPrivateNormalizer(BaseNormalizer):
    venue = "okx_spot"

    def __init__(self, symbols: SymbolMap | None = None, account_venue: str | None = None,
                 contract_sizes: dict[str, str] | None = None) -> None:
        super().__init__(symbols)
        if account_venue is not None:
            self.venue = account_venue
        self._symbols = symbols  # read when needed: instruments may load after we are made
        self._ct = {native: Decimal(ct) for native, ct in (contract_sizes or {}).items()}

    def _contract(self, native: str) -> Decimal | None:
        ct = self._ct.get(native)
        if ct is None and self._symbols is not None:
            info = self._symbols.instruments.get(self._symbols.normalized(native))
            if info is not None and info.contract_size:
                ct = self._ct[native] = Decimal(info.contract_size)
        return ct

    def symbol(self, native: str) -> str:
        if self._symbols is not None and native in self._symbols.to_normalized:
            return self._symbols.to_normalized[native]
        name = self._names.get(native)
        if name is None:
            parts = native.split("-")
            name = self._names[native] = f"{parts[0]}/{parts[1]}" if len(parts) > 1 else native
        return name

    def base(self, native: str, size: str) -> str:
        """A size on the wire (contracts for swaps) as a base quantity."""
        ct = self._contract(native)
        if ct is None or is_zero(size):
            return size if size else "0"
        return _plain(Decimal(size) * ct)

    def __call__(self, raw: Raw, receive_ts: int) -> list[Event]:
        if raw == "pong" or raw == b"pong":
            return []
        msg = parse(raw)
        try:
            if not isinstance(msg, dict):
                raise TypeError("not a JSON object")
            if "event" in msg:
                if msg["event"] == "error":
                    raise ExchangeMessageError("okx", str(msg.get("code")), str(msg.get("msg")))
                return []
            channel, items = msg["arg"]["channel"], msg["data"]
            if channel == "orders":
                out: list[Event] = []
                for d in items:
                    out.append(self.order(d, receive_ts))
                    if d.get("tradeId") and not is_zero(d.get("fillSz")):
                        out.append(self.fill(d, receive_ts))
                return out
            if channel == "account":
                return [self.wallet(a, receive_ts, snapshot=False) for a in items]
            if channel == "positions":
                return [self.position(d, receive_ts) for d in items]
            return []
        except PARSE_ERRORS as exc:
            raise malformed(raw, exc) from None

    def order(self, d: dict[str, Any], receive_ts: int) -> OrderUpdate:
        native = d["instId"]
        kind = d["ordType"]
        order_type = OrderType.MARKET if kind == "market" else OrderType.LIMIT
        return OrderUpdate(
            venue=self.venue, symbol=self.symbol(native), native_symbol=native,
            exchange_ts=us(d["uTime"]), receive_ts=receive_ts,
            client_order_id=d.get("clOrdId") or "", order_id=str(d["ordId"]),
            side=_SIDES[d["side"]], order_type=order_type,
            time_in_force=_TIF.get(kind, TimeInForce.GTC), status=_STATUS[d["state"]],
            price=None if order_type is OrderType.MARKET else nonzero(d.get("px")),
            qty=self.base(native, d["sz"]), filled_qty=self.base(native, d.get("accFillSz") or "0"),
            avg_price=nonzero(d.get("avgPx")),
            reduce_only=str(d.get("reduceOnly", "false")).lower() == "true",
            created_ts=us(d["cTime"]), reason=d.get("cancelSourceReason") or "")

    def fill(self, d: dict[str, Any], receive_ts: int) -> Fill:
        native = d["instId"]
        fee = d.get("fillFee")
        return Fill(
            venue=self.venue, symbol=self.symbol(native), native_symbol=native,
            exchange_ts=us(d.get("fillTime") or d["uTime"]), receive_ts=receive_ts,
            client_order_id=d.get("clOrdId") or "", order_id=str(d["ordId"]),
            trade_id=str(d["tradeId"]), side=_SIDES[d["side"]], price=d["fillPx"],
            qty=self.base(native, d["fillSz"]),
            fee=paid(fee if fee not in (None, "") else d.get("fee") or "0"),
            fee_currency=d.get("fillFeeCcy") or d.get("feeCcy") or "",
            is_maker=str(d.get("execType", "T")).upper().startswith("M"))

    def wallet(self, account: dict[str, Any], receive_ts: int, *, snapshot: bool) -> Wallet:
        details = account.get("details") or []
        updated = account.get("uTime")
        return Wallet(venue=self.venue, symbol="", exchange_ts=us(updated) if updated else
                      receive_ts, receive_ts=receive_ts, account_type="unified",
                      balances=[_balance(c) for c in details], is_snapshot=snapshot)

    def position(self, d: dict[str, Any], receive_ts: int) -> PositionUpdate:
        native = d["instId"]
        pos = d.get("pos") or "0"
        if is_zero(pos):
            side = PositionSide.FLAT
        elif d.get("posSide") in ("long", "short"):
            side = PositionSide.LONG if d["posSide"] == "long" else PositionSide.SHORT
        else:  # net mode: the sign says
            side = PositionSide.SHORT if pos.startswith("-") else PositionSide.LONG
        updated = d.get("uTime")
        return PositionUpdate(
            venue=self.venue, symbol=self.symbol(native), native_symbol=native,
            exchange_ts=us(updated) if updated else receive_ts, receive_ts=receive_ts,
            side=side, size=self.base(native, unsigned(pos)), entry_price=nonzero(d.get("avgPx")),
            mark_price=nonzero(d.get("markPx")), unrealized_pnl=d.get("upl") or None,
            realized_pnl=d.get("realizedPnl") or None, leverage=nonzero(d.get("lever")),
            liquidation_price=nonzero(d.get("liqPx")))


def _balance(c: dict[str, Any]) -> Balance:
    available = c.get("availBal") or "0"
    locked = c.get("frozenBal") or "0"
    total = c.get("cashBal") or c.get("eq") or _plain(Decimal(available) + Decimal(locked))
    return Balance(asset=c["ccy"], total=total, available=available, locked=locked)


def _data(body: Any) -> Any:
    if not isinstance(body, dict) or str(body.get("code")) != "0":
        code = body.get("code") if isinstance(body, dict) else "?"
        msg = body.get("msg") if isinstance(body, dict) else str(body)[:100]
        raise ExchangeMessageError("okx", str(code), str(msg))
    return body["data"]


def wallet_from_rest(body: Any, normalizer: OkxPrivateNormalizer,
                     receive_ts: int) -> list[Wallet]:
    """GET /api/v5/account/balance -> one Wallet snapshot."""
    try:
        return [normalizer.wallet(a, receive_ts, snapshot=True) for a in _data(body)[:1]]
    except PARSE_ERRORS as exc:
        raise malformed(body, exc) from None


def orders_from_rest(body: Any, normalizer: OkxPrivateNormalizer,
                     receive_ts: int) -> list[OrderUpdate]:
    """GET /api/v5/trade/order or /api/v5/trade/orders-pending."""
    try:
        return [normalizer.order(d, receive_ts) for d in _data(body) or []]
    except PARSE_ERRORS as exc:
        raise malformed(body, exc) from None


def positions_from_rest(body: Any, normalizer: OkxPrivateNormalizer,
                        receive_ts: int) -> list[PositionUpdate]:
    try:
        return [normalizer.position(d, receive_ts) for d in _data(body) or []]
    except PARSE_ERRORS as exc:
        raise malformed(body, exc) from None
