"""A platform `InstrumentInfo` (tick, lot, limits as the exchange lists them) as the engine's
`Instrument`, so the engine checks exactly the filters the connector validates against."""

from __future__ import annotations

from decimal import Decimal

from ttxt_kafka.events import InstrumentInfo

from .model import Instrument


def _step(text: str | None) -> Decimal | None:
    return Decimal(text) if text and Decimal(text) > 0 else None


def instrument_from_info(info: InstrumentInfo) -> Instrument:
    """Keyed by the native symbol (what the exchange's requests name)."""
    return Instrument(info.native_symbol, info.base, info.quote, tick_size=_step(info.tick_size),
                      lot_size=_step(info.lot_size), min_qty=_step(info.min_qty),
                      max_qty=_step(info.max_qty), min_notional=_step(info.min_notional))
