"""Coinbase Advanced Trade message shapes for the synthetic market.

`level2`: a subscriber gets a `snapshot` of the whole book, then an `update` for each market
step that changed levels (`new_quantity` the level's new absolute size, "0" removed), side
`bid`/`offer`. `market_trades`: one trade per update, `side` the maker's (as Coinbase sends it).
`candles`: 5-minute candles, the current one on subscribe and on every trade. `ticker`: the best
bid/offer whenever the top of the book changes. `sequence_num` is stamped per connection by the
protocol (see `streams.Stamp`), so it has no gaps unless a fault drops a message. Prices and
sizes print as Coinbase prints them: no trailing zeros.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from typing import Any

from ttxt_kafka.connectors.coinbase import endpoints as ep
from ttxt_kafka.simulator.feeds import UnknownStream
from ttxt_kafka.simulator.market.candles import Candle
from ttxt_kafka.simulator.market.flow import FlowStep
from ttxt_kafka.simulator.market.instruments import Instrument
from ttxt_kafka.simulator.publication import Channel, Publication
from ttxt_kafka.simulator.session import dumps
from ttxt_kafka.simulator.synthetic import MarketFormatter, SymbolMarket, now_ms
from ttxt_kafka.venues import VenueSpec

from .streams import key_of, parse


def iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


def _message(channel: str, events: list[Any], ms: int) -> str:
    return dumps({"channel": channel, "client_id": "", "timestamp": iso(ms), "sequence_num": 0,
                   "events": events})


def base_quote(inst: Instrument) -> tuple[str, str]:
    """BTC-USD -> (BTC, USD); other spellings as the instrument guessed them."""
    base, _, quote = inst.symbol.partition("-")
    return (base, quote) if quote else (inst.base, inst.quote)


class CoinbaseFormatter(MarketFormatter):
    def __init__(self, spec: VenueSpec, markets: dict[str, SymbolMarket], seed: int) -> None:
        super().__init__(spec, markets, seed)
        self._rng = random.Random(f"{seed}:coinbase-ids")
        self.trade_id = {sym: self._rng.randint(10**8, 10**9) for sym in markets}
        self._candles: set[str] = set()

    def native_name(self, inst: Instrument) -> str:
        return f"{inst.base}-{inst.quote}"

    def _levels(self, inst: Instrument, side: str, levels: list[tuple[int, int]], ms: int
                ) -> list[dict[str, str]]:
        when = iso(ms)
        return [{"side": side, "event_time": when, "price_level": inst.price(p),
                 "new_quantity": inst.qty(q) if q else "0"} for p, q in levels]

    # -- subscriptions -------------------------------------------------------------------

    def resolve(self, name: str) -> str:
        if parse(name).product not in self.markets:
            raise UnknownStream(name)
        return name

    def activate(self, key: str) -> None:
        stream = parse(key)
        if stream.channel == ep.CANDLES:
            self.markets[stream.product].candle_series(ep.CANDLE_MS)
            self._candles.add(stream.product)

    def on_subscribe(self, key: str) -> list[Publication]:
        stream = parse(key)
        m = self.markets[stream.product]
        ms = now_ms()
        if stream.channel == ep.LEVEL2:
            book = m.flow.book
            return [self._book(m, "snapshot", book.bids.top(len(book.bids)),
                               book.asks.top(len(book.asks)), ms)]
        if stream.channel == ep.TICKER:
            return [self._ticker(m, "snapshot", ms)]
        if stream.channel == ep.CANDLES:
            series = m.candles[ep.CANDLE_MS]
            if series.current is not None:
                return [self._candle(m.inst, series.current, "snapshot", ms)]
        return []

    # -- market steps --------------------------------------------------------------------

    def on_step(self, m: SymbolMarket, step: FlowStep, active: Counter[str]) -> list[Publication]:
        sym, ms = m.symbol, step.ts_ms
        out: list[Publication] = []
        trade = step.trade
        if trade is not None:
            self.trade_id[sym] += 1
            if key_of(ep.TRADES, sym) in active:
                out.append(self._trade(m, trade.price, trade.qty, trade.taker_buy, ms))
        if (step.bids or step.asks) and key_of(ep.LEVEL2, sym) in active:
            out.append(self._book(m, "update", sorted(step.bids.items(), reverse=True),
                                  sorted(step.asks.items()), ms))
        if step.top_changed and key_of(ep.TICKER, sym) in active:
            out.append(self._ticker(m, "update", ms))
        if trade is not None and sym in self._candles:
            for candle in m.candles[ep.CANDLE_MS].update(ms, trade):
                if key_of(ep.CANDLES, sym) in active:
                    out.append(self._candle(m.inst, candle, "update", ms))
        return out

    def _book(self, m: SymbolMarket, kind: str, bids: list[tuple[int, int]],
              asks: list[tuple[int, int]], ms: int) -> Publication:
        inst = m.inst
        event = {"type": kind, "product_id": m.symbol,
                 "updates": self._levels(inst, "bid", bids, ms)
                 + self._levels(inst, "offer", asks, ms)}
        channel = Channel.BOOK if kind == "update" else Channel.BOOK_SNAPSHOT
        return Publication(key_of(ep.LEVEL2, m.symbol), _message(ep.L2_DATA, [event], ms),
                           channel, m.symbol)

    def _ticker(self, m: SymbolMarket, kind: str, ms: int) -> Publication:
        bid, bid_qty, ask, ask_qty = m.flow.book.top_of_book()
        inst = m.inst
        ticker = {"type": "ticker", "product_id": m.symbol, "price": inst.price(m.stats.last),
                  "volume_24_h": "0", "low_24_h": inst.price(m.stats.low),
                  "high_24_h": inst.price(m.stats.high), "price_percent_chg_24_h": "0",
                  "best_bid": inst.price(bid), "best_bid_quantity": inst.qty(bid_qty),
                  "best_ask": inst.price(ask), "best_ask_quantity": inst.qty(ask_qty)}
        return Publication(key_of(ep.TICKER, m.symbol),
                           _message(ep.TICKER, [{"type": kind, "tickers": [ticker]}], ms),
                           Channel.TICKER, m.symbol)

    def _trade(self, m: SymbolMarket, price: int, qty: int, taker_buy: bool, ms: int
               ) -> Publication:
        sym = m.symbol
        trade = {"product_id": sym, "trade_id": str(self.trade_id[sym]),
                 "price": m.inst.price(price), "size": m.inst.qty(qty), "time": iso(ms),
                 "side": "SELL" if taker_buy else "BUY"}  # the maker's side
        return Publication(key_of(ep.TRADES, sym),
                           _message(ep.TRADES, [{"type": "update", "trades": [trade]}], ms),
                           Channel.TRADES, sym)

    def _candle(self, inst: Instrument, c: Candle, kind: str, ms: int) -> Publication:
        candle = {"start": str(c.start_ms // 1000), "high": inst.price(c.high),
                  "low": inst.price(c.low), "open": inst.price(c.open),
                  "close": inst.price(c.close), "volume": inst.qty(c.volume),
                  "product_id": inst.symbol}
        return Publication(key_of(ep.CANDLES, inst.symbol),
                           _message(ep.CANDLES, [{"type": kind, "candles": [candle]}], ms),
                           Channel.KLINE, inst.symbol)

    # -- REST ----------------------------------------------------------------------------

    def depth_body(self, m: SymbolMarket, limit: int, stale_behind: int | None) -> str:
        """GET /api/v3/brokerage/market/product_book."""
        book, inst = m.flow.book, m.inst

        def side(levels: list[tuple[int, int]]) -> list[dict[str, str]]:
            return [{"price": inst.price(p), "size": inst.qty(q)} for p, q in levels]

        return dumps({"pricebook": {"product_id": m.symbol, "bids": side(book.bids.top(limit)),
                                     "asks": side(book.asks.top(limit)),
                                     "time": iso(now_ms())}})

    def instruments_body(self, symbols: list[str]) -> str:
        products = [self._product(self.markets[s].inst) for s in symbols]
        return dumps({"products": products, "num_products": len(products),
                       "pagination": {"has_next": False}})

    def _product(self, inst: Instrument) -> dict[str, Any]:
        base, quote = base_quote(inst)
        return {"product_id": inst.symbol, "base_currency_id": base, "quote_currency_id": quote,
                "base_increment": inst.lot_size, "quote_increment": inst.tick_size,
                "price_increment": inst.tick_size, "base_min_size": inst.qty(1),
                "base_max_size": "10000", "quote_min_size": "1", "quote_max_size": "10000000",
                "status": "online", "trading_disabled": False, "is_disabled": False,
                "cancel_only": False, "product_type": "SPOT"}
