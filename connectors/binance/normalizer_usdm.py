"""Binance USD-M futures: raw messages -> events. Same payloads as spot (see
`normalizer_spot`), with these differences:

  depthUpdate carries `pu` (the previous event's u) -> prev_sequence; and `T` (transaction time)
  bookTicker has an event time `E`
  exchangeInfo lists perpetuals (`BASE/QUOTE`) and dated contracts (`BASE/QUOTE-YYMMDD`, the
  expiry as in the native symbol `BTCUSDT_240628`) as LINEAR instruments
  REST depth has `E`/`T` times
"""

from __future__ import annotations

from typing import Any

from ttxt_kafka.events import MarketType

from .normalizer_spot import BinanceSpotNormalizer


class BinanceUsdmNormalizer(BinanceSpotNormalizer):
    venue = "binance_usdm"
    market_type = MarketType.LINEAR

    def _prev(self, d: dict[str, Any]) -> int | None:
        return int(d["pu"])

    def _suffix(self, s: dict[str, Any]) -> str:
        native: str = s["symbol"]
        return native.rsplit("_", 1)[1] if "_" in native else ""
