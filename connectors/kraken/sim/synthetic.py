"""Kraken WS v2 message shapes for the synthetic market.

Each `book:<SYMBOL>:<depth>` stream is a view of the top `depth` levels: a subscriber first gets
a `snapshot` of the view, then an `update` whenever a step changes the view (levels entering or
leaving it included, qty 0), each with the CRC32 checksum of the view's top 10 levels as Kraken
computes it. Prices and quantities are JSON numbers written with the pair's precision (what
AssetPairs' pair_decimals / lot_decimals say). Trades carry increasing ids; the ticker is pushed
when the top of the book changes; ohlc candles on every trade.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from ttxt_kafka.connectors.kraken import endpoints as ep
from ttxt_kafka.connectors.kraken.book_sync import checksum
from ttxt_kafka.simulator.feeds import UnknownStream
from ttxt_kafka.simulator.market.candles import Candle
from ttxt_kafka.simulator.market.depth_view import DepthView
from ttxt_kafka.simulator.market.flow import FlowStep
from ttxt_kafka.simulator.market.instruments import Instrument
from ttxt_kafka.simulator.publication import Channel, Publication
from ttxt_kafka.simulator.synthetic import MarketFormatter, SymbolMarket
from ttxt_kafka.venues import VenueSpec

from .streams import parts

_V1_ASSETS = {v: k for k, v in ep.V2_ASSETS.items()}


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def levels_json(levels: list[tuple[str, str]]) -> str:
    """Levels as Kraken writes them: numbers (the formatted strings, unquoted)."""
    return "[" + ",".join(f'{{"price":{p},"qty":{q}}}' for p, q in levels) + "]"


class KrakenFormatter(MarketFormatter):
    def __init__(self, spec: VenueSpec, markets: dict[str, SymbolMarket], seed: int) -> None:
        super().__init__(spec, markets, seed)
        self._rng = random.Random(f"{seed}:kraken-ids")
        self.trade_id = {sym: self._rng.randint(10**6, 10**7) for sym in markets}
        self.views: dict[str, DepthView] = {}
        self._views_by_symbol: dict[str, list[tuple[str, DepthView]]] = {}
        self._ohlc_keys: dict[str, dict[str, int]] = {}  # symbol -> {key: minutes}
        self._top: dict[str, tuple[int, int, int, int]] = {}

    def native_name(self, inst: Instrument) -> str:
        return f"{inst.base}/{inst.quote}"

    def _px(self, inst: Instrument, ticks: int) -> str:
        return inst.price(ticks, inst.price_decimals)

    def _qty(self, inst: Instrument, lots: int) -> str:
        return inst.qty(lots, inst.qty_decimals)

    def _levels(self, inst: Instrument, levels: list[tuple[int, int]]) -> list[tuple[str, str]]:
        return [(self._px(inst, p), self._qty(inst, q)) for p, q in levels]

    # -- subscriptions -------------------------------------------------------------------

    def resolve(self, name: str) -> str:
        channel, symbol, _ = parts(name)
        if symbol not in self.markets:
            raise UnknownStream(name)
        return name

    def activate(self, key: str) -> None:
        channel, symbol, param = parts(key)
        m = self.markets[symbol]
        if channel == ep.BOOK:
            view = self.views.get(key)
            if view is None:
                view = self.views[key] = DepthView(int(param), 0)
                self._views_by_symbol.setdefault(symbol, []).append((key, view))
            view.reset(m.flow.book)
        elif channel == ep.OHLC:
            m.candle_series(int(param) * 60_000)
            self._ohlc_keys.setdefault(symbol, {})[key] = int(param)

    def on_subscribe(self, key: str) -> list[Publication]:
        channel, symbol, _ = parts(key)
        if channel != ep.BOOK:
            return []
        m, view = self.markets[symbol], self.views[key]
        return [self._book(m, key, view, "snapshot", sorted(view.bids.items(), reverse=True),
                           sorted(view.asks.items()), None)]

    # -- market steps --------------------------------------------------------------------

    def on_step(self, m: SymbolMarket, step: FlowStep, active: Counter[str]) -> list[Publication]:
        sym, inst, ms = m.symbol, m.inst, step.ts_ms
        out: list[Publication] = []
        trade = step.trade
        if trade is not None:
            self.trade_id[sym] += 1
            if f"{ep.TRADE}:{sym}" in active:
                out.append(self._trade(inst, trade.price, trade.qty, trade.taker_buy, ms))
        for key, view in self._views_by_symbol.get(sym, ()):
            if key not in active:
                continue
            bids, asks = view.diff(m.flow.book, step)
            if bids or asks:
                out.append(self._book(m, key, view, "update", bids, asks, ms))
        top = m.flow.book.top_of_book()
        if top != self._top.get(sym):
            self._top[sym] = top
            if f"{ep.TICKER}:{sym}" in active:
                out.append(self._ticker(inst, top))
        if trade is not None:
            for key, minutes in self._ohlc_keys.get(sym, {}).items():
                for candle in m.candles[minutes * 60_000].update(ms, trade):
                    if key in active:
                        out.append(self._ohlc(inst, key, minutes, candle, ms))
        return out

    def _book(self, m: SymbolMarket, key: str, view: DepthView, kind: str,
              bids: list[tuple[int, int]], asks: list[tuple[int, int]], ms: int | None
              ) -> Publication:
        inst = m.inst
        crc = checksum(self._levels(inst, sorted(view.bids.items(), reverse=True)[:10]),
                       self._levels(inst, sorted(view.asks.items())[:10]))
        stamp = f',"timestamp":"{iso(ms)}"' if ms is not None else ""
        payload = (f'{{"channel":"book","type":"{kind}","data":[{{"symbol":"{inst.symbol}",'
                   f'"bids":{levels_json(self._levels(inst, bids))},'
                   f'"asks":{levels_json(self._levels(inst, asks))},'
                   f'"checksum":{crc}{stamp}}}]}}')
        return Publication(key, payload, Channel.BOOK_SNAPSHOT if kind == "snapshot"
                           else Channel.BOOK, inst.symbol)

    def _trade(self, inst: Instrument, price: int, qty: int, taker_buy: bool, ms: int
               ) -> Publication:
        sym = inst.symbol
        payload = (f'{{"channel":"trade","type":"update","data":[{{"symbol":"{sym}",'
                   f'"side":"{"buy" if taker_buy else "sell"}","price":{self._px(inst, price)},'
                   f'"qty":{self._qty(inst, qty)},"ord_type":"market",'
                   f'"trade_id":{self.trade_id[sym]},"timestamp":"{iso(ms)}"}}]}}')
        return Publication(f"{ep.TRADE}:{sym}", payload, Channel.TRADES, sym)

    def _ticker(self, inst: Instrument, top: tuple[int, int, int, int]) -> Publication:
        bid, bid_qty, ask, ask_qty = top
        payload = (f'{{"channel":"ticker","type":"update","data":[{{"symbol":"{inst.symbol}",'
                   f'"bid":{self._px(inst, bid)},"bid_qty":{self._qty(inst, bid_qty)},'
                   f'"ask":{self._px(inst, ask)},"ask_qty":{self._qty(inst, ask_qty)}}}]}}')
        return Publication(f"{ep.TICKER}:{inst.symbol}", payload, Channel.TICKER, inst.symbol)

    def _ohlc(self, inst: Instrument, key: str, minutes: int, c: Candle, ms: int
              ) -> Publication:
        payload = (f'{{"channel":"ohlc","type":"update","data":[{{"symbol":"{inst.symbol}",'
                   f'"open":{self._px(inst, c.open)},"high":{self._px(inst, c.high)},'
                   f'"low":{self._px(inst, c.low)},"close":{self._px(inst, c.close)},'
                   f'"trades":{c.trades},"volume":{self._qty(inst, c.volume)},'
                   f'"interval_begin":"{iso(c.start_ms)}","interval":{minutes},'
                   f'"timestamp":"{iso(ms)}"}}]}}')
        return Publication(key, payload, Channel.KLINE, inst.symbol)

    # -- REST ----------------------------------------------------------------------------

    def depth_body(self, m: SymbolMarket, limit: int, stale_behind: int | None) -> str:
        """The top `limit` levels (no protocol route serves it: v2 books come from the stream;
        the tests compare books with it)."""
        book, inst = m.flow.book, m.inst
        return json.dumps({"bids": [list(lv) for lv in self._levels(inst, book.bids.top(limit))],
                           "asks": [list(lv) for lv in self._levels(inst, book.asks.top(limit))]})

    def instruments_body(self, symbols: list[str]) -> str:
        return json.dumps({"error": [], "result": {
            s.replace("/", ""): asset_pair(self.markets[s].inst) for s in symbols}})


def asset_pair(inst: Instrument) -> dict[str, Any]:
    """One AssetPairs entry (v1 asset codes in `wsname`, as Kraken's REST writes them)."""
    base = _V1_ASSETS.get(inst.base, inst.base)
    quote = _V1_ASSETS.get(inst.quote, inst.quote)
    return {"altname": f"{base}{quote}", "wsname": f"{base}/{quote}", "base": base,
            "quote": quote, "pair_decimals": inst.price_decimals,
            "lot_decimals": inst.qty_decimals, "lot_multiplier": 1, "ordermin": inst.lot_size,
            "costmin": "0.5", "tick_size": inst.tick_size, "status": "online"}
