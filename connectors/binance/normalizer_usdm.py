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

from ttxt_kafka.events import Event, MarketType, UpdateType, new_orderbook

from . import messages as m
from .normalizer_spot import BinanceSpotNormalizer

_DELTA = UpdateType.DELTA


class BinanceUsdmNormalizer(BinanceSpotNormalizer):
    venue = "binance_usdm"
    market_type = MarketType.LINEAR
    frame_type: Any = m.UsdmFrame
    payload_type: Any = m.UsdmPayload

    def __init__(self, symbols: Any = None) -> None:
        super().__init__(symbols)
        self._handlers[m.FuturesDepthUpdate] = self.futures_depth_update

    def futures_depth_update(self, d: m.FuturesDepthUpdate, receive_ts: int) -> list[Event]:
        native = d.symbol
        return [new_orderbook(
            self.venue, self._names.get(native) or self.symbol(native), native,
            d.event_time * 1000, receive_ts, d.final_update_id, _DELTA, d.bids, d.asks, 0,
            d.first_update_id, d.prev_final_update_id, None,
        )]

    def _suffix(self, s: dict[str, Any]) -> str:
        native: str = s["symbol"]
        return native.rsplit("_", 1)[1] if "_" in native else ""
