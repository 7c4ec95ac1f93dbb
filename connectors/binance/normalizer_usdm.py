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

from ttxt_kafka.events import Event, MarketType, OrderBook, UpdateType

from .normalizer_spot import BinanceSpotNormalizer

_DELTA = UpdateType.DELTA


class BinanceUsdmNormalizer(BinanceSpotNormalizer):
    venue = "binance_usdm"
    market_type = MarketType.LINEAR

    def depth_update(self, d: dict[str, Any], receive_ts: int) -> list[Event]:
        native = d["s"]
        return [OrderBook(
            venue=self.venue, symbol=self._names.get(native) or self.symbol(native),
            native_symbol=native, exchange_ts=int(d["E"]) * 1000, receive_ts=receive_ts,
            sequence=int(d["u"]), update_type=_DELTA, bids=d["b"], asks=d["a"],
            first_sequence=int(d["U"]), prev_sequence=int(d["pu"]),
        )]

    def _suffix(self, s: dict[str, Any]) -> str:
        native: str = s["symbol"]
        return native.rsplit("_", 1)[1] if "_" in native else ""
