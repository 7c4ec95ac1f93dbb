"""KuCoin spot message shapes and sequences for the synthetic market.

Each symbol has one book sequence that counts changes: a step with k level changes is one
`trade.l2update` with sequenceStart = previous sequenceEnd + 1, sequenceEnd = sequenceStart +
k - 1, each change `[price, size, sequence]` with its own sequence in that range; a step that
changes no level carries one `["0", "0", sequence]` change (KuCoin's sequence-only change).
The REST snapshot is the book with the symbol's last sequence. Matches carry the book sequence;
candles (`trade.candles.update`) are pushed on every trade; the ticker when the top changes.
Prices and sizes print with the instrument's decimals.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from ttxt_kafka.connectors.kucoin import endpoints as ep
from ttxt_kafka.simulator.feeds import UnknownStream
from ttxt_kafka.simulator.market.candles import Candle
from ttxt_kafka.simulator.market.flow import FlowStep
from ttxt_kafka.simulator.market.instruments import Instrument
from ttxt_kafka.simulator.publication import Channel, Publication
from ttxt_kafka.simulator.session import dumps
from ttxt_kafka.simulator.synthetic import MarketFormatter, SymbolMarket, now_ms
from ttxt_kafka.venues import VenueSpec

from .streams import parse


def _push(topic: str, subject: str, data: dict[str, Any]) -> str:
    return dumps({"type": "message", "topic": topic, "subject": subject, "data": data})


class KucoinFormatter(MarketFormatter):
    def __init__(self, spec: VenueSpec, markets: dict[str, SymbolMarket], seed: int) -> None:
        super().__init__(spec, markets, seed)
        self._rng = random.Random(f"{seed}:kucoin-ids")
        self.sequence = {sym: self._rng.randint(10**12, 10**13) for sym in markets}
        self.first_seq: dict[str, int] = {}  # first published: stale snapshots sit below it
        self._candle_keys: dict[str, dict[str, int]] = {}  # symbol -> {key: interval ms}
        self._top: dict[str, tuple[int, int, int, int]] = {}
        self._last_trade: dict[str, tuple[str, str]] = {}

    def native_name(self, inst: Instrument) -> str:
        return f"{inst.base}-{inst.quote}"

    def _px(self, inst: Instrument, ticks: int) -> str:
        return inst.price(ticks, inst.price_decimals)

    def _size(self, inst: Instrument, lots: int) -> str:
        return inst.qty(lots, inst.qty_decimals)

    # -- subscriptions -------------------------------------------------------------------

    def resolve(self, name: str) -> str:
        stream = parse(name)
        if stream.symbol not in self.markets:
            raise UnknownStream(name)
        return name

    def activate(self, key: str) -> None:
        stream = parse(key)
        if stream.channel == ep.CANDLES:
            m = self.markets[stream.symbol]
            ms = ep.CANDLE_TYPES[stream.param][1] * 1000
            m.candle_series(ms)
            self._candle_keys.setdefault(m.symbol, {})[key] = ms

    # -- market steps --------------------------------------------------------------------

    def on_step(self, m: SymbolMarket, step: FlowStep, active: Counter[str]) -> list[Publication]:
        sym, inst, ms = m.symbol, m.inst, step.ts_ms
        start = self.sequence[sym] + 1
        changes = max(step.changes, 1)
        end = self.sequence[sym] = start + changes - 1
        self.first_seq.setdefault(sym, start)
        out: list[Publication] = []
        trade = step.trade
        if trade is not None:
            self._last_trade[sym] = (self._px(inst, trade.price), self._size(inst, trade.qty))
            key = f"{ep.TRADES}:{sym}"
            if key in active:
                data = {"sequence": str(end), "type": "match", "symbol": sym,
                        "side": "buy" if trade.taker_buy else "sell",
                        "price": self._px(inst, trade.price), "size": self._size(inst, trade.qty),
                        "tradeId": f"{self._rng.getrandbits(96):024x}",
                        "takerOrderId": f"{self._rng.getrandbits(96):024x}",
                        "makerOrderId": f"{self._rng.getrandbits(96):024x}",
                        "time": str(ms * 1_000_000 + self._rng.randint(0, 999_999))}
                out.append(Publication(key, _push(key, ep.SUBJECT_MATCH, data),
                                       Channel.TRADES, sym))
        key = f"{ep.BOOK}:{sym}"
        if key in active:
            out.append(self._l2update(m, step, start, end, ms))
        top = m.flow.book.top_of_book()
        key = f"{ep.TICKER}:{sym}"
        if top != self._top.get(sym):
            self._top[sym] = top
            if key in active:
                out.append(self._ticker(m, top, end, ms))
        if trade is not None:
            for ckey, interval_ms in self._candle_keys.get(sym, {}).items():
                for candle in m.candles[interval_ms].update(ms, trade):
                    if ckey in active:
                        out.append(self._candle(inst, ckey, candle, ms))
        return out

    def _l2update(self, m: SymbolMarket, step: FlowStep, start: int, end: int, ms: int
                  ) -> Publication:
        inst, sym = m.inst, m.symbol
        seq = start
        sides: dict[str, list[list[str]]] = {"asks": [], "bids": []}
        for side, levels in (("asks", sorted(step.asks.items())),
                             ("bids", sorted(step.bids.items(), reverse=True))):
            for price, qty in levels:
                sides[side].append([self._px(inst, price), self._size(inst, qty), str(seq)])
                seq += 1
        if seq == start:  # nothing changed: one sequence-only change
            sides["asks"].append(["0", "0", str(start)])
        data = {"changes": sides, "sequenceEnd": end, "sequenceStart": start, "symbol": sym,
                "time": ms}
        key = f"{ep.BOOK}:{sym}"
        return Publication(key, _push(key, ep.SUBJECT_BOOK, data), Channel.BOOK, sym)

    def _ticker(self, m: SymbolMarket, top: tuple[int, int, int, int], seq: int, ms: int
                ) -> Publication:
        inst, sym = m.inst, m.symbol
        bid, bid_qty, ask, ask_qty = top
        price, size = self._last_trade.get(sym, (self._px(inst, bid), "0"))
        data = {"sequence": str(seq), "price": price, "size": size,
                "bestAsk": self._px(inst, ask), "bestAskSize": self._size(inst, ask_qty),
                "bestBid": self._px(inst, bid), "bestBidSize": self._size(inst, bid_qty),
                "time": ms}
        key = f"{ep.TICKER}:{sym}"
        return Publication(key, _push(key, ep.SUBJECT_TICKER, data), Channel.TICKER, sym)

    def _candle(self, inst: Instrument, key: str, c: Candle, ms: int) -> Publication:
        data = {"symbol": inst.symbol,
                "candles": [str(c.start_ms // 1000), self._px(inst, c.open),
                            self._px(inst, c.close), self._px(inst, c.high),
                            self._px(inst, c.low), self._size(inst, c.volume),
                            inst.notional(c.quote_volume)],
                "time": ms * 1_000_000}
        return Publication(key, _push(key, "trade.candles.update", data), Channel.KLINE,
                           inst.symbol)

    # -- REST ----------------------------------------------------------------------------

    def depth_body(self, m: SymbolMarket, limit: int, stale_behind: int | None) -> str:
        sym, book, inst = m.symbol, m.flow.book, m.inst
        seq = self.sequence[sym]
        if stale_behind is not None:
            seq = max(0, min(self.first_seq.get(sym, seq), seq) - stale_behind)
        return dumps({"sequence": str(seq), "time": now_ms(),
                       "bids": [[self._px(inst, p), self._size(inst, q)]
                                for p, q in book.bids.top(limit)],
                       "asks": [[self._px(inst, p), self._size(inst, q)]
                                for p, q in book.asks.top(limit)]})

    def instruments_body(self, symbols: list[str]) -> str:
        return dumps([self._symbol(self.markets[s].inst) for s in symbols])

    def _symbol(self, inst: Instrument) -> dict[str, Any]:
        return {"symbol": inst.symbol, "name": inst.symbol, "baseCurrency": inst.base,
                "quoteCurrency": inst.quote, "feeCurrency": inst.quote, "market": "USDS",
                "baseMinSize": self._size(inst, 1), "quoteMinSize": "0.1",
                "baseMaxSize": "10000000000", "quoteMaxSize": "99999999",
                "baseIncrement": self._size(inst, 1), "quoteIncrement": self._px(inst, 1),
                "priceIncrement": self._px(inst, 1), "priceLimitRate": "0.1", "minFunds": "0.1",
                "isMarginEnabled": False, "enableTrading": True}
