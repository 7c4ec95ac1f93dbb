"""Gate.io v4 spot: raw messages -> events (pure functions; see
`ttxt_kafka.connectors.base.normalizer`).

Pushes (`event: "update"`), by channel:
  spot.obu -> OrderBook: `full` = SNAPSHOT (sequence = u), else DELTA (first_sequence = U,
      sequence = u); depth from the stream name ob.<PAIR>.<depth>
  spot.order_book_update (the captures' channel) -> OrderBook DELTA (U, u); its snapshot is the
      REST `depth_snapshot` (sequence = id)
  spot.trades -> Trades (one trade per push; side = the taker's; sequence = trade id)
  spot.candlesticks -> Kline (closed = `w`; volume = `a` and quote volume = `v` where `a` is sent,
      else volume = `v` as older pushes meant it)
  spot.book_ticker -> BBO (sequence = u)
Control frames (subscribe/unsubscribe answers, `spot.pong`) give no events; an `error` object
raises ExchangeMessageError. Times: the result's own time (`t`, ms; trades `create_time_ms`)
* 1000 for the event header.
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
from ..base.symbols import normalized_symbol
from . import endpoints as ep
from . import messages as m

_SNAPSHOT = UpdateType.SNAPSHOT
_DELTA = UpdateType.DELTA
_BUY, _SELL = Side.BUY, Side.SELL
_decode_push = msgspec.json.Decoder(m.Push).decode
_TRADE_MESSAGE = m.TradeMessage


def _micros(ms: str) -> int:
    """"1606292218213.4578" (ms with a fraction) -> µs, exactly (no float)."""
    dot = ms.find(".")
    return int(ms[:dot] + (ms[dot + 1:dot + 4] + "000")[:3]) if dot >= 0 else int(ms) * 1000


def _step(decimals: int) -> str:
    """10^-decimals as a plain decimal string: 2 -> "0.01", 0 -> "1"."""
    return "1" if decimals <= 0 else "0." + "0" * (decimals - 1) + "1"


class GateSpotNormalizer(BaseNormalizer):
    venue = "gateio_spot"
    exchange = "gateio"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._fast: dict[type, Any] = {
            m.ObuMessage: self.book, m.TradeMessage: self.trade,
            m.LegacyBookMessage: self.legacy_book}

    def symbol(self, native: str) -> str:
        name = self._names.get(native)
        if name is None:
            base, _, quote = native.partition("_")
            name = self._names[native] = normalized_symbol(base, quote) if quote else native
        return name

    def __call__(self, raw: Raw, receive_ts: int) -> list[Event]:
        # The hot path: one typed decode of a text frame as a book, trade or legacy book push
        # (msgspec picks the class by the "channel" tag). Anything else (answers, errors,
        # other channels, a frame that does not decode as its class: the slow path says why)
        # takes `_other`.
        if type(raw) is str:
            try:
                msg = _decode_push(raw)
            except msgspec.DecodeError:
                return self._other(raw, receive_ts)
            if msg.event == "update" and msg.error is None:
                try:
                    if msg.__class__ is _TRADE_MESSAGE:  # the busiest push: its event made here
                        r = msg.result
                        ms = r.create_time_ms  # "1606292218213.4578": ms, a fraction -> µs
                        # 13 digits of ms (until the year 2286), then at most µs of the fraction
                        ts = (int((ms[:13] + ms[14:17]).ljust(16, "0")) if ms[13:14] == "."
                              else _micros(ms))
                        pair = r.pair
                        return [new_trades(
                            self.venue, self._names.get(pair) or self.symbol(pair), pair, ts,
                            receive_ts, r.trade_id,
                            [new_trade(str(r.trade_id), r.price, r.amount,
                                       _BUY if r.side == "buy" else _SELL, ts)])]
                    return [self._fast[msg.__class__](msg.result, receive_ts)]
                except FRAME_ERRORS as exc:
                    raise malformed(raw, exc) from None
        return self._other(raw, receive_ts)

    def _other(self, raw: Raw, receive_ts: int) -> list[Event]:
        try:
            msg = parse(raw)
            if not isinstance(msg, dict):
                raise MalformedMessage(f"not a JSON object: {str(msg)[:120]}")
            if msg.get("error"):
                err = msg["error"]
                code, text = (err.get("code"), err.get("message")) if isinstance(err, dict) \
                    else ("", err)
                raise ExchangeMessageError(self.exchange, str(code), str(text))
            channel = msg.get("channel")
            if channel is None:
                raise MalformedMessage(f"gate.io message without channel: {str(msg)[:120]}")
            if msg.get("event", "update") != "update" or channel == ep.PONG:
                return []  # subscribe/unsubscribe answers, pongs (docs examples omit "event")
            if channel == ep.BOOK:
                return [self.book(convert(raw, msg, m.ObuMessage).result, receive_ts)]
            if channel == ep.TRADES:
                return [self.trade(convert(raw, msg, m.TradeMessage).result, receive_ts)]
            if channel == ep.LEGACY_BOOK:
                return [self.legacy_book(convert(raw, msg, m.LegacyBookMessage).result,
                                         receive_ts)]
            if channel == ep.CANDLES:
                return [self.kline(convert(raw, msg, m.CandleMessage).result, receive_ts)]
            if channel == ep.BBO:
                return [self.bbo(convert(raw, msg, m.BookTickerMessage).result, receive_ts)]
            if channel in ("spot.tickers", "spot.order_book"):
                return []  # 24 h statistics; limited-level snapshots (the book is spot.obu)
            raise MalformedMessage(f"unknown gate.io channel {channel!r}")
        except (MalformedMessage, ExchangeMessageError):
            raise
        except FRAME_ERRORS as exc:
            raise malformed(raw, exc) from None

    def book(self, r: m.ObuResult, receive_ts: int) -> OrderBook:
        _, pair, depth = _stream_parts(r.stream)
        kind = _SNAPSHOT if r.full else _DELTA
        if kind is _DELTA and r.first_id is None:
            raise MalformedMessage(f"gate.io spot.obu update without U in {r.stream}")
        return new_orderbook(self.venue, self.symbol(pair), pair, r.ts * 1000, receive_ts,
                             r.last_id, kind, r.bids, r.asks, depth,
                             None if r.full else r.first_id, None, None)

    def legacy_book(self, r: m.LegacyBookResult, receive_ts: int) -> OrderBook:
        return new_orderbook(self.venue, self.symbol(r.pair), r.pair, r.ts * 1000, receive_ts,
                             r.last_id, _DELTA, r.bids, r.asks, 0, r.first_id, None, None)

    def trade(self, r: m.TradeResult, receive_ts: int) -> Event:
        ts = _micros(r.create_time_ms)
        pair = r.pair
        return new_trades(self.venue, self._names.get(pair) or self.symbol(pair), pair, ts,
                          receive_ts, r.trade_id,
                          [new_trade(str(r.trade_id), r.price, r.amount,
                                     _BUY if r.side == "buy" else _SELL, ts)])

    def kline(self, r: m.CandleResult, receive_ts: int) -> Kline:
        interval, _, pair = r.name.partition("_")
        if interval not in ep.INTERVAL_MS or not pair:
            raise MalformedMessage(f"bad gate.io candle name {r.name!r}")
        open_ms = int(r.open_time_s) * 1000
        volume, quote_volume = (r.a, r.v) if r.a is not None else (r.v, None)
        return Kline(venue=self.venue, symbol=self.symbol(pair), native_symbol=pair,
                     exchange_ts=open_ms * 1000, receive_ts=receive_ts, interval=interval,
                     open_time=open_ms * 1000,
                     close_time=(open_ms + ep.INTERVAL_MS[interval] - 1) * 1000,
                     open=r.open, high=r.high, low=r.low, close=r.close, volume=volume,
                     quote_volume=quote_volume, closed=r.closed)

    def bbo(self, r: m.BookTickerResult, receive_ts: int) -> Event:
        return new_bbo(self.venue, self.symbol(r.pair), r.pair, r.ts * 1000, receive_ts,
                       r.update_id, r.bid, r.bid_qty, r.ask, r.ask_qty)

    # ------------------------------------------------------------------ REST bodies

    def depth_snapshot(self, body: Any, pair: str, receive_ts: int) -> OrderBook:
        """GET /api/v4/spot/order_book?with_id=true -> SNAPSHOT (sequence = id)."""
        r = convert(body, parse(body), m.OrderBookResponse)
        ts = r.current * 1000 if r.current else receive_ts
        return new_orderbook(self.venue, self.symbol(pair), pair, ts, receive_ts, r.update_id,
                             _SNAPSHOT, r.bids, r.asks, 0, None, None, None)

    def instruments(self, body: Any, receive_ts: int) -> list[InstrumentInfo]:
        """GET /api/v4/spot/currency_pairs -> InstrumentInfo (tick = 10^-precision, lot =
        10^-amount_precision, min notional = min_quote_amount)."""
        pairs = convert(body, parse(body), list[m.CurrencyPair])
        out = []
        for p in pairs:
            name = self._names[p.id] = normalized_symbol(p.base, p.quote)
            out.append(InstrumentInfo(
                venue=self.venue, symbol=name, native_symbol=p.id, exchange_ts=receive_ts,
                receive_ts=receive_ts, market_type=MarketType.SPOT, base=p.base, quote=p.quote,
                trading=p.trade_status == "tradable", tick_size=_step(p.precision),
                lot_size=_step(p.amount_precision), min_qty=p.min_base_amount or "",
                max_qty=p.max_base_amount or None, min_notional=p.min_quote_amount or ""))
        return out


def _stream_parts(stream: str) -> tuple[str, str, int]:
    """ob.<PAIR>.<depth> -> ("ob", PAIR, depth)."""
    head, _, rest = stream.partition(".")
    pair, _, depth = rest.rpartition(".")
    if head != "ob" or not pair or not depth.isdigit():
        raise MalformedMessage(f"bad gate.io book stream {stream!r}")
    return head, pair, int(depth)
