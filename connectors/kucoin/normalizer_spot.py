"""KuCoin spot: raw messages -> events (pure functions; see
`ttxt_kafka.connectors.base.normalizer`).

Pushes (`type: "message"`), by subject:
  trade.l2update -> OrderBook DELTA (first_sequence = sequenceStart, sequence = sequenceEnd);
      changes `[price, size, sequence]` -> levels `[price, size]` (size "0" deletes); a change
      with price "0" only advances the sequence (KuCoin's rule) and is left out, so a push made
      of those alone is an empty DELTA that keeps the chain. Its snapshot is the REST
      `depth_snapshot` (sequence = `sequence`).
  trade.l3match -> Trades (one trade; side = the taker's; sequence = the match's sequence)
  trade.candles.update / .add -> Kline (closed once the push's time reaches the candle's end)
  trade.ticker -> BBO (sequence = the ticker's sequence)
  level2 (`/spotMarket/level2Depth5`) -> OrderBook SNAPSHOT of 5 levels (no sequence)
Control frames (`welcome`, `ack`, `pong`) give no events; `error` raises ExchangeMessageError.
Times: l2update/ticker ms, match/candles ns, all to µs for the event header. Private pushes
(`channelType: "private"`) are the private normalizer's.
"""

from __future__ import annotations

from collections.abc import Callable
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
from ..base.symbols import normalized_symbol
from . import endpoints as ep
from . import messages as m

_SNAPSHOT = UpdateType.SNAPSHOT
_DELTA = UpdateType.DELTA
_SIDES = {"buy": Side.BUY, "sell": Side.SELL}
_CONTROL = frozenset({"welcome", "ack", "pong"})
_SUBJECT = '"subject":"'
_SUBJECT_B = b'"subject":"'
# The typed decoder of each data subject: a frame is decoded straight into its struct in one
# pass (the subject is found by a substring search first); anything else takes the slow path.
_DECODERS: dict[str, Callable[[Any], Any]] = {
    ep.SUBJECT_BOOK: msgspec.json.Decoder(m.L2Message).decode,
    # lax: the digit strings of `sequence` and `time` are read as integers in the decode
    ep.SUBJECT_MATCH: msgspec.json.Decoder(m.MatchMessage, strict=False).decode,
    ep.SUBJECT_TICKER: msgspec.json.Decoder(m.TickerMessage, strict=False).decode,
    "trade.candles.update": msgspec.json.Decoder(m.CandleMessage).decode,
    "trade.candles.add": msgspec.json.Decoder(m.CandleMessage).decode,
}


def _levels(changes: list[list[str]]) -> list[list[str]]:
    """[price, size, sequence] -> [price, size]; price "0" (a sequence-only change) left out."""
    return [[c[0], c[1]] for c in changes if c[0] != "0"]


def _lax(raw: Raw, msg: Any, into: Any) -> Any:
    """`convert` in lax mode (digit strings read as integers), for the slow path."""
    try:
        return msgspec.convert(msg, into, strict=False)
    except msgspec.ValidationError as exc:
        raise malformed(raw, exc) from None


def topic_symbol(topic: str) -> str:
    """"/market/ticker:BTC-USDT" -> "BTC-USDT"."""
    head, sep, symbol = topic.partition(":")
    if not sep or not symbol or "," in symbol:
        raise MalformedMessage(f"kucoin topic without one symbol: {topic!r}")
    return symbol


class KucoinSpotNormalizer(BaseNormalizer):
    venue = "kucoin_spot"
    exchange = "kucoin"

    def symbol(self, native: str) -> str:
        name = self._names.get(native)
        if name is None:
            base, _, quote = native.partition("-")
            name = self._names[native] = normalized_symbol(base, quote) if quote else native
        return name

    def __init__(self, symbols: Any = None) -> None:
        super().__init__(symbols)
        # subject -> (typed decoder, handler of the decoded message)
        self._fast: dict[str, tuple[Callable[[Any], Any], Callable[[Any, int], Event]]] = {
            ep.SUBJECT_BOOK: (_DECODERS[ep.SUBJECT_BOOK], self._book_msg),
            ep.SUBJECT_MATCH: (_DECODERS[ep.SUBJECT_MATCH], self._trade_msg),
            ep.SUBJECT_TICKER: (_DECODERS[ep.SUBJECT_TICKER], self.bbo),
            "trade.candles.update": (_DECODERS["trade.candles.update"], self.kline),
            "trade.candles.add": (_DECODERS["trade.candles.add"], self.kline),
        }

    def __call__(self, raw: Raw, receive_ts: int) -> list[Event]:
        if raw.__class__ is str:
            # today's pushes name the subject near the start, the 2021 captures near the end
            i = raw.find(_SUBJECT, 0, 120)  # type: ignore[union-attr]
            if i < 0:
                i = raw.rfind(_SUBJECT)  # type: ignore[union-attr]
            if i >= 0:
                i += 11
                fast = self._fast.get(raw[i:raw.find('"', i)])  # type: ignore[index, union-attr]
                if fast is not None:
                    try:
                        return [fast[1](fast[0](raw), receive_ts)]
                    except (msgspec.DecodeError, MalformedMessage):
                        pass  # the slow path names what is wrong
        elif raw.__class__ is bytes:
            i = raw.find(_SUBJECT_B, 0, 120)  # type: ignore[union-attr]
            if i < 0:
                i = raw.rfind(_SUBJECT_B)  # type: ignore[union-attr]
            if i >= 0:
                i += 11
                fast = self._fast.get(raw[i:raw.find(b'"', i)].decode())  # type: ignore[index, union-attr]
                if fast is not None:
                    try:
                        return [fast[1](fast[0](raw), receive_ts)]
                    except (msgspec.DecodeError, MalformedMessage):
                        pass
        return self._slow(raw, receive_ts)

    def _book_msg(self, msg: m.L2Message, receive_ts: int) -> Event:
        return self.book(msg.data, receive_ts)

    def _trade_msg(self, msg: m.MatchMessage, receive_ts: int) -> Event:
        return self.trade(msg.data, receive_ts)

    def _slow(self, raw: Raw, receive_ts: int) -> list[Event]:
        try:
            msg = parse(raw)
            if not isinstance(msg, dict):
                raise MalformedMessage(f"not a JSON object: {str(msg)[:120]}")
            kind = msg.get("type")
            if kind != "message":
                if kind in _CONTROL:
                    return []
                if kind == "error":
                    raise ExchangeMessageError(self.exchange, str(msg.get("code", "")),
                                               str(msg.get("data", "")))
                raise MalformedMessage(f"unknown kucoin message type {kind!r}: {str(msg)[:120]}")
            subject = msg.get("subject")
            if subject == ep.SUBJECT_BOOK:
                return [self.book(convert(raw, msg, m.L2Message).data, receive_ts)]
            if subject == ep.SUBJECT_TICKER:
                return [self.bbo(_lax(raw, msg, m.TickerMessage), receive_ts)]
            if subject == ep.SUBJECT_MATCH:
                return [self.trade(_lax(raw, msg, m.MatchMessage).data, receive_ts)]
            if subject in ep.SUBJECTS_CANDLE:
                return [self.kline(convert(raw, msg, m.CandleMessage), receive_ts)]
            if subject == "level2":
                return [self.depth5(convert(raw, msg, m.Depth5Message), receive_ts)]
            if msg.get("channelType") == "private":
                return []  # the private stream's normalizer reads these
            raise MalformedMessage(f"unknown kucoin subject {subject!r}")
        except (MalformedMessage, ExchangeMessageError):
            raise
        except FRAME_ERRORS as exc:
            raise malformed(raw, exc) from None

    def book(self, d: m.L2Data, receive_ts: int) -> OrderBook:
        native = d.symbol
        ts = d.time * 1000 if d.time else receive_ts
        return new_orderbook(self.venue, self._names.get(native) or self.symbol(native), native,
                             ts, receive_ts,
                             d.sequence_end, _DELTA, _levels(d.changes.bids),
                             _levels(d.changes.asks), 0, d.sequence_start, None, None)

    def trade(self, d: m.MatchData, receive_ts: int) -> Event:
        ts = d.time // 1000  # ns -> µs
        native = d.symbol
        return new_trades(self.venue, self._names.get(native) or self.symbol(native), native,
                          ts, receive_ts, d.sequence,
                          [new_trade(d.trade_id, d.price, d.size, _SIDES[d.side], ts)])

    def kline(self, msg: m.CandleMessage, receive_ts: int) -> Kline:
        d = msg.data
        native, _, kind = topic_symbol(msg.topic).rpartition("_")
        if kind not in ep.CANDLE_TYPES or native != d.symbol:
            raise MalformedMessage(f"bad kucoin candle topic {msg.topic!r}")
        interval, seconds = ep.CANDLE_TYPES[kind]
        start, open_, close, high, low, volume, turnover = d.candles
        open_us = int(start) * 1_000_000
        end_us = open_us + seconds * 1_000_000
        push_us = d.time // 1000
        return Kline(venue=self.venue, symbol=self.symbol(native), native_symbol=native,
                     exchange_ts=push_us, receive_ts=receive_ts, interval=interval,
                     open_time=open_us, close_time=end_us - 1000, open=open_, high=high,
                     low=low, close=close, volume=volume, quote_volume=turnover,
                     closed=push_us >= end_us)

    def bbo(self, msg: m.TickerMessage, receive_ts: int) -> Event:
        d = msg.data
        native = topic_symbol(msg.topic)
        if native == "all":  # /market/ticker:all names the symbol in `subject`
            native = msg.subject
        return new_bbo(self.venue, self.symbol(native), native, d.time * 1000, receive_ts,
                       d.sequence, d.best_bid, d.best_bid_size, d.best_ask,
                       d.best_ask_size)

    def depth5(self, msg: m.Depth5Message, receive_ts: int) -> OrderBook:
        d = msg.data
        native = topic_symbol(msg.topic)
        return new_orderbook(self.venue, self.symbol(native), native, d.timestamp * 1000,
                             receive_ts, None, _SNAPSHOT, d.bids, d.asks, 5, None, None, None)

    # ------------------------------------------------------------------ REST bodies

    def depth_snapshot(self, body: Any, native: str, receive_ts: int, depth: int = 0
                       ) -> OrderBook:
        """GET level2_100 / v3 level2 `data` (or the whole answer) -> SNAPSHOT (sequence)."""
        obj = parse(body)
        if isinstance(obj, dict) and "data" in obj and "code" in obj:
            obj = obj["data"]
        r = convert(body, obj, m.BookSnapshot)
        if not r.sequence.isdigit():
            raise MalformedMessage(f"kucoin snapshot sequence {r.sequence!r} is not a number")
        ts = r.time * 1000 if r.time else receive_ts
        return new_orderbook(self.venue, self.symbol(native), native, ts, receive_ts,
                             int(r.sequence), _SNAPSHOT, r.bids, r.asks, depth, None, None,
                             None)

    def instruments(self, body: Any, receive_ts: int) -> list[InstrumentInfo]:
        """GET /api/v2/symbols (or v1) -> InstrumentInfo: tick = priceIncrement, lot =
        baseIncrement, min/max qty = baseMinSize/baseMaxSize, min notional = minFunds (v2),
        else quoteMinSize (v1)."""
        obj = parse(body)
        if isinstance(obj, dict) and "data" in obj:
            obj = obj["data"]
        symbols = convert(body, obj, list[m.Symbol])
        out = []
        for s in symbols:
            name = self._names[s.symbol] = normalized_symbol(s.base, s.quote)
            out.append(InstrumentInfo(
                venue=self.venue, symbol=name, native_symbol=s.symbol, exchange_ts=receive_ts,
                receive_ts=receive_ts, market_type=MarketType.SPOT, base=s.base, quote=s.quote,
                trading=s.enable_trading, tick_size=s.price_increment,
                lot_size=s.base_increment, min_qty=s.base_min, max_qty=s.base_max or None,
                min_notional=s.min_funds or s.quote_min or ""))
        return out

    def rest_klines(self, body: Any, native: str, interval: str, receive_ts: int
                    ) -> list[Kline]:
        """GET /api/v1/market/candles (newest first: `[start s, open, close, high, low, volume,
        turnover]`) -> Klines, oldest first; closed when the candle ended by `receive_ts`."""
        obj = parse(body)
        if isinstance(obj, dict) and "data" in obj:
            obj = obj["data"]
        rows = convert(body, obj, list[m.CandleRow])
        if interval not in ep.CANDLE_TYPES:
            raise MalformedMessage(f"unknown kucoin candle type {interval!r}")
        name, seconds = ep.CANDLE_TYPES[interval]
        out = []
        for start, open_, close, high, low, volume, turnover in reversed(rows):
            open_us = int(start) * 1_000_000
            end_us = open_us + seconds * 1_000_000
            out.append(Kline(venue=self.venue, symbol=self.symbol(native), native_symbol=native,
                             exchange_ts=open_us, receive_ts=receive_ts, interval=name,
                             open_time=open_us, close_time=end_us - 1000, open=open_,
                             high=high, low=low, close=close, volume=volume,
                             quote_volume=turnover, closed=receive_ts >= end_us))
        return out
