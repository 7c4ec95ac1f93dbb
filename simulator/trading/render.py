"""Formatting shared by the venue renderers: exact decimals, times, grouping engine events."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from ttxt_kafka.matching import (
    BalanceChanged,
    EngineEvent,
    OrderAccepted,
    OrderUpdated,
    PositionChanged,
    TradeFill,
)

EIGHT = Decimal("1e-8")


def plain(value: Decimal | None) -> str:
    """Plain notation, trailing zeros of the fraction dropped ("0" for None)."""
    if value is None:
        return "0"
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"


def fixed8(value: Decimal | None) -> str:
    """Binance spot's 8 decimals ("0.10264410"), never rounded: more digits stay."""
    if value is None:
        return "0.00000000"
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent >= -8:
        return format(value.quantize(EIGHT), "f")
    return format(value, "f")


def ms(ts_us: int) -> int:
    return ts_us // 1000


@dataclass
class Batch:
    """One engine call's events, regrouped: each order report with the trade that caused it."""

    reports: list[tuple[EngineEvent, TradeFill | None]] = field(default_factory=list)
    balances: list[BalanceChanged] = field(default_factory=list)
    positions: list[PositionChanged] = field(default_factory=list)
    fills: list[TradeFill] = field(default_factory=list)


def regroup(events: list[EngineEvent], account: str) -> Batch:
    """The account's own events; an OrderUpdated(TRADE) is paired with the TradeFill before it."""
    batch = Batch()
    pending: dict[int, TradeFill] = {}
    for ev in events:
        if isinstance(ev, TradeFill):
            if ev.account == account:
                pending[ev.order_id] = ev
                batch.fills.append(ev)
        elif isinstance(ev, OrderAccepted | OrderUpdated):
            if ev.order.account == account:
                trade = pending.pop(ev.order.order_id, None) if isinstance(
                    ev, OrderUpdated) else None
                batch.reports.append((ev, trade))
        elif isinstance(ev, BalanceChanged):
            if ev.account == account:
                batch.balances.append(ev)
        elif isinstance(ev, PositionChanged) and ev.account == account:
            batch.positions.append(ev)
    return batch
