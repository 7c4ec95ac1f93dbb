"""Binance message shapes and update ids for the synthetic market.

Ids follow each market's own scheme: spot ids are per symbol and contiguous (each book change
takes one id, a depthUpdate covers `U..u`, the next starts at `u+1`); USD-M ids come from one
venue-wide counter that other symbols also draw from, so they jump, and each update carries
`pu` = the previous update's `u`. Field order and number formats mirror the 2021 captures
(spot prints 8 decimals everywhere; USD-M prints the instrument's precision).
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from ttxt_kafka.connectors.binance.sim.streams import SPOT_KLINE_INTERVALS, parse_stream
from ttxt_kafka.simulator.feeds import UnknownStream
from ttxt_kafka.simulator.market.candles import Candle
from ttxt_kafka.simulator.market.flow import FlowStep
from ttxt_kafka.simulator.market.instruments import Instrument
from ttxt_kafka.simulator.publication import Channel, Publication
from ttxt_kafka.simulator.session import dumps
from ttxt_kafka.simulator.synthetic import MarketFormatter, SymbolMarket, now_ms
from ttxt_kafka.venues import VenueSpec

_UNIT_MS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000}
KLINE_MS = {i: int(i[:-1]) * _UNIT_MS[i[-1]] for i in SPOT_KLINE_INTERVALS if i[-1] in _UNIT_MS}


class BinanceFormatter(MarketFormatter):
    def __init__(self, spec: VenueSpec, markets: dict[str, SymbolMarket], seed: int) -> None:
        super().__init__(spec, markets, seed)
        self.futures = spec.category == "usdm"
        self.step_before_snapshot = self.futures
        ids = random.Random(f"{seed}:binance-ids:{spec.category}")
        self._ids = ids
        self._next_id = ids.randint(10**11, 10**12)  # USD-M: one counter for all symbols
        self.last_u: dict[str, int] = {}
        self.first_u: dict[str, int] = {}  # first U ever published: stale snapshots sit below it
        for sym in markets:
            self.last_u[sym] = self._next_id if self.futures else ids.randint(10**8, 10**9)
        self._agg_id = {sym: ids.randint(10**6, 10**7) for sym in markets}
        self._trade_id = {sym: ids.randint(10**7, 10**8) for sym in markets}
        self._top: dict[str, tuple[int, int, int, int]] = {}
        self._kline_keys: dict[str, dict[str, int]] = {}  # symbol -> {key: interval ms}

    # -- formatting helpers --------------------------------------------------------------

    def _px(self, inst: Instrument, ticks: int) -> str:
        return inst.price(ticks, inst.price_decimals if self.futures else 8)

    def _qty(self, inst: Instrument, lots: int) -> str:
        return inst.qty(lots, inst.qty_decimals if self.futures else 8)

    def _levels(self, inst: Instrument, levels: list[tuple[int, int]]) -> list[list[str]]:
        return [[self._px(inst, p), self._qty(inst, q)] for p, q in levels]

    # -- subscriptions -------------------------------------------------------------------

    def resolve(self, name: str) -> str:
        stream = parse_stream(name, self.futures)
        if stream.symbol not in self.markets:
            raise UnknownStream(f"unknown symbol in stream `{name}`")
        s = stream.symbol.lower()
        if stream.channel == "depth":
            return f"{s}@depth"  # every update speed gets every update here
        if stream.channel == "partial":
            return f"{s}@depth{stream.param}"
        if stream.channel == "kline":
            if stream.param not in KLINE_MS:
                raise UnknownStream(f"kline interval {stream.param} is not simulated")
            return f"{s}@kline_{stream.param}"
        return f"{s}@{stream.channel}"

    def activate(self, key: str) -> None:
        s, _, channel = key.partition("@")
        if channel.startswith("kline_"):
            interval = channel[len("kline_") :]
            m = self.markets[s.upper()]
            m.candle_series(KLINE_MS[interval])
            self._kline_keys.setdefault(m.symbol, {})[key] = KLINE_MS[interval]

    # -- market steps --------------------------------------------------------------------

    def _next_ids(self, sym: str, changes: int) -> tuple[int, int, int]:
        """(U, u, pu) for an update of `changes` book changes."""
        prev = self.last_u[sym]
        if self.futures:
            first = self._next_id + self._ids.randint(0, 20)
            last = first + self._ids.randint(changes - 1, 3 * changes)
            self._next_id = last + 1 + self._ids.randint(0, 200)  # ids other symbols took
        else:
            first, last = prev + 1, prev + changes
        self.last_u[sym] = last
        self.first_u.setdefault(sym, first)
        return first, last, prev

    def on_step(self, m: SymbolMarket, step: FlowStep, active: Counter[str]) -> list[Publication]:
        inst, sym, ts = m.inst, m.symbol, step.ts_ms
        s = sym.lower()
        first, last, prev = self._next_ids(sym, max(step.changes, 1))
        out: list[Publication] = []
        trade = step.trade
        if trade is not None:
            self._agg_id[sym] += 1
            self._trade_id[sym] += 1
            tid = self._trade_id[sym]
            if f"{s}@aggTrade" in active:
                out.append(self._agg_trade(inst, ts, tid, trade.price, trade.qty, trade.taker_buy))
            if f"{s}@trade" in active:
                out.append(self._trade(inst, ts, tid, trade.price, trade.qty, trade.taker_buy))
        if f"{s}@depth" in active:
            out.append(self._depth_update(inst, step, first, last, prev))
        top = m.flow.book.top_of_book()
        if top != self._top.get(sym):
            self._top[sym] = top
            if f"{s}@bookTicker" in active:
                out.append(self._book_ticker(inst, top, last, ts))
        for levels in (5, 10, 20):
            if f"{s}@depth{levels}" in active:
                out.append(self._partial(m, levels, first, last, prev, ts))
        if trade is not None:
            for key, interval_ms in self._kline_keys.get(sym, {}).items():
                for candle in m.candles[interval_ms].update(ts, trade):
                    if key in active:
                        out.append(self._kline(inst, key, candle, ts))
        return out

    def _trade(
        self, inst: Instrument, ts: int, tid: int, price: int, qty: int, taker_buy: bool
    ) -> Publication:
        sym = inst.symbol
        event = {
            "e": "trade",
            "E": ts,
            "s": sym,
            "t": tid,
            "p": self._px(inst, price),
            "q": self._qty(inst, qty),
            "T": ts,
            "m": not taker_buy,
            "M": True,
        }
        return Publication(f"{sym.lower()}@trade", dumps(event), Channel.TRADES, sym)

    def _depth_update(
        self, inst: Instrument, step: FlowStep, first: int, last: int, prev: int
    ) -> Publication:
        sym, ts = inst.symbol, step.ts_ms
        bids = sorted(step.bids.items(), reverse=not self.futures)  # as the captures order them
        asks = sorted(step.asks.items())
        event: dict[str, Any] = {"e": "depthUpdate", "E": ts}
        if self.futures:
            event["T"] = ts
        event |= {"s": sym, "U": first, "u": last}
        if self.futures:
            event["pu"] = prev
        event |= {"b": self._levels(inst, bids), "a": self._levels(inst, asks)}
        return Publication(f"{sym.lower()}@depth", dumps(event), Channel.BOOK, sym)

    def _agg_trade(
        self, inst: Instrument, ts: int, tid: int, price: int, qty: int, taker_buy: bool
    ) -> Publication:
        sym = inst.symbol
        agg, px, q = self._agg_id[sym], self._px(inst, price), self._qty(inst, qty)
        if self.futures:
            event = {
                "e": "aggTrade",
                "E": ts,
                "a": agg,
                "s": sym,
                "p": px,
                "q": q,
                "f": tid,
                "l": tid,
                "T": ts,
                "m": not taker_buy,
            }
        else:
            event = {
                "e": "aggTrade",
                "E": ts,
                "s": sym,
                "a": agg,
                "p": px,
                "q": q,
                "f": tid,
                "l": tid,
                "T": ts,
                "m": not taker_buy,
                "M": True,
            }
        return Publication(f"{sym.lower()}@aggTrade", dumps(event), Channel.TRADES, sym)

    def _book_ticker(
        self, inst: Instrument, top: tuple[int, int, int, int], u: int, ts: int
    ) -> Publication:
        bid, bid_qty, ask, ask_qty = top
        body: dict[str, Any] = {"e": "bookTicker"} if self.futures else {}
        body |= {
            "u": u,
            "s": inst.symbol,
            "b": self._px(inst, bid),
            "B": self._qty(inst, bid_qty),
            "a": self._px(inst, ask),
            "A": self._qty(inst, ask_qty),
        }
        if self.futures:
            body |= {"T": ts, "E": ts}
        sym = inst.symbol
        return Publication(f"{sym.lower()}@bookTicker", dumps(body), Channel.TICKER, sym)

    def _partial(
        self, m: SymbolMarket, levels: int, first: int, last: int, prev: int, ts: int
    ) -> Publication:
        book, inst, sym = m.flow.book, m.inst, m.symbol
        bids = self._levels(inst, book.bids.top(levels))
        asks = self._levels(inst, book.asks.top(levels))
        if self.futures:
            body: dict[str, Any] = {
                "e": "depthUpdate",
                "E": ts,
                "T": ts,
                "s": sym,
                "U": first,
                "u": last,
                "pu": prev,
                "b": bids,
                "a": asks,
            }
        else:
            body = {"lastUpdateId": last, "bids": bids, "asks": asks}
        key = f"{sym.lower()}@depth{levels}"
        return Publication(key, dumps(body), Channel.BOOK_SNAPSHOT, sym)

    def _kline(self, inst: Instrument, key: str, c: Candle, ts: int) -> Publication:
        interval = key.rsplit("_", 1)[1]
        k = {
            "t": c.start_ms,
            "T": c.end_ms,
            "s": inst.symbol,
            "i": interval,
            "f": c.first_trade,
            "L": c.last_trade,
            "o": self._px(inst, c.open),
            "c": self._px(inst, c.close),
            "h": self._px(inst, c.high),
            "l": self._px(inst, c.low),
            "v": self._qty(inst, c.volume),
            "n": c.trades,
            "x": c.closed,
            "q": inst.notional(c.quote_volume, None if self.futures else 8),
            "V": self._qty(inst, c.taker_buy_volume),
            "Q": inst.notional(c.taker_buy_quote, None if self.futures else 8),
            "B": "0",
        }
        event = {"e": "kline", "E": ts, "s": inst.symbol, "k": k}
        return Publication(key, dumps(event), Channel.KLINE, inst.symbol)

    # -- REST ----------------------------------------------------------------------------

    def depth_body(self, m: SymbolMarket, limit: int, stale_behind: int | None) -> str:
        sym, book = m.symbol, m.flow.book
        last_id = self.last_u[sym]
        if stale_behind is not None:
            last_id = max(0, min(self.first_u.get(sym, last_id), last_id) - stale_behind)
        body: dict[str, Any] = {"lastUpdateId": last_id}
        if self.futures:
            ts = now_ms()
            body |= {"E": ts, "T": ts}
        body["bids"] = self._levels(m.inst, book.bids.top(limit))
        body["asks"] = self._levels(m.inst, book.asks.top(limit))
        return dumps(body)

    def instruments_body(self, symbols: list[str]) -> str:
        entries = [self._symbol_info(self.markets[s].inst) for s in symbols]
        ts = now_ms()
        if self.futures:
            body: dict[str, Any] = {
                "timezone": "UTC",
                "serverTime": ts,
                "futuresType": "U_MARGINED",
                "rateLimits": _RATE_LIMITS_USDM,
                "exchangeFilters": [],
                "assets": [
                    {"asset": "USDT", "marginAvailable": True, "autoAssetExchange": "-10000"}
                ],
                "symbols": entries,
            }
        else:
            body = {
                "timezone": "UTC",
                "serverTime": ts,
                "rateLimits": _RATE_LIMITS_SPOT,
                "exchangeFilters": [],
                "symbols": entries,
            }
        return dumps(body)

    def _symbol_info(self, inst: Instrument) -> dict[str, Any]:
        tick8, lot8 = inst.price(1, 8), inst.qty(1, 8)
        if not self.futures:
            return {
                "symbol": inst.symbol,
                "status": "TRADING",
                "baseAsset": inst.base,
                "baseAssetPrecision": 8,
                "quoteAsset": inst.quote,
                "quotePrecision": 8,
                "quoteAssetPrecision": 8,
                "baseCommissionPrecision": 8,
                "quoteCommissionPrecision": 8,
                "orderTypes": [
                    "LIMIT",
                    "LIMIT_MAKER",
                    "MARKET",
                    "STOP_LOSS_LIMIT",
                    "TAKE_PROFIT_LIMIT",
                ],
                "icebergAllowed": True,
                "ocoAllowed": True,
                "quoteOrderQtyMarketAllowed": True,
                "isSpotTradingAllowed": True,
                "isMarginTradingAllowed": False,
                "filters": [
                    {
                        "filterType": "PRICE_FILTER",
                        "minPrice": tick8,
                        "maxPrice": "1000000.00000000",
                        "tickSize": tick8,
                    },
                    {
                        "filterType": "LOT_SIZE",
                        "minQty": lot8,
                        "maxQty": "9000.00000000",
                        "stepSize": lot8,
                    },
                    {
                        "filterType": "MIN_NOTIONAL",
                        "minNotional": "5.00000000",
                        "applyToMarket": True,
                        "avgPriceMins": 5,
                    },
                ],
                "permissions": ["SPOT"],
            }
        tick, lot = self._px(inst, 1), self._qty(inst, 1)  # as the venue prints prices
        return {
            "symbol": inst.symbol,
            "pair": inst.symbol,
            "contractType": "PERPETUAL",
            "deliveryDate": 4133404800000,
            "onboardDate": 1569398400000,
            "status": "TRADING",
            "maintMarginPercent": "2.5000",
            "requiredMarginPercent": "5.0000",
            "baseAsset": inst.base,
            "quoteAsset": inst.quote,
            "marginAsset": inst.quote,
            "pricePrecision": inst.price_decimals,
            "quantityPrecision": inst.qty_decimals,
            "baseAssetPrecision": 8,
            "quotePrecision": 8,
            "underlyingType": "COIN",
            "underlyingSubType": [],
            "settlePlan": 0,
            "triggerProtect": "0.0500",
            "filters": [
                {
                    "minPrice": tick,
                    "maxPrice": "1000000",
                    "filterType": "PRICE_FILTER",
                    "tickSize": tick,
                },
                {"stepSize": lot, "filterType": "LOT_SIZE", "maxQty": "1000", "minQty": lot},
                {"stepSize": lot, "filterType": "MARKET_LOT_SIZE", "maxQty": "1000", "minQty": lot},
                {"limit": 200, "filterType": "MAX_NUM_ORDERS"},
                {"notional": "5", "filterType": "MIN_NOTIONAL"},
            ],
            "orderTypes": [
                "LIMIT",
                "MARKET",
                "STOP",
                "STOP_MARKET",
                "TAKE_PROFIT",
                "TAKE_PROFIT_MARKET",
                "TRAILING_STOP_MARKET",
            ],
            "timeInForce": ["GTC", "IOC", "FOK", "GTX"],
        }


_RATE_LIMITS_SPOT = [
    {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 6000},
    {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 100},
    {"rateLimitType": "RAW_REQUESTS", "interval": "MINUTE", "intervalNum": 5, "limit": 61000},
]
_RATE_LIMITS_USDM = [
    {"rateLimitType": "REQUEST_WEIGHT", "interval": "MINUTE", "intervalNum": 1, "limit": 2400},
    {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
    {"rateLimitType": "ORDERS", "interval": "SECOND", "intervalNum": 10, "limit": 300},
]
