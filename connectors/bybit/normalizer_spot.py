"""Bybit v5 spot: raw messages -> events (pure functions; see
`ttxt_kafka.connectors.base.normalizer`).

Public topics (`{"topic":..., "type":..., "ts":..., "data":...}`):
  orderbook.{depth}.{symbol}, depth > 1 -> OrderBook SNAPSHOT / DELTA (sequence = u); a message
      with u == 1 is a snapshot after a service restart whatever its type (docs)
  orderbook.1.{symbol} -> BBO (level 1 is always a snapshot, pushed on change)
  publicTrade.{symbol} -> Trades (one batch per message; side = taker side `S`)
  kline.{interval}.{symbol} -> Kline (one per data item; closed = `confirm`)
  tickers.{symbol} -> nothing: 24 h statistics are not in the catalogue (and spot tickers carry
      no best bid/ask; BBO comes from orderbook.1)
Control frames (`op`: subscribe acks, pong) give no events; `success: false` raises
ExchangeMessageError. Times: `ts` (the message's push time, ms) * 1000 for the event header,
`T` for each trade. REST: `instruments` (GET /v5/market/instruments-info), `depth_snapshot`
(GET /v5/market/orderbook).

Frames are decoded into the typed messages of `messages.py` (msgspec: parsed and checked in one
pass); the message class is picked from the topic.
"""

from __future__ import annotations

from typing import Any

import msgspec

from ttxt_kafka.events import (
    Event,
    InstrumentInfo,
    Kline,
    MarketType,
    OrderBook,
    Side,
    UpdateType,
    new_bbo,
    new_orderbook,
    new_trade,
    new_trades,
)

from ..base.errors import ExchangeMessageError, MalformedMessage
from ..base.normalizer import FRAME_ERRORS, BaseNormalizer, Raw, convert, malformed, parse
from ..base.symbols import guess_base_quote, normalized_symbol
from . import messages as m

_DELTA = UpdateType.DELTA
_SNAPSHOT = UpdateType.SNAPSHOT
_BUY = Side.BUY
_SELL = Side.SELL

# Bybit kline intervals -> the catalogue's names
INTERVALS = {"1": "1m", "3": "3m", "5": "5m", "15": "15m", "30": "30m", "60": "1h", "120": "2h",
             "240": "4h", "360": "6h", "720": "12h", "D": "1d", "W": "1w"}

# Heads of the two high-rate pushes, as Bybit writes them (topic first).
_BOOK_HEAD = '{"topic":"orderbook.'
_TRADE_HEAD = '{"topic":"publicTrade.'
_decode_book = msgspec.json.Decoder(m.BookMessage).decode
_decode_trades = msgspec.json.Decoder(m.TradeMessage).decode


class BybitSpotNormalizer(BaseNormalizer):
    venue = "bybit_spot"
    market_type = MarketType.SPOT
    exchange = "bybit"

    def __call__(self, raw: Raw, receive_ts: int) -> list[Event]:
        try:
            # The hot path: Bybit writes "topic" first, so a text frame's head names its
            # message class and one typed decode reads the whole frame. Anything else (other
            # topics or key orders, control frames, bytes, parsed objects) takes `_other`.
            if type(raw) is str:
                if raw.startswith(_BOOK_HEAD):
                    return self.book(_decode_book(raw), receive_ts)
                if raw.startswith(_TRADE_HEAD):
                    return self.trades(_decode_trades(raw), receive_ts)
            return self._other(raw, receive_ts)
        except FRAME_ERRORS as exc:  # msgspec's errors too: they are ValueErrors
            raise malformed(raw, exc) from None

    def _other(self, raw: Raw, receive_ts: int) -> list[Event]:
        """Any frame: parsed first, then typed by its topic (`convert` checks it as the
        typed decoders do)."""
        msg = parse(raw)
        if not isinstance(msg, dict):
            raise MalformedMessage(f"not a JSON object: {str(msg)[:120]}")
        topic = msg.get("topic")
        if topic is None:
            return self._control(msg)
        kind = str(topic).partition(".")[0]
        if kind == "orderbook":
            return self.book(convert(raw, msg, m.BookMessage), receive_ts)
        if kind == "publicTrade":
            return self.trades(convert(raw, msg, m.TradeMessage), receive_ts)
        if kind == "kline":
            return self.klines(convert(raw, msg, m.KlineMessage), receive_ts)
        if kind in ("tickers", "allLiquidation"):
            return []
        raise MalformedMessage(f"unknown bybit topic {topic!r}")

    def _control(self, msg: dict[str, Any]) -> list[Event]:
        if "op" not in msg and "success" not in msg:
            raise MalformedMessage(f"bybit message without topic or op: {str(msg)[:120]}")
        if msg.get("success") is False:
            raise ExchangeMessageError(self.exchange, str(msg.get("op")), str(msg.get("ret_msg")))
        return []

    # Positional event constructors (`new_*`): every field, in schema order.

    def book(self, msg: m.BookMessage, receive_ts: int) -> list[Event]:
        """orderbook.{depth}.{symbol}: depth 1 is the BBO, deeper ones the book."""
        try:
            depth = int(msg.topic.split(".", 2)[1])
        except (IndexError, ValueError):
            raise MalformedMessage(f"bad bybit orderbook topic {msg.topic!r}") from None
        if depth == 1:
            return self._bbo(msg, receive_ts)
        d = msg.data
        native = d.symbol
        u = d.update_id
        return [new_orderbook(
            self.venue, self._names.get(native) or self.symbol(native), native, msg.ts * 1000,
            receive_ts, u, _SNAPSHOT if msg.kind == "snapshot" or u == 1 else _DELTA,
            d.bids, d.asks, depth, None, None, None,
        )]

    def _bbo(self, msg: m.BookMessage, receive_ts: int) -> list[Event]:
        d = msg.data
        bids, asks = d.bids, d.asks
        if not bids or not asks:
            return []  # one side empty: there is no best bid/offer to report
        (bid, bid_qty), (ask, ask_qty) = bids[0], asks[0]
        native = d.symbol
        return [new_bbo(
            self.venue, self._names.get(native) or self.symbol(native), native, msg.ts * 1000,
            receive_ts, d.update_id, bid, bid_qty, ask, ask_qty,
        )]

    def trades(self, msg: m.TradeMessage, receive_ts: int) -> list[Event]:
        items = msg.data
        if not items:
            return []
        native = items[0].symbol
        trades = [new_trade(t.trade_id, t.price, t.size, _SELL if t.side == "Sell" else _BUY,
                            t.trade_time * 1000) for t in items]
        return [new_trades(self.venue, self._names.get(native) or self.symbol(native), native,
                           msg.ts * 1000, receive_ts, items[-1].seq, trades)]

    def klines(self, msg: m.KlineMessage, receive_ts: int) -> list[Event]:
        native = msg.topic.rsplit(".", 1)[1]
        symbol = self.symbol(native)
        ts = msg.ts * 1000
        return [Kline(
            venue=self.venue, symbol=symbol, native_symbol=native, exchange_ts=ts,
            receive_ts=receive_ts, interval=INTERVALS[k.interval], open_time=k.start * 1000,
            close_time=k.end * 1000, open=k.open, high=k.high, low=k.low, close=k.close,
            volume=k.volume, quote_volume=k.turnover, closed=k.confirm,
        ) for k in msg.data]

    # ------------------------------------------------------------------ REST bodies

    def depth_snapshot(self, body: Any, receive_ts: int) -> OrderBook:
        """GET /v5/market/orderbook -> SNAPSHOT (sequence = u)."""
        r = convert(body, parse(body), m.BookResponse).result
        native = r.symbol
        return new_orderbook(
            self.venue, self.symbol(native), native, r.ts * 1000, receive_ts, r.update_id,
            _SNAPSHOT, r.bids, r.asks, 0, None, None, None,
        )

    def instruments(self, body: Any, receive_ts: int) -> list[InstrumentInfo]:
        """One page of GET /v5/market/instruments-info -> InstrumentInfo events."""
        d = parse(body)
        ts = int(d["time"]) * 1000 if d.get("time") else receive_ts
        out = []
        for s in _result(d).get("list", ()):
            try:
                out.append(self._instrument(s, ts, receive_ts))
            except FRAME_ERRORS as exc:
                raise malformed(str(s)[:200], exc) from None
        return out

    def _instrument(self, s: dict[str, Any], ts: int, receive_ts: int) -> InstrumentInfo:
        native = s["symbol"]
        base, quote = s.get("baseCoin"), s.get("quoteCoin")
        if not base or not quote:
            base, quote = guess_base_quote(native)
        lot = s.get("lotSizeFilter") or {}
        return InstrumentInfo(
            venue=self.venue, symbol=normalized_symbol(base, quote, self._suffix(s)),
            native_symbol=native, exchange_ts=ts, receive_ts=receive_ts,
            market_type=self.market_type, base=base, quote=quote,
            trading=s.get("status") == "Trading",
            tick_size=(s.get("priceFilter") or {}).get("tickSize", ""),
            lot_size=self._lot_size(lot), min_qty=lot.get("minOrderQty", ""),
            max_qty=lot.get("maxOrderQty"), min_notional=self._min_notional(lot),
        )

    def _suffix(self, s: dict[str, Any]) -> str:
        return ""

    def _lot_size(self, lot: dict[str, Any]) -> str:
        return str(lot.get("basePrecision", ""))

    def _min_notional(self, lot: dict[str, Any]) -> str | None:
        return lot.get("minOrderAmt")


def _result(d: Any) -> dict[str, Any]:
    """The `result` of a v5 REST envelope."""
    result = d["result"]
    if not isinstance(result, dict):
        raise TypeError("result is not an object")
    return result
