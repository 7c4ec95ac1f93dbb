"""Bitget v2 USDT-M perpetuals (`instType`/`productType` USDT-FUTURES): raw messages -> events.

The public channels are the spot ones (see `normalizer_spot`); the difference is the instrument
list, GET /api/v2/mix/market/contracts: tick = `priceEndStep` units of the `pricePlace`-th
decimal, lot = `sizeMultiplier` (else one unit of the `volumePlace`-th decimal), minimum
`minTradeNum`, maximum `maxOrderQty`, minimum order value `minTradeUSDT`; sizes are in the base
coin (contract size 1); trading while `symbolStatus` is `normal`.
"""

from __future__ import annotations

from typing import Any

from ttxt_kafka.events import InstrumentInfo, MarketType

from ..base.symbols import normalized_symbol
from .normalizer_spot import BitgetSpotNormalizer, _step


class BitgetUsdtmNormalizer(BitgetSpotNormalizer):
    venue = "bitget_usdtm"
    market_type = MarketType.LINEAR

    def _instrument(self, s: dict[str, Any], ts: int, receive_ts: int) -> InstrumentInfo:
        native, base, quote = s["symbol"], s["baseCoin"], s["quoteCoin"]
        lot = s.get("sizeMultiplier") or _step(int(s["volumePlace"]))
        return InstrumentInfo(
            venue=self.venue, symbol=normalized_symbol(base, quote), native_symbol=native,
            exchange_ts=ts, receive_ts=receive_ts, market_type=self.market_type, base=base,
            quote=quote, trading=s.get("symbolStatus", "normal") == "normal",
            tick_size=_step(int(s["pricePlace"]), s.get("priceEndStep") or "1"), lot_size=lot,
            min_qty=s.get("minTradeNum") or lot, max_qty=s.get("maxOrderQty") or None,
            min_notional=s.get("minTradeUSDT") or None, contract_size="1",
        )
