"""Bybit v5 message shapes and ids for the synthetic market.

Each `orderbook.<depth>.<symbol>` topic is a view of the top `depth` levels: a subscriber first
gets a snapshot of the view with the topic's current `u`, then a delta (`u` + 1) whenever a step
changes the view, including levels entering or leaving it (size "0"). Depth 1 pushes snapshots
only, as the venue does. `seq` is the symbol's cross sequence, shared by book and trades.
Linear prints fixed decimals (priceScale, qtyStep); spot trims trailing zeros, as captured.
"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from decimal import Decimal
from typing import Any

from ttxt_kafka.connectors.bybit.sim.topics import parse_topic
from ttxt_kafka.simulator.feeds import UnknownStream
from ttxt_kafka.simulator.market.candles import Candle
from ttxt_kafka.simulator.market.depth_view import DepthView
from ttxt_kafka.simulator.market.flow import FlowStep
from ttxt_kafka.simulator.market.instruments import Instrument
from ttxt_kafka.simulator.publication import Channel, Publication
from ttxt_kafka.simulator.session import dumps
from ttxt_kafka.simulator.synthetic import MarketFormatter, SymbolMarket, now_ms
from ttxt_kafka.venues import VenueSpec

_KLINE_MS = {
    i: int(i) * 60_000 for i in ("1", "3", "5", "15", "30", "60", "120", "240", "360", "720")
}
_KLINE_MS |= {"D": 86_400_000, "W": 604_800_000}


class BybitFormatter(MarketFormatter):
    def __init__(self, spec: VenueSpec, markets: dict[str, SymbolMarket], seed: int) -> None:
        super().__init__(spec, markets, seed)
        self.category = spec.category
        self.linear = spec.category == "linear"
        self._rng = random.Random(f"{seed}:bybit-ids:{spec.category}")
        self.seq = {sym: self._rng.randint(10**10, 10**11) for sym in markets}
        self.book_u = {sym: self._rng.randint(10**6, 10**7) for sym in markets}  # REST `u`
        self.first_u: dict[str, int] = {}
        self.views: dict[str, DepthView] = {}  # topic -> view
        self._views_by_symbol: dict[str, list[tuple[str, DepthView]]] = {}
        self._kline_keys: dict[str, dict[str, str]] = {}  # symbol -> {topic: interval}
        self._ticker: dict[str, dict[str, str]] = {}  # last published ticker fields

    # -- formatting helpers --------------------------------------------------------------

    def _px(self, inst: Instrument, ticks: int) -> str:
        return inst.price(ticks, inst.price_decimals if self.linear else None)

    def _qty(self, inst: Instrument, lots: int) -> str:
        if lots == 0:
            return "0"
        return inst.qty(lots, inst.qty_decimals if self.linear else None)

    def _levels(self, inst: Instrument, levels: list[tuple[int, int]]) -> list[list[str]]:
        return [[self._px(inst, p), self._qty(inst, q)] for p, q in levels]

    # -- subscriptions -------------------------------------------------------------------

    def resolve(self, name: str) -> str:
        topic = parse_topic(name, self.category)
        if topic.symbol not in self.markets:
            raise UnknownStream(name)
        if topic.channel == "kline" and topic.param not in _KLINE_MS:
            raise UnknownStream(name)  # monthly candles are not simulated
        return name

    def activate(self, key: str) -> None:
        topic = parse_topic(key, self.category)
        m = self.markets[topic.symbol]
        if topic.channel == "orderbook":
            view = self.views.get(key)
            if view is None:
                view = self.views[key] = DepthView(
                    int(topic.param), self._rng.randint(10**5, 10**7)
                )
                self._views_by_symbol.setdefault(m.symbol, []).append((key, view))
            view.reset(m.flow.book)  # nobody held the old view: start from the book as it is
        elif topic.channel == "kline":
            m.candle_series(_KLINE_MS[topic.param])
            self._kline_keys.setdefault(m.symbol, {})[key] = topic.param

    def on_subscribe(self, key: str) -> list[Publication]:
        topic = parse_topic(key, self.category)
        m = self.markets[topic.symbol]
        ts = now_ms()
        if topic.channel == "orderbook":
            view = self.views[key]
            return [
                self._book(
                    m,
                    key,
                    view,
                    "snapshot",
                    sorted(view.bids.items(), reverse=True),
                    sorted(view.asks.items()),
                    ts,
                )
            ]
        if topic.channel == "tickers":
            return [self._ticker_snapshot(m, ts)]
        if topic.channel == "kline":
            series = m.candles[_KLINE_MS[topic.param]]
            if series.current is not None:
                return [self._kline(m.inst, key, topic.param, series.current, ts)]
        return []

    # -- market steps --------------------------------------------------------------------

    def on_step(self, m: SymbolMarket, step: FlowStep, active: Counter[str]) -> list[Publication]:
        sym, inst, ts = m.symbol, m.inst, step.ts_ms
        self.seq[sym] += self._rng.randint(1, 50)
        self.book_u[sym] += 1
        out: list[Publication] = []
        trade = step.trade
        if trade is not None and f"publicTrade.{sym}" in active:
            out.append(self._public_trade(m, trade.price, trade.qty, trade.taker_buy, ts))
        for key, view in self._views_by_symbol.get(sym, ()):
            if key not in active:
                continue
            bids, asks = view.diff(m.flow.book, step)
            if not bids and not asks:
                continue  # the view did not change: the venue pushes nothing
            view.u += 1
            if view.depth == 1:  # level 1 is snapshots only
                full_b = sorted(view.bids.items(), reverse=True)
                out.append(
                    self._book(m, key, view, "snapshot", full_b, list(view.asks.items()), ts)
                )
            else:
                out.append(self._book(m, key, view, "delta", bids, asks, ts))
        if f"tickers.{sym}" in active:
            pub = self._ticker_update(m, ts, traded=trade is not None)
            if pub is not None:
                out.append(pub)
        if trade is not None:
            for key, interval in self._kline_keys.get(sym, {}).items():
                for candle in m.candles[_KLINE_MS[interval]].update(ts, trade):
                    if key in active:
                        out.append(self._kline(inst, key, interval, candle, ts))
        return out

    def _book(
        self,
        m: SymbolMarket,
        key: str,
        view: DepthView,
        kind: str,
        bids: list[tuple[int, int]],
        asks: list[tuple[int, int]],
        ts: int,
    ) -> Publication:
        data = {
            "s": m.symbol,
            "b": self._levels(m.inst, bids),
            "a": self._levels(m.inst, asks),
            "u": view.u,
            "seq": self.seq[m.symbol],
        }
        if self.linear:
            msg: dict[str, Any] = {"topic": key, "type": kind, "ts": ts, "data": data, "cts": ts}
        else:
            msg = {"topic": key, "ts": ts, "type": kind, "data": data, "cts": ts}
        channel = Channel.BOOK if kind == "delta" else Channel.BOOK_SNAPSHOT
        return Publication(key, dumps(msg), channel, m.symbol)

    def _public_trade(
        self, m: SymbolMarket, price: int, qty: int, taker_buy: bool, ts: int
    ) -> Publication:
        sym, inst = m.symbol, m.inst
        px, v, side = self._px(inst, price), self._qty(inst, qty), "Buy" if taker_buy else "Sell"
        seq = self.seq[sym]
        if self.linear:
            tick = "PlusTick" if m.stats.last_trade_up else "MinusTick"
            trade_id = str(uuid.UUID(int=self._rng.getrandbits(128), version=4))
            item: dict[str, Any] = {
                "T": ts,
                "s": sym,
                "S": side,
                "v": v,
                "p": px,
                "L": tick,
                "i": trade_id,
                "BT": False,
                "RPI": False,
                "seq": seq,
            }
            msg: dict[str, Any] = {
                "topic": f"publicTrade.{sym}",
                "type": "snapshot",
                "ts": ts,
                "data": [item],
            }
        else:
            trade_id = str(2280000000000000000 + m.flow.trades)
            item = {
                "i": trade_id,
                "T": ts,
                "p": px,
                "v": v,
                "S": side,
                "seq": seq,
                "s": sym,
                "BT": False,
                "RPI": False,
            }
            msg = {"topic": f"publicTrade.{sym}", "ts": ts, "type": "snapshot", "data": [item]}
        return Publication(f"publicTrade.{sym}", dumps(msg), Channel.TRADES, sym)

    def _kline(self, inst: Instrument, key: str, interval: str, c: Candle, ts: int) -> Publication:
        item = {
            "start": c.start_ms,
            "end": c.end_ms,
            "interval": interval,
            "open": self._px(inst, c.open),
            "close": self._px(inst, c.close),
            "high": self._px(inst, c.high),
            "low": self._px(inst, c.low),
            "volume": self._qty(inst, c.volume),
            "turnover": inst.notional(c.quote_volume),
            "confirm": c.closed,
            "timestamp": ts,
        }
        if self.linear:
            msg: dict[str, Any] = {"topic": key, "data": [item], "ts": ts, "type": "snapshot"}
        else:
            msg = {"type": "snapshot", "topic": key, "data": [item], "ts": ts}
        return Publication(key, dumps(msg), Channel.KLINE, inst.symbol)

    # -- tickers -------------------------------------------------------------------------

    def _ticker_fields(self, m: SymbolMarket) -> dict[str, str]:
        inst, st = m.inst, m.stats
        pct = (Decimal(st.last - st.open) / Decimal(st.open)).quantize(Decimal("0.000001"))
        fields = {
            "symbol": m.symbol,
            "lastPrice": self._px(inst, st.last),
            "highPrice24h": self._px(inst, st.high),
            "lowPrice24h": self._px(inst, st.low),
            "prevPrice24h": self._px(inst, st.open),
            "volume24h": self._qty(inst, st.volume),
            "turnover24h": inst.notional(st.quote_volume),
            "price24hPcnt": str(pct if self.linear else pct.quantize(Decimal("0.0001"))),
        }
        if self.linear:
            bid, bid_qty, ask, ask_qty = m.flow.book.top_of_book()
            fields |= {
                "tickDirection": "PlusTick" if st.last_trade_up else "MinusTick",
                "markPrice": fields["lastPrice"],
                "indexPrice": fields["lastPrice"],
                "fundingRate": "0.0001",
                "nextFundingTime": str(now_ms() // 28_800_000 * 28_800_000 + 28_800_000),
                "bid1Price": self._px(inst, bid),
                "bid1Size": self._qty(inst, bid_qty),
                "ask1Price": self._px(inst, ask),
                "ask1Size": self._qty(inst, ask_qty),
            }
        else:
            fields["usdIndexPrice"] = fields["lastPrice"]
        return fields

    def _ticker_snapshot(self, m: SymbolMarket, ts: int) -> Publication:
        fields = self._ticker_fields(m)
        self._ticker[m.symbol] = fields
        return self._ticker_msg(m.symbol, "snapshot", fields, ts)

    def _ticker_update(self, m: SymbolMarket, ts: int, traded: bool) -> Publication | None:
        if not self.linear:  # spot tickers are snapshots, pushed when a trade moved them
            return self._ticker_snapshot(m, ts) if traded else None
        fields = self._ticker_fields(m)
        old = self._ticker.get(m.symbol, {})
        changed = {k: v for k, v in fields.items() if old.get(k) != v and k != "nextFundingTime"}
        if not changed:
            return None
        self._ticker[m.symbol] = fields
        return self._ticker_msg(m.symbol, "delta", {"symbol": m.symbol} | changed, ts)

    def _ticker_msg(self, sym: str, kind: str, data: dict[str, str], ts: int) -> Publication:
        key, cs = f"tickers.{sym}", self.seq[sym]
        if self.linear:
            msg: dict[str, Any] = {"topic": key, "type": kind, "data": data, "cs": cs, "ts": ts}
        else:
            msg = {"topic": key, "ts": ts, "type": kind, "cs": cs, "data": data}
        return Publication(key, dumps(msg), Channel.TICKER, sym)

    # -- REST ----------------------------------------------------------------------------

    def depth_body(self, m: SymbolMarket, limit: int, stale_behind: int | None) -> str:
        book, inst, ts = m.flow.book, m.inst, now_ms()
        u = self.book_u[m.symbol]
        if stale_behind is not None:
            u = max(0, u - stale_behind)
        result = {
            "s": m.symbol,
            "a": self._levels(inst, book.asks.top(limit)),
            "b": self._levels(inst, book.bids.top(limit)),
            "ts": ts,
            "u": u,
            "seq": self.seq[m.symbol],
            "cts": ts,
        }
        return dumps(
            {"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": ts}
        )

    def instruments_body(self, symbols: list[str]) -> str:
        listing = [self._instrument(self.markets[s].inst, i) for i, s in enumerate(symbols, 1)]
        result: dict[str, Any] = {"category": self.category, "list": listing}
        if self.linear:
            result["nextPageCursor"] = ""
        return dumps(
            {"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": now_ms()}
        )

    def _instrument(self, inst: Instrument, symbol_id: int) -> dict[str, Any]:
        tick, lot = self._px(inst, 1), self._qty(inst, 1)  # linear pads, spot trims
        if not self.linear:
            return {
                "symbolId": symbol_id,
                "symbol": inst.symbol,
                "baseCoin": inst.base,
                "quoteCoin": inst.quote,
                "innovation": "0",
                "status": "Trading",
                "marginTrading": "none",
                "stTag": "0",
                "lotSizeFilter": {
                    "basePrecision": lot,
                    "quotePrecision": "0.0000001",
                    "minOrderQty": lot,
                    "maxOrderQty": "10000",
                    "minOrderAmt": "5",
                    "maxOrderAmt": "8000000",
                },
                "priceFilter": {"tickSize": tick},
                "riskParameters": {"priceLimitRatioX": "0.005", "priceLimitRatioY": "0.01"},
            }
        return {
            "symbol": inst.symbol,
            "contractType": "LinearPerpetual",
            "status": "Trading",
            "baseCoin": inst.base,
            "quoteCoin": inst.quote,
            "launchTime": "1584230400000",
            "deliveryTime": "0",
            "deliveryFeeRate": "",
            "priceScale": str(inst.price_decimals),
            "leverageFilter": {"minLeverage": "1", "maxLeverage": "100.00", "leverageStep": "0.01"},
            "priceFilter": {"minPrice": tick, "maxPrice": "1999999.80", "tickSize": tick},
            "lotSizeFilter": {
                "maxOrderQty": "1500",
                "minOrderQty": lot,
                "qtyStep": lot,
                "postOnlyMaxOrderQty": "1500",
                "maxMktOrderQty": "150",
                "minNotionalValue": "5",
            },
            "unifiedMarginTrade": True,
            "fundingInterval": 480,
            "settleCoin": inst.quote,
            "copyTrading": "none",
            "upperFundingRate": "0.005",
            "lowerFundingRate": "-0.005",
            "isPreListing": False,
            "preListingInfo": None,
            "symbolId": symbol_id,
        }
