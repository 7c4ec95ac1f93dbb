"""A platform `InstrumentInfo` (tick, lot, limits as the exchange lists them) as the engine's
`Instrument`, so the engine checks exactly the filters the connector validates against."""

from __future__ import annotations

from ttxt_kafka.events import InstrumentInfo
from ttxt_kafka.orders.filters import Filters

from .model import Instrument


def instrument_from_info(info: InstrumentInfo) -> Instrument:
    """Keyed by the native symbol (what the exchange's requests name)."""
    f = Filters.of(info)
    return Instrument(info.native_symbol, info.base, info.quote, tick_size=f.tick_size,
                      lot_size=f.lot_size, min_qty=f.min_qty, max_qty=f.max_qty,
                      min_notional=f.min_notional)
