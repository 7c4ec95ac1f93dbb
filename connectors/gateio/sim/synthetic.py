"""Gate.io v4 spot message shapes and ids for the synthetic market.

Each `ob.<PAIR>.<depth>` stream is a view of the top `depth` levels: a subscriber first gets a
`full` push of the view with its current `u`, then an update whenever a step changes the view
(levels entering or leaving it included, amount "0"), with U = previous u + 1 and u = U + a
random 0..2 (Gate's ids count changes, so one push may span several). Trades carry increasing
ids; candles are pushed on every trade (`w` true once the interval is over); the book ticker is
pushed when the top of the book changes. The REST order book (`with_id=true`) is the whole book
with the symbol's last id. Prices and amounts print as Gate prints them: fixed decimals.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from ttxt_kafka.connectors.gateio import endpoints as ep
from ttxt_kafka.simulator.feeds import UnknownStream
from ttxt_kafka.simulator.market.candles import Candle
from ttxt_kafka.simulator.market.depth_view import DepthView
from ttxt_kafka.simulator.market.flow import FlowStep
from ttxt_kafka.simulator.market.instruments import Instrument
from ttxt_kafka.simulator.publication import Channel, Publication
from ttxt_kafka.simulator.session import dumps
from ttxt_kafka.simulator.synthetic import MarketFormatter, SymbolMarket, now_ms
from ttxt_kafka.venues import VenueSpec

from .streams import parse


def _push(channel: str, result: dict[str, Any], ms: int) -> str:
    return dumps({"time": ms // 1000, "time_ms": ms, "channel": channel, "event": "update",
                   "result": result})


class GateFormatter(MarketFormatter):
    def __init__(self, spec: VenueSpec, markets: dict[str, SymbolMarket], seed: int) -> None:
        super().__init__(spec, markets, seed)
        self._rng = random.Random(f"{seed}:gateio-ids")
        self.book_id = {sym: self._rng.randint(10**9, 10**10) for sym in markets}  # REST id
        self.trade_id = {sym: self._rng.randint(10**8, 10**9) for sym in markets}
        self.views: dict[str, DepthView] = {}
        self._views_by_symbol: dict[str, list[tuple[str, DepthView]]] = {}
        self._candle_keys: dict[str, dict[str, str]] = {}  # pair -> {key: interval}
        self._top: dict[str, tuple[int, int, int, int]] = {}  # last book ticker published

    def native_name(self, inst: Instrument) -> str:
        return f"{inst.base}_{inst.quote}"

    def _px(self, inst: Instrument, ticks: int) -> str:
        return inst.price(ticks, inst.price_decimals)

    def _amount(self, inst: Instrument, lots: int) -> str:
        return inst.qty(lots, inst.qty_decimals)

    def _levels(self, inst: Instrument, levels: list[tuple[int, int]]) -> list[list[str]]:
        return [[self._px(inst, p), self._amount(inst, q)] for p, q in levels]

    # -- subscriptions -------------------------------------------------------------------

    def resolve(self, name: str) -> str:
        stream = parse(name)
        if stream.pair not in self.markets:
            raise UnknownStream(name)
        return name

    def activate(self, key: str) -> None:
        stream = parse(key)
        m = self.markets[stream.pair]
        if stream.channel == ep.BOOK:
            view = self.views.get(key)
            if view is None:
                view = self.views[key] = DepthView(int(stream.param),
                                                   self._rng.randint(10**9, 10**10))
                self._views_by_symbol.setdefault(m.symbol, []).append((key, view))
            view.reset(m.flow.book)
        elif stream.channel == ep.CANDLES:
            m.candle_series(ep.INTERVAL_MS[stream.param])
            self._candle_keys.setdefault(m.symbol, {})[key] = stream.param

    def on_subscribe(self, key: str) -> list[Publication]:
        stream = parse(key)
        m = self.markets[stream.pair]
        ms = now_ms()
        if stream.channel == ep.BOOK:
            view = self.views[key]
            return [self._book(m, key, view, ms, full=True,
                               bids=sorted(view.bids.items(), reverse=True),
                               asks=sorted(view.asks.items()))]
        if stream.channel == ep.CANDLES:
            series = m.candles[ep.INTERVAL_MS[stream.param]]
            if series.current is not None:
                return [self._candle(m.inst, key, stream.param, series.current, ms)]
        return []

    # -- market steps --------------------------------------------------------------------

    def on_step(self, m: SymbolMarket, step: FlowStep, active: Counter[str]) -> list[Publication]:
        sym, inst, ms = m.symbol, m.inst, step.ts_ms
        self.book_id[sym] += 1 + self._rng.randint(0, 2)
        out: list[Publication] = []
        trade = step.trade
        if trade is not None:
            self.trade_id[sym] += 1
            if f"{ep.TRADES}.{sym}" in active:
                out.append(self._trade(m, trade.price, trade.qty, trade.taker_buy, ms))
        for key, view in self._views_by_symbol.get(sym, ()):
            if key not in active:
                continue
            bids, asks = view.diff(m.flow.book, step)
            if bids or asks:
                out.append(self._book(m, key, view, ms, full=False, bids=bids, asks=asks))
        if f"{ep.BBO}.{sym}" in active:
            top = m.flow.book.top_of_book()
            if top != self._top.get(sym):
                self._top[sym] = top
                out.append(self._book_ticker(m, top, ms))
        if trade is not None:
            for key, interval in self._candle_keys.get(sym, {}).items():
                for candle in m.candles[ep.INTERVAL_MS[interval]].update(ms, trade):
                    if key in active:
                        out.append(self._candle(inst, key, interval, candle, ms))
        return out

    def _book(self, m: SymbolMarket, key: str, view: DepthView, ms: int, *, full: bool,
              bids: list[tuple[int, int]], asks: list[tuple[int, int]]) -> Publication:
        result: dict[str, Any] = {"t": ms}
        if full:
            result |= {"full": True, "s": key, "u": view.u}
        else:
            first = view.u + 1
            view.u = first + self._rng.randint(0, 2)
            result |= {"s": key, "U": first, "u": view.u}
        result |= {"b": self._levels(m.inst, bids), "a": self._levels(m.inst, asks)}
        return Publication(key, _push(ep.BOOK, result, ms),
                           Channel.BOOK_SNAPSHOT if full else Channel.BOOK, m.symbol)

    def _trade(self, m: SymbolMarket, price: int, qty: int, taker_buy: bool, ms: int
               ) -> Publication:
        sym = m.symbol
        result = {"id": self.trade_id[sym], "create_time": ms // 1000,
                  "create_time_ms": f"{ms}.{self._rng.randint(0, 9999):04d}",
                  "side": "buy" if taker_buy else "sell", "currency_pair": sym,
                  "amount": self._amount(m.inst, qty), "price": self._px(m.inst, price),
                  "range": f"{self.trade_id[sym]}-{self.trade_id[sym]}"}
        return Publication(f"{ep.TRADES}.{sym}", _push(ep.TRADES, result, ms), Channel.TRADES,
                           sym)

    def _book_ticker(self, m: SymbolMarket, top: tuple[int, int, int, int], ms: int
                     ) -> Publication:
        bid, bid_qty, ask, ask_qty = top
        inst, sym = m.inst, m.symbol
        result = {"t": ms, "u": self.book_id[sym], "s": sym, "b": self._px(inst, bid),
                  "B": self._amount(inst, bid_qty), "a": self._px(inst, ask),
                  "A": self._amount(inst, ask_qty)}
        return Publication(f"{ep.BBO}.{sym}", _push(ep.BBO, result, ms), Channel.TICKER, sym)

    def _candle(self, inst: Instrument, key: str, interval: str, c: Candle, ms: int
                ) -> Publication:
        result = {"t": str(c.start_ms // 1000), "v": inst.notional(c.quote_volume),
                  "c": self._px(inst, c.close), "h": self._px(inst, c.high),
                  "l": self._px(inst, c.low), "o": self._px(inst, c.open),
                  "n": f"{interval}_{inst.symbol}", "a": self._amount(inst, c.volume),
                  "w": c.closed}
        return Publication(key, _push(ep.CANDLES, result, ms), Channel.KLINE, inst.symbol)

    # -- REST ----------------------------------------------------------------------------

    def depth_body(self, m: SymbolMarket, limit: int, stale_behind: int | None) -> str:
        book, inst = m.flow.book, m.inst
        book_id = self.book_id[m.symbol]
        if stale_behind is not None:
            book_id = max(0, book_id - stale_behind)
        ms = now_ms()
        return dumps({"id": book_id, "current": ms, "update": ms,
                       "asks": self._levels(inst, book.asks.top(limit)),
                       "bids": self._levels(inst, book.bids.top(limit))})

    def instruments_body(self, symbols: list[str]) -> str:
        return dumps([self._pair(self.markets[s].inst) for s in symbols])

    def _pair(self, inst: Instrument) -> dict[str, Any]:
        return {"id": inst.symbol, "base": inst.base, "quote": inst.quote, "fee": "0.2",
                "min_base_amount": self._amount(inst, 1), "min_quote_amount": "3",
                "amount_precision": inst.qty_decimals, "precision": inst.price_decimals,
                "trade_status": "tradable", "sell_start": 0, "buy_start": 0}
