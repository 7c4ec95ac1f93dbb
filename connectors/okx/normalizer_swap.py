"""OKX v5 perpetual swaps (`instType=SWAP`): raw messages -> events.

The public channels are the spot ones (see `normalizer_spot`); the book's and trades' sizes are
in contracts, as OKX sends them. The difference is the instrument list: a swap's symbol is its
underlying (`BTC-USDT-SWAP` -> `BTC/USDT`, `UNI-USD-SWAP` -> `UNI/USD`); `ctType` linear or
inverse gives the market type; `contract_size` = `ctVal` (in `ctValCcy`: the base coin for
linear swaps, USD for inverse ones). The order filters (lot, minimum and maximum size) are in the
contract's unit, `lotSz`/`minSz`/`maxLmtSz` contracts times `ctVal`, because orders are given in
base quantity and converted to contracts (`orders`). Trading while `state` is `live`.
"""

from __future__ import annotations

from typing import Any

from ttxt_kafka.events import InstrumentInfo, MarketType

from ..base.symbols import normalized_symbol
from .normalizer_spot import OkxSpotNormalizer, times


class OkxSwapNormalizer(OkxSpotNormalizer):
    venue = "okx_swap"
    market_type = MarketType.LINEAR
    inst_type = "SWAP"

    def _instrument(self, s: dict[str, Any], receive_ts: int) -> InstrumentInfo:
        native = s["instId"]
        family = s.get("instFamily") or s["uly"]  # BTC-USDT
        base, _, quote = family.partition("-")
        ct_val = s["ctVal"]
        max_sz = s.get("maxLmtSz")
        linear = s.get("ctType") != "inverse"
        return InstrumentInfo(
            venue=self.venue, symbol=normalized_symbol(base, quote), native_symbol=native,
            exchange_ts=receive_ts, receive_ts=receive_ts,
            market_type=MarketType.LINEAR if linear else MarketType.INVERSE,
            base=base, quote=quote, trading=s.get("state") == "live", tick_size=s["tickSz"],
            lot_size=times(s["lotSz"], ct_val), min_qty=times(s["minSz"], ct_val),
            max_qty=times(max_sz, ct_val) if max_sz else None, contract_size=ct_val,
        )
