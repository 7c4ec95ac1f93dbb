"""Matching-engine output as the platform's events: what a venue's private stream would say.

One place for the mapping, shared by everything that runs the engine in place of an exchange
(backtests, paper trading): the same semantics as the private normalizers give live —

* per order report (`OrderAccepted`, `OrderUpdated`) one `OrderUpdate` with the order's whole
  state (status, filled quantity, average price, the engine's reason for an expiry);
* per fill one `Fill`, right after the `OrderUpdate` of the trade that made it (the engine
  emits the trade first; exchanges put the order report first, e.g. Binance's executionReport);
* per call one incremental `Wallet` with every balance the call changed (spot: total = free +
  locked; linear: total = wallet balance, locked = margin in use);
* per changed linear position one `PositionUpdate` (one-way mode: LONG / SHORT / FLAT, size
  unsigned).

`exchange_ts` is the engine's time of the call (the clock it was given: the exchange clock in a
backtest, wall time in paper trading); `receive_ts` is when the caller says the report arrives.
Engine symbols are whatever the caller keyed its instruments by (the native symbol, usually):
`names` turns one into (normalized symbol, native symbol).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal

from ttxt_kafka.events import (
    Balance,
    Event,
    Fill,
    OrderUpdate,
    PositionSide,
    PositionUpdate,
    Wallet,
)

from .events import (
    BalanceChanged,
    EngineEvent,
    OrderAccepted,
    OrderUpdated,
    PositionChanged,
    TradeFill,
)
from .model import OrderState

Names = Callable[[str], tuple[str, str]]  # engine symbol -> (symbol, native_symbol)


def plain(value: Decimal) -> str:
    """A Decimal as a plain decimal string (no exponent): the wire form of prices."""
    return format(value, "f")


def same_names(symbol: str) -> tuple[str, str]:
    return symbol, symbol


def platform_events(events: Iterable[EngineEvent], *, venue: str, receive_ts: int,
                    names: Names = same_names, account_type: str = "") -> list[Event]:
    """The platform events of one engine call, in the order a venue would publish them."""
    out: list[Event] = []
    fills: dict[int, TradeFill] = {}
    balances: list[BalanceChanged] = []
    positions: list[PositionChanged] = []
    for ev in events:
        if isinstance(ev, TradeFill):
            fills[ev.order_id] = ev
        elif isinstance(ev, OrderAccepted | OrderUpdated):
            reason = ev.reason.value if isinstance(ev, OrderUpdated) and ev.reason else ""
            out.append(order_update(ev.order, venue=venue, receive_ts=receive_ts, names=names,
                                    reason=reason))
            fill = fills.pop(ev.order.order_id, None)
            if fill is not None and isinstance(ev, OrderUpdated):
                out.append(fill_event(fill, venue=venue, receive_ts=receive_ts, names=names))
        elif isinstance(ev, BalanceChanged):
            balances.append(ev)
        elif isinstance(ev, PositionChanged):
            positions.append(ev)
    if balances:
        out.append(wallet(balances, venue=venue, receive_ts=receive_ts,
                          account_type=account_type))
    out += [position_update(p, venue=venue, receive_ts=receive_ts, names=names)
            for p in positions]
    return out


def order_update(o: OrderState, *, venue: str, receive_ts: int, names: Names = same_names,
                 reason: str = "") -> OrderUpdate:
    symbol, native = names(o.symbol)
    avg = o.cum_quote / o.filled_qty if o.filled_qty else None
    return OrderUpdate(
        venue=venue, symbol=symbol, native_symbol=native, exchange_ts=o.updated_ts,
        receive_ts=receive_ts, client_order_id=o.client_order_id, order_id=str(o.order_id),
        side=o.side, order_type=o.order_type, time_in_force=o.time_in_force, status=o.status,
        price=plain(o.price) if o.price is not None else None, qty=plain(o.qty),
        filled_qty=plain(o.filled_qty), avg_price=plain(avg) if avg is not None else None,
        reduce_only=o.reduce_only, created_ts=o.created_ts, reason=reason)


def fill_event(f: TradeFill, *, venue: str, receive_ts: int,
               names: Names = same_names) -> Fill:
    symbol, native = names(f.symbol)
    return Fill(venue=venue, symbol=symbol, native_symbol=native, exchange_ts=f.ts,
                receive_ts=receive_ts, client_order_id=f.client_order_id,
                order_id=str(f.order_id), trade_id=str(f.trade_id), side=f.side,
                price=plain(f.price), qty=plain(f.qty), fee=plain(f.fee),
                fee_currency=f.fee_asset, is_maker=f.is_maker)


def balance(asset: str, total: Decimal, available: Decimal, locked: Decimal) -> Balance:
    return Balance(asset=asset, total=plain(total), available=plain(available),
                   locked=plain(locked))


def wallet(changes: list[BalanceChanged], *, venue: str, receive_ts: int,
           account_type: str = "", is_snapshot: bool = False) -> Wallet:
    return Wallet(venue=venue, symbol="", exchange_ts=changes[-1].ts, receive_ts=receive_ts,
                  account_type=account_type, is_snapshot=is_snapshot,
                  balances=[balance(b.asset, b.total, b.available, b.locked) for b in changes])


def position_update(p: PositionChanged, *, venue: str, receive_ts: int,
                    names: Names = same_names) -> PositionUpdate:
    symbol, native = names(p.symbol)
    side = (PositionSide.LONG if p.size > 0 else PositionSide.SHORT if p.size < 0
            else PositionSide.FLAT)
    return PositionUpdate(
        venue=venue, symbol=symbol, native_symbol=native, exchange_ts=p.ts,
        receive_ts=receive_ts, side=side, size=plain(abs(p.size)),
        entry_price=plain(p.entry_price) if p.entry_price is not None else None,
        mark_price=plain(p.mark_price) if p.mark_price is not None else None,
        unrealized_pnl=plain(p.unrealized_pnl), realized_pnl=plain(p.realized_pnl),
        leverage=plain(p.leverage))
