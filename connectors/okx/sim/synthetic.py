"""OKX v5 message shapes for the synthetic market, with valid seqId chains and checksums.

OKX names instruments `BASE-QUOTE` (spot) and `BASE-QUOTE-SWAP`: the synthetic markets are
named so (`BTCUSDT` -> `BTC-USDT`, `BTC-USDT-SWAP`). `books` is a snapshot of every level (at
most 400) with the symbol's current `seqId` and `prevSeqId` -1, then an `update` for each market
step that changed levels: `seqId` grows by 1 to 3 (OKX's steps are not 1) and `prevSeqId` is
the previous push's `seqId`; every push carries the CRC32 of the top 25 levels after it, over
the strings sent (the shared rule, `base/checksums.py`). `tickers` and `bbo-tbt` push the best
bid/offer when it changes (tickers on trades too), `trades` one trade per push, `candle*` the
current candle on subscribe and on every trade, `confirm` "1" once it closed. Swap sizes are
contracts: one contract is one lot of the market (`ctVal` = the lot size, `lotSz` 1).
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

from ttxt_kafka.simulator.market.candles import Candle
from ttxt_kafka.simulator.market.flow import FlowStep
from ttxt_kafka.simulator.market.instruments import Instrument
from ttxt_kafka.simulator.publication import Channel, Publication
from ttxt_kafka.simulator.session import dumps
from ttxt_kafka.simulator.synthetic import CandleChannels, MarketFormatter, SymbolMarket, now_ms
from ttxt_kafka.venues import VenueSpec

from ...base.checksums import CHECKSUM_LEVELS, interleaved_crc32
from ..normalizer_spot import INTERVALS
from .topics import INST_TYPES, key_of, parse_key

BOOK_LEVELS = 400
# The simulated candles: those whose periods are fixed (months and UTC+8 days are not).
CANDLE_MS = {c: ms for c, (name, ms) in INTERVALS.items() if ms and not name.endswith("+8")}


def inst_id(inst: Instrument, swap: bool) -> str:
    return f"{inst.base}-{inst.quote}" + ("-SWAP" if swap else "")


class OkxFormatter(MarketFormatter):
    def __init__(self, spec: VenueSpec, markets: dict[str, SymbolMarket], seed: int) -> None:
        self.swap = INST_TYPES[spec.category] == "SWAP"
        super().__init__(spec, markets, seed)
        self.inst_type = INST_TYPES[spec.category]
        self._rng = random.Random(f"{seed}:okx-ids:{spec.category}")
        self.seq = {sym: self._rng.randint(10**9, 10**10) for sym in markets}
        self.trade_id = {sym: self._rng.randint(10**8, 10**9) for sym in markets}
        self.candles = CandleChannels(self.markets, CANDLE_MS)

    def native_name(self, inst: Instrument) -> str:
        return inst_id(inst, self.swap)

    # -- formatting helpers --------------------------------------------------------------

    def _px(self, inst: Instrument, ticks: int) -> str:
        return inst.price(ticks, inst.price_decimals)

    def _qty(self, inst: Instrument, lots: int) -> str:
        if not lots:
            return "0"
        return str(lots) if self.swap else inst.qty(lots, inst.qty_decimals)

    def _levels(self, inst: Instrument, levels: list[tuple[int, int]]) -> list[list[str]]:
        return [[self._px(inst, p), self._qty(inst, q), "0", "1" if q else "0"]
                for p, q in levels]

    def _push(self, channel: str, sym: str, data: list[Any], action: str | None = None) -> str:
        frame: dict[str, Any] = {"arg": {"channel": channel, "instId": sym}}
        if action is not None:
            frame["action"] = action
        frame["data"] = data
        return dumps(frame)

    # -- subscriptions -------------------------------------------------------------------

    def resolve(self, name: str) -> str:
        self.candles.check(parse_key(name))  # UTC+8 and monthly candles are not simulated
        return name

    def activate(self, key: str) -> None:
        self.candles.activate(parse_key(key))

    def on_subscribe(self, key: str) -> list[Publication]:
        k = parse_key(key)
        m = self.markets[k.symbol]
        ts = now_ms()
        if k.channel == "books":
            book = m.flow.book
            bids = self._levels(m.inst, book.bids.top(BOOK_LEVELS))
            asks = self._levels(m.inst, book.asks.top(BOOK_LEVELS))
            return [self._book(m, "snapshot", bids, asks, -1, ts)]
        if k.channel == "tickers":
            return [self._ticker(m, ts)]
        if k.channel == "bbo-tbt":
            return [self._bbo(m, ts)]
        if (candle := self.candles.current(k)) is not None:
            return [self._candle(m.inst, k.channel, candle)]
        return []

    # -- market steps --------------------------------------------------------------------

    def on_step(self, m: SymbolMarket, step: FlowStep, active: Counter[str]) -> list[Publication]:
        sym, inst, ts = m.symbol, m.inst, step.ts_ms
        out: list[Publication] = []
        trade = step.trade
        if trade is not None and key_of("trades", sym) in active:
            out.append(self._trade(m, trade.price, trade.qty, trade.taker_buy, ts))
        if step.bids or step.asks:
            prev = self.seq[sym]
            self.seq[sym] += self._rng.randint(1, 3)
            if key_of("books", sym) in active:
                bids = self._levels(inst, sorted(step.bids.items(), reverse=True))
                asks = self._levels(inst, sorted(step.asks.items()))
                out.append(self._book(m, "update", bids, asks, prev, ts))
            if step.top_changed and key_of("bbo-tbt", sym) in active:
                out.append(self._bbo(m, ts))
        if (step.top_changed or trade is not None) and key_of("tickers", sym) in active:
            out.append(self._ticker(m, ts))
        if trade is not None:
            for channel, candle in self.candles.updated(m, ts, trade, active):
                out.append(self._candle(inst, channel, candle))
        return out

    def _checksum(self, m: SymbolMarket) -> int:
        book, inst = m.flow.book, m.inst
        return interleaved_crc32(self._levels(inst, book.bids.top(CHECKSUM_LEVELS)),
                                 self._levels(inst, book.asks.top(CHECKSUM_LEVELS)))

    def _book(self, m: SymbolMarket, action: str, bids: list[list[str]], asks: list[list[str]],
              prev: int, ts: int) -> Publication:
        data = [{"asks": asks, "bids": bids, "ts": str(ts), "checksum": self._checksum(m),
                 "prevSeqId": prev, "seqId": self.seq[m.symbol]}]
        channel = Channel.BOOK if action == "update" else Channel.BOOK_SNAPSHOT
        return Publication(key_of("books", m.symbol),
                           self._push("books", m.symbol, data, action), channel, m.symbol)

    def _top(self, m: SymbolMarket) -> tuple[list[str], list[str]]:
        bid, bid_qty, ask, ask_qty = m.flow.book.top_of_book()
        return ([self._px(m.inst, bid), self._qty(m.inst, bid_qty)],
                [self._px(m.inst, ask), self._qty(m.inst, ask_qty)])

    def _bbo(self, m: SymbolMarket, ts: int) -> Publication:
        bid, ask = self._top(m)
        data = [{"asks": [[*ask, "0", "1"]], "bids": [[*bid, "0", "1"]], "ts": str(ts),
                 "seqId": self.seq[m.symbol]}]
        return Publication(key_of("bbo-tbt", m.symbol), self._push("bbo-tbt", m.symbol, data),
                           Channel.TICKER, m.symbol)

    def _ticker(self, m: SymbolMarket, ts: int) -> Publication:
        bid, ask = self._top(m)
        last = self._px(m.inst, m.stats.last)
        data = [{"instType": self.inst_type, "instId": m.symbol, "last": last, "lastSz": "0",
                 "askPx": ask[0], "askSz": ask[1], "bidPx": bid[0], "bidSz": bid[1],
                 "ts": str(ts)}]
        return Publication(key_of("tickers", m.symbol), self._push("tickers", m.symbol, data),
                           Channel.TICKER, m.symbol)

    def _trade(self, m: SymbolMarket, price: int, qty: int, taker_buy: bool,
               ts: int) -> Publication:
        sym = m.symbol
        self.trade_id[sym] += 1
        data = [{"instId": sym, "tradeId": str(self.trade_id[sym]),
                 "px": self._px(m.inst, price), "sz": self._qty(m.inst, qty),
                 "side": "buy" if taker_buy else "sell", "ts": str(ts), "count": "1"}]
        return Publication(key_of("trades", sym), self._push("trades", sym, data),
                           Channel.TRADES, sym)

    def _candle(self, inst: Instrument, channel: str, c: Candle) -> Publication:
        quote = inst.notional(c.quote_volume)
        base = inst.qty(c.volume, inst.qty_decimals) if c.volume else "0"
        vol = self._qty(inst, c.volume)
        item = [str(c.start_ms), self._px(inst, c.open), self._px(inst, c.high),
                self._px(inst, c.low), self._px(inst, c.close), vol,
                base if self.swap else quote, quote, "1" if c.closed else "0"]
        return Publication(key_of(channel, inst.symbol), self._push(channel, inst.symbol, [item]),
                           Channel.KLINE, inst.symbol)

    # -- REST ----------------------------------------------------------------------------

    def depth_body(self, m: SymbolMarket, limit: int, stale_behind: int | None) -> str:
        book, inst, ts = m.flow.book, m.inst, now_ms()
        data = {"asks": self._levels(inst, book.asks.top(limit)),
                "bids": self._levels(inst, book.bids.top(limit)), "ts": str(ts)}
        return dumps({"code": "0", "msg": "", "data": [data]})

    def instruments_body(self, symbols: list[str]) -> str:
        listing = [self._instrument(self.markets[s].inst) for s in symbols]
        return dumps({"code": "0", "msg": "", "data": listing})

    def _instrument(self, inst: Instrument) -> dict[str, Any]:
        common = {"instType": self.inst_type, "instId": inst.symbol, "tickSz": inst.tick_size,
                  "state": "live", "listTime": "1548133413000", "category": "1",
                  "maxMktSz": "1000000", "maxLmtSz": "9999999999", "lever": "10"}
        if not self.swap:
            return {**common, "baseCcy": inst.base, "quoteCcy": inst.quote,
                    "lotSz": inst.lot_size, "minSz": inst.lot_size, "ctVal": "",
                    "ctValCcy": "", "ctType": "", "settleCcy": "", "uly": "",
                    "instFamily": ""}
        family = f"{inst.base}-{inst.quote}"
        return {**common, "baseCcy": "", "quoteCcy": "", "lotSz": "1", "minSz": "1",
                "ctVal": inst.lot_size, "ctValCcy": inst.base, "ctType": "linear",
                "ctMult": "1", "settleCcy": inst.quote, "uly": family, "instFamily": family}
