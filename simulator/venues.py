"""The venues the simulator can play, and the few facts about each that are not protocol code."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Venue(StrEnum):
    """Exchange plus market, named as in the platform's topic names."""

    BINANCE = "binance"
    BINANCE_USDM = "binance_usdm"
    BYBIT_SPOT = "bybit_spot"
    BYBIT_LINEAR = "bybit_linear"


@dataclass(frozen=True)
class VenueSpec:
    venue: Venue
    exchange: str  # the protocol package serving it: "binance" or "bybit"
    category: str  # Binance: "spot" / "usdm"; Bybit: the v5 `category`
    ping_interval: float | None  # server-initiated WS ping frames (None: the venue sends none)
    pong_timeout: float | None  # close the socket when no pong arrives within this


# Binance pings every 20 s (spot) / 3 min (USD-M) and drops a client silent for 1 min / 10 min.
# Bybit sends no pings; its clients send `{"op":"ping"}`.
SPECS: dict[Venue, VenueSpec] = {
    Venue.BINANCE: VenueSpec(Venue.BINANCE, "binance", "spot", 20.0, 60.0),
    Venue.BINANCE_USDM: VenueSpec(Venue.BINANCE_USDM, "binance", "usdm", 180.0, 600.0),
    Venue.BYBIT_SPOT: VenueSpec(Venue.BYBIT_SPOT, "bybit", "spot", None, None),
    Venue.BYBIT_LINEAR: VenueSpec(Venue.BYBIT_LINEAR, "bybit", "linear", None, None),
}


def spec(venue: Venue | str) -> VenueSpec:
    try:
        return SPECS[Venue(venue)]
    except ValueError:
        names = ", ".join(v.value for v in Venue)
        raise ValueError(f"unknown venue {venue!r}; expected one of: {names}") from None
