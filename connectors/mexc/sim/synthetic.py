"""MEXC message shapes and versions for the synthetic market.

Each symbol's book has one version counter: a market step that changes `n` levels takes `n`
versions, and its `aggre.depth` push covers them (fromVersion = previous toVersion + 1), so
the chain is gap-free. Deals carry increasing trade ids; klines are pushed on every trade; the
book ticker is pushed when the top of the book changes. The REST depth body is the top `limit`
levels with the symbol's current version as `lastUpdateId`. Pushes are protobuf (`frames`).
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from ttxt_kafka.connectors.mexc import endpoints as ep
from ttxt_kafka.simulator.feeds import UnknownStream
from ttxt_kafka.simulator.market.candles import Candle
from ttxt_kafka.simulator.market.flow import FlowStep
from ttxt_kafka.simulator.market.instruments import Instrument
from ttxt_kafka.simulator.publication import Channel, Publication
from ttxt_kafka.simulator.session import dumps
from ttxt_kafka.simulator.synthetic import MarketFormatter, SymbolMarket, now_ms
from ttxt_kafka.venues import VenueSpec

from . import frames
from .streams import key_of, parse

_INTERVAL_MS = {"Min1": 60_000, "Min5": 300_000, "Min15": 900_000, "Min30": 1_800_000,
                "Min60": 3_600_000, "Hour4": 14_400_000, "Hour8": 28_800_000,
                "Day1": 86_400_000, "Week1": 604_800_000}  # Month1: not simulated


class MexcFormatter(MarketFormatter):
    def __init__(self, spec: VenueSpec, markets: dict[str, SymbolMarket], seed: int) -> None:
        super().__init__(spec, markets, seed)
        ids = random.Random(f"{seed}:mexc-ids")
        self.version = {sym: ids.randint(10**9, 10**10) for sym in markets}
        self.first_version: dict[str, int] = {}  # first pushed: stale snapshots sit below it
        self.trade_id = {sym: ids.randint(10**8, 10**9) for sym in markets}
        self._top: dict[str, tuple[int, int, int, int]] = {}
        self._kline_keys: dict[str, dict[str, str]] = {}  # symbol -> {key: MEXC interval}

    def _px(self, inst: Instrument, ticks: int) -> str:
        return inst.price(ticks, inst.price_decimals)

    def _qty(self, inst: Instrument, lots: int) -> str:
        return inst.qty(lots, inst.qty_decimals)

    def _levels(self, inst: Instrument, levels: list[tuple[int, int]]) -> list[tuple[str, str]]:
        return [(self._px(inst, p), self._qty(inst, q)) for p, q in levels]

    # -- subscriptions -------------------------------------------------------------------

    def resolve(self, name: str) -> str:
        stream = parse(name)
        if stream.symbol not in self.markets:
            raise UnknownStream(name)
        if stream.channel == ep.KLINE and stream.interval not in _INTERVAL_MS:
            raise UnknownStream(f"kline interval {stream.interval} is not simulated")
        return key_of(stream)

    def activate(self, key: str) -> None:
        stream = parse(key)
        if stream.channel == ep.KLINE:
            m = self.markets[stream.symbol]
            m.candle_series(_INTERVAL_MS[stream.interval])
            self._kline_keys.setdefault(m.symbol, {})[key] = stream.interval

    # -- market steps --------------------------------------------------------------------

    def on_step(self, m: SymbolMarket, step: FlowStep, active: Counter[str]) -> list[Publication]:
        sym, inst, ms = m.symbol, m.inst, step.ts_ms
        first = self.version[sym] + 1
        last = self.version[sym] = self.version[sym] + max(step.changes, 1)
        self.first_version.setdefault(sym, first)
        out: list[Publication] = []
        trade = step.trade
        if trade is not None:
            self.trade_id[sym] += 1
            key = f"{ep.DEALS}@{ep.SPEED}@{sym}"
            if key in active:
                payload = frames.deals(key, sym, ms, [(
                    self._px(inst, trade.price), self._qty(inst, trade.qty), trade.taker_buy, ms,
                    str(self.trade_id[sym]))])
                out.append(Publication(key, payload, Channel.TRADES, sym))
        key = f"{ep.DEPTH}@{ep.SPEED}@{sym}"
        if key in active:
            payload = frames.depth(key, sym, ms, first, last,
                                   self._levels(inst, sorted(step.bids.items(), reverse=True)),
                                   self._levels(inst, sorted(step.asks.items())))
            out.append(Publication(key, payload, Channel.BOOK, sym))
        top = m.flow.book.top_of_book()
        key = f"{ep.BOOK_TICKER}@{ep.SPEED}@{sym}"
        if top != self._top.get(sym):
            self._top[sym] = top
            if key in active:
                bid, bid_qty, ask, ask_qty = top
                payload = frames.book_ticker(
                    key, sym, ms, (self._px(inst, bid), self._qty(inst, bid_qty)),
                    (self._px(inst, ask), self._qty(inst, ask_qty)), last)
                out.append(Publication(key, payload, Channel.TICKER, sym))
        if trade is not None:
            for key, interval in self._kline_keys.get(sym, {}).items():
                for candle in m.candles[_INTERVAL_MS[interval]].update(ms, trade):
                    if key in active:
                        out.append(self._kline(inst, key, interval, candle, ms))
        return out

    def _kline(self, inst: Instrument, key: str, interval: str, c: Candle, ms: int
               ) -> Publication:
        ohlc = (self._px(inst, c.open), self._px(inst, c.high), self._px(inst, c.low),
                self._px(inst, c.close))
        payload = frames.kline(key, inst.symbol, ms, interval, c.start_ms // 1000,
                               (c.start_ms + c.interval_ms) // 1000, ohlc,
                               self._qty(inst, c.volume), inst.notional(c.quote_volume))
        return Publication(key, payload, Channel.KLINE, inst.symbol)

    # -- REST ----------------------------------------------------------------------------

    def depth_body(self, m: SymbolMarket, limit: int, stale_behind: int | None) -> str:
        sym, book = m.symbol, m.flow.book
        version = self.version[sym]
        if stale_behind is not None:
            version = max(0, min(self.first_version.get(sym, version), version) - stale_behind)
        return dumps({"lastUpdateId": version,
                       "bids": [list(lv) for lv in self._levels(m.inst, book.bids.top(limit))],
                       "asks": [list(lv) for lv in self._levels(m.inst, book.asks.top(limit))],
                       "timestamp": now_ms()})

    def instruments_body(self, symbols: list[str]) -> str:
        return dumps({"timezone": "CST", "serverTime": now_ms(), "rateLimits": [],
                       "exchangeFilters": [],
                       "symbols": [symbol_info(self.markets[s].inst) for s in symbols]})


def symbol_info(inst: Instrument) -> dict[str, Any]:
    """One `exchangeInfo` entry, shaped as MEXC's docs example (status "1" = enabled)."""
    return {"symbol": inst.symbol, "status": "1", "baseAsset": inst.base,
            "baseAssetPrecision": inst.qty_decimals, "quoteAsset": inst.quote,
            "quotePrecision": inst.price_decimals, "quoteAssetPrecision": inst.price_decimals,
            "baseCommissionPrecision": inst.qty_decimals,
            "quoteCommissionPrecision": inst.price_decimals,
            "orderTypes": ["LIMIT", "MARKET", "LIMIT_MAKER"],
            "quoteOrderQtyMarketAllowed": True, "isSpotTradingAllowed": True,
            "isMarginTradingAllowed": False, "quoteAmountPrecision": "1",
            "baseSizePrecision": inst.lot_size, "permissions": ["SPOT"], "filters": [],
            "maxQuoteAmount": "2000000", "makerCommission": "0", "takerCommission": "0.0005",
            "tradeSideType": "1"}
