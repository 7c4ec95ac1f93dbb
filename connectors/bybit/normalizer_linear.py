"""Bybit v5 linear (USDT/USDC perpetuals and futures): raw messages -> events.

The public topics are the spot ones (see `normalizer_spot`); the differences are in the
instrument list: perpetuals are `BASE/QUOTE`, dated futures `BASE/QUOTE-<expiry>` with the expiry
as in the native symbol (`BTCUSDT-26JUN26` -> `BTC/USDT-26JUN26`); lot size is `qtyStep` and the
minimum order value `minNotionalValue`.
"""

from __future__ import annotations

from typing import Any

from ttxt_kafka.events import MarketType

from .normalizer_spot import BybitSpotNormalizer


class BybitLinearNormalizer(BybitSpotNormalizer):
    venue = "bybit_linear"
    market_type = MarketType.LINEAR

    def _suffix(self, s: dict[str, Any]) -> str:
        native: str = s["symbol"]
        if s.get("contractType") == "LinearFutures" and "-" in native:
            return native.rsplit("-", 1)[1]
        return ""

    def _lot_size(self, lot: dict[str, Any]) -> str:
        return str(lot.get("qtyStep", ""))

    def _min_notional(self, lot: dict[str, Any]) -> str | None:
        return lot.get("minNotionalValue")
