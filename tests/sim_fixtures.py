"""The fixture helpers and capture names the simulator tests use (see `fixtures_path`)."""

from fixtures_path import (
    BINANCE_SPOT_DEPTH,
    BINANCE_SPOT_INFO,
    BINANCE_SPOT_WS,
    BINANCE_USDM_DEPTH,
    BINANCE_USDM_WS,
    BITGET_MIX_WS,
    BITGET_SPOT_WS,
    BYBIT_CAPTURE,
    fixture,
    fixtures_root,
)

__all__ = [
    "BINANCE_SPOT_DEPTH", "BINANCE_SPOT_INFO", "BINANCE_SPOT_WS", "BINANCE_USDM_DEPTH",
    "BINANCE_USDM_WS", "BITGET_MIX_WS", "BITGET_SPOT_WS", "BYBIT_CAPTURE", "fixture",
    "fixtures_root",
]
