"""Bitget v2 message shapes for the synthetic market, with valid checksums.

`books` is the whole book: a subscriber first gets a `snapshot` of every level with the symbol's
current `seq`, then an `update` (`seq` + 1) for each market step that changed levels; every push
carries the CRC32 checksum of the top 25 levels after it, computed by Bitget's rule over the
strings sent. `books1` pushes snapshots of the best level when it changes; `trade` one trade per
push; `candle*` the current candle on subscribe and on every trade. Prices and sizes are printed
with the instrument's fixed decimals, as Bitget does.
"""

from __future__ import annotations

import random
from collections import Counter
from decimal import Decimal
from typing import Any

from ttxt_kafka.simulator.market.candles import Candle
from ttxt_kafka.simulator.market.flow import FlowStep
from ttxt_kafka.simulator.market.instruments import Instrument
from ttxt_kafka.simulator.publication import Channel, Publication
from ttxt_kafka.simulator.session import dumps
from ttxt_kafka.simulator.synthetic import CandleChannels, MarketFormatter, SymbolMarket, now_ms
from ttxt_kafka.venues import VenueSpec

from ..book_sync import CHECKSUM_LEVELS, checksum
from .topics import INST_TYPES, key_of, parse_key

_MIN = 60_000
CANDLE_MS = {"candle1m": _MIN, "candle5m": 5 * _MIN, "candle15m": 15 * _MIN,
             "candle30m": 30 * _MIN, "candle1H": 60 * _MIN, "candle4H": 240 * _MIN,
             "candle6Hutc": 360 * _MIN, "candle12Hutc": 720 * _MIN, "candle1Dutc": 1440 * _MIN,
             "candle1Wutc": 7 * 1440 * _MIN}


class BitgetFormatter(MarketFormatter):
    def __init__(self, spec: VenueSpec, markets: dict[str, SymbolMarket], seed: int) -> None:
        super().__init__(spec, markets, seed)
        self.inst_type = INST_TYPES[spec.category]
        self.spot = spec.category == "spot"
        self._rng = random.Random(f"{seed}:bitget-ids:{spec.category}")
        self.seq = {sym: self._rng.randint(10**9, 10**10) for sym in markets}
        self.trade_id = {sym: self._rng.randint(10**17, 10**18) for sym in markets}
        self.candles = CandleChannels(self.markets, CANDLE_MS)

    # -- formatting helpers --------------------------------------------------------------

    def _px(self, inst: Instrument, ticks: int) -> str:
        return inst.price(ticks, inst.price_decimals)

    def _qty(self, inst: Instrument, lots: int) -> str:
        return inst.qty(lots, inst.qty_decimals) if lots else "0"

    def _levels(self, inst: Instrument, levels: list[tuple[int, int]]) -> list[list[str]]:
        return [[self._px(inst, p), self._qty(inst, q)] for p, q in levels]

    def _arg(self, channel: str, sym: str) -> dict[str, str]:
        return {"instType": self.inst_type, "channel": channel, "instId": sym}

    def _push(self, action: str, channel: str, sym: str, data: list[Any], ts: int) -> str:
        return dumps({"action": action, "arg": self._arg(channel, sym), "data": data, "ts": ts})

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
            bids = self._levels(m.inst, book.bids.top(len(book.bids)))
            asks = self._levels(m.inst, book.asks.top(len(book.asks)))
            return [self._book(m, "snapshot", bids, asks, ts)]
        if k.channel == "books1":
            return [self._bbo(m, ts)]
        if (candle := self.candles.current(k)) is not None:
            return [self._candle(m.inst, k.channel, candle, "snapshot", ts)]
        return []

    # -- market steps --------------------------------------------------------------------

    def on_step(self, m: SymbolMarket, step: FlowStep, active: Counter[str]) -> list[Publication]:
        sym, inst, ts = m.symbol, m.inst, step.ts_ms
        out: list[Publication] = []
        trade = step.trade
        if trade is not None and key_of("trade", sym) in active:
            out.append(self._trade(m, trade.price, trade.qty, trade.taker_buy, ts))
        if step.bids or step.asks:
            self.seq[sym] += 1
            if key_of("books", sym) in active:
                bids = self._levels(inst, sorted(step.bids.items(), reverse=True))
                asks = self._levels(inst, sorted(step.asks.items()))
                out.append(self._book(m, "update", bids, asks, ts))
            if step.top_changed and key_of("books1", sym) in active:
                out.append(self._bbo(m, ts))
        if trade is not None:
            for channel, candle in self.candles.updated(m, ts, trade, active):
                out.append(self._candle(inst, channel, candle, "update", ts))
        return out

    def _checksum(self, m: SymbolMarket) -> int:
        book, inst = m.flow.book, m.inst
        return checksum(self._levels(inst, book.bids.top(CHECKSUM_LEVELS)),
                        self._levels(inst, book.asks.top(CHECKSUM_LEVELS)))

    def _book(self, m: SymbolMarket, action: str, bids: list[list[str]], asks: list[list[str]],
              ts: int) -> Publication:
        data = [{"asks": asks, "bids": bids, "checksum": self._checksum(m),
                 "seq": self.seq[m.symbol], "ts": str(ts)}]
        channel = Channel.BOOK if action == "update" else Channel.BOOK_SNAPSHOT
        return Publication(key_of("books", m.symbol),
                           self._push(action, "books", m.symbol, data, ts), channel, m.symbol)

    def _bbo(self, m: SymbolMarket, ts: int) -> Publication:
        bid, bid_qty, ask, ask_qty = m.flow.book.top_of_book()
        bids, asks = self._levels(m.inst, [(bid, bid_qty)]), self._levels(m.inst, [(ask, ask_qty)])
        data = [{"asks": asks, "bids": bids, "checksum": checksum(bids, asks),
                 "seq": self.seq[m.symbol], "ts": str(ts)}]
        return Publication(key_of("books1", m.symbol),
                           self._push("snapshot", "books1", m.symbol, data, ts), Channel.TICKER,
                           m.symbol)

    def _trade(self, m: SymbolMarket, price: int, qty: int, taker_buy: bool,
               ts: int) -> Publication:
        sym = m.symbol
        self.trade_id[sym] += 1
        data = [{"ts": str(ts), "price": self._px(m.inst, price), "size": self._qty(m.inst, qty),
                 "side": "buy" if taker_buy else "sell", "tradeId": str(self.trade_id[sym])}]
        return Publication(key_of("trade", sym), self._push("update", "trade", sym, data, ts),
                           Channel.TRADES, sym)

    def _candle(self, inst: Instrument, channel: str, c: Candle, action: str,
                ts: int) -> Publication:
        quote = inst.notional(c.quote_volume)
        item = [str(c.start_ms), self._px(inst, c.open), self._px(inst, c.high),
                self._px(inst, c.low), self._px(inst, c.close), self._qty(inst, c.volume),
                quote, quote]
        return Publication(key_of(channel, inst.symbol),
                           self._push(action, channel, inst.symbol, [item], ts), Channel.KLINE,
                           inst.symbol)

    # -- REST ----------------------------------------------------------------------------

    def depth_body(self, m: SymbolMarket, limit: int, stale_behind: int | None) -> str:
        book, inst, ts = m.flow.book, m.inst, now_ms()
        data = {"asks": self._levels(inst, book.asks.top(limit)),
                "bids": self._levels(inst, book.bids.top(limit)), "ts": str(ts)}
        return dumps({"code": "00000", "msg": "success", "requestTime": ts, "data": data})

    def instruments_body(self, symbols: list[str]) -> str:
        listing = [self._instrument(self.markets[s].inst) for s in symbols]
        return dumps({"code": "00000", "msg": "success", "requestTime": now_ms(),
                       "data": listing})

    def _instrument(self, inst: Instrument) -> dict[str, Any]:
        """As Bitget lists them: a tick of 0.10 is pricePlace 1, priceEndStep 1."""
        tick = Decimal(inst.tick_size).normalize()
        places = max(0, -int(tick.as_tuple().exponent))
        step = str(int(tick.scaleb(places)))
        lot = Decimal(inst.lot_size).normalize()
        lot_places = max(0, -int(lot.as_tuple().exponent))
        if self.spot:
            return {
                "symbol": inst.symbol, "baseCoin": inst.base, "quoteCoin": inst.quote,
                "minTradeAmount": self._qty(inst, 1), "maxTradeAmount": "10000",
                "takerFeeRate": "0.001", "makerFeeRate": "0.001",
                "pricePrecision": str(places), "quantityPrecision": str(lot_places),
                "quotePrecision": "6",
                "status": "online", "minTradeUSDT": "5", "buyLimitPriceRatio": "0.05",
                "sellLimitPriceRatio": "0.05", "areaSymbol": "no", "orderQuantity": "200",
                "openTime": "1532454360000", "offTime": "",
            }
        return {
            "symbol": inst.symbol, "baseCoin": inst.base, "quoteCoin": inst.quote,
            "buyLimitPriceRatio": "0.01", "sellLimitPriceRatio": "0.01",
            "feeRateUpRatio": "0.005", "makerFeeRate": "0.0002", "takerFeeRate": "0.0006",
            "openCostUpRatio": "0.01", "supportMarginCoins": [inst.quote],
            "minTradeNum": self._qty(inst, 1), "priceEndStep": step,
            "volumePlace": str(lot_places), "pricePlace": str(places),
            "sizeMultiplier": self._qty(inst, 1), "symbolType": "perpetual",
            "minTradeUSDT": "5", "maxSymbolOrderNum": "200", "maxProductOrderNum": "400",
            "maxPositionNum": "150", "symbolStatus": "normal", "offTime": "-1",
            "limitOpenTime": "-1", "deliveryTime": "", "deliveryStartTime": "",
            "launchTime": "", "fundInterval": "8", "minLever": "1", "maxLever": "125",
            "posLimit": "0.05", "maintainTime": "", "maxMarketOrderQty": "220",
            "maxOrderQty": "1200",
        }
