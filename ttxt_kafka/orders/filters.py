"""An instrument's pre-trade filters (tick, lot, min/max quantity, min notional), checked in one
place for everyone who checks them: the connector's command validation, paper trading, the
simulator's exchange and backtests (the matching engine). Each check returns the reason an
order breaks the filter, or None."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ttxt_kafka.events import InstrumentInfo


def _step(text: str | None) -> Decimal | None:
    """An instrument's filter value as received ("" or 0: the exchange sets none)."""
    if text is None or text == "":
        return None
    value = Decimal(text)
    return value if value > 0 else None


@dataclass(frozen=True, slots=True)
class Filters:
    tick_size: Decimal | None = None
    lot_size: Decimal | None = None
    min_qty: Decimal | None = None
    max_qty: Decimal | None = None
    min_notional: Decimal | None = None

    @classmethod
    def of(cls, info: InstrumentInfo) -> Filters:
        return cls(_step(info.tick_size), _step(info.lot_size), _step(info.min_qty),
                   _step(info.max_qty), _step(info.min_notional))


def unreasonable(value: Decimal) -> bool:
    """More digits than any exchange sends: refused before exact arithmetic could overflow."""
    exponent = value.as_tuple().exponent
    return not isinstance(exponent, int) or value.adjusted() > 30 or exponent < -30


def amount_problem(name: str, value: Decimal) -> str | None:
    """A price or quantity that is not a sensible positive number."""
    if not value.is_finite() or value <= 0:
        return f"{name} {value} must be positive"
    if unreasonable(value):
        return f"{name} {value} has too many digits"
    return None


def price_problem(name: str, price: Decimal, filters: Filters) -> str | None:
    tick = filters.tick_size
    if tick is not None and price % tick:
        return f"{name} {price} is not a multiple of tick {tick}"
    return None


def qty_problem(name: str, qty: Decimal, filters: Filters) -> str | None:
    lot, low, high = filters.lot_size, filters.min_qty, filters.max_qty
    if lot is not None and qty % lot:
        return f"{name} {qty} is not a multiple of lot size {lot}"
    if low is not None and qty < low:
        return f"{name} {qty} is below the minimum {low}"
    if high is not None and qty > high:
        return f"{name} {qty} is above the maximum {high}"
    return None


def notional_problem(qty: Decimal, price: Decimal, filters: Filters) -> str | None:
    minimum = filters.min_notional
    if minimum is not None and qty * price < minimum:
        return (f"notional {qty * price} (quantity {qty} x price {price}) is below the minimum "
                f"{minimum}")
    return None
