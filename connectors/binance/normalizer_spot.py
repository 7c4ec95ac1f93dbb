"""Binance spot: raw messages -> events (pure functions; see
`ttxt_kafka.connectors.base.normalizer`).

Stream payloads (`/stream?streams=` frames `{"stream":..., "data":...}` or raw `/ws` payloads):
  depthUpdate -> OrderBook DELTA (sequence = u, first_sequence = U)
  aggTrade / trade -> Trades (one trade; side = the taker's: SELL when the buyer is the maker)
  kline -> Kline
  bookTicker -> BBO (sequence = u; spot sends no event time, so exchange_ts = receive time)
  partial depth (`@depth5/10/20`, combined frames only: the payload has no symbol) -> SNAPSHOT
REST: `depth_snapshot` (GET /api/v3/depth) and `instruments` (GET /api/v3/exchangeInfo).
Times: Binance milliseconds * 1000 = microseconds. Prices and quantities pass through verbatim.

Frames are decoded straight into the typed messages of `messages.py` (one msgspec pass, the
payload's class picked by its `e`); the few shapes outside that union take `_other`.
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
from ..base.symbols import guess_base_quote, normalized_symbol
from . import messages as m

_DELTA = UpdateType.DELTA
_SNAPSHOT = UpdateType.SNAPSHOT
_BUY = Side.BUY
_SELL = Side.SELL
_decode_ticker_frame = msgspec.json.Decoder(m.TickerFrame).decode


class BinanceSpotNormalizer(BaseNormalizer):
    venue = "binance"
    market_type = MarketType.SPOT
    exchange = "binance"
    frame_type: Any = m.SpotFrame  # the combined-stream frame
    payload_type: Any = m.SpotPayload  # its `data`: the tagged union of the stream payloads

    def __init__(self, symbols: Any = None) -> None:
        super().__init__(symbols)
        self._decode = msgspec.json.Decoder(self.frame_type).decode
        # By payload class: the decoder already told which message it is.
        self._handlers: dict[type, Callable[[Any, int], list[Event]]] = {
            m.DepthUpdate: self.depth_update,
            m.AggTrade: self.agg_trade,
            m.Trade: self.trade,
            m.Kline: self.kline,
            m.BookTicker: self.book_ticker,
        }

    def __call__(self, raw: Raw, receive_ts: int) -> list[Event]:
        try:
            data = self._decode(raw).data  # type: ignore[arg-type]  # the hot path: a text frame
        except (msgspec.DecodeError, TypeError):  # not a typed stream frame: see _other
            return self._other(raw, receive_ts)
        try:
            return self._handlers[data.__class__](data, receive_ts)
        except FRAME_ERRORS as exc:
            raise malformed(raw, exc) from None

    def _other(self, raw: Raw, receive_ts: int) -> list[Event]:
        """Frames the typed decoder did not take: already parsed objects, raw `/ws` payloads,
        payloads without an event type (spot bookTicker, partial depth), method answers, and
        frames of a known event type but the wrong shape (refused with msgspec's message)."""
        if isinstance(raw, str | bytes | bytearray):
            try:  # spot bookTicker, a frequent stream: typed too, in one pass
                return self.book_ticker(_decode_ticker_frame(raw).data, receive_ts)
            except msgspec.DecodeError:
                pass
        msg = parse(raw)
        if not isinstance(msg, dict):
            raise MalformedMessage(f"not a JSON object: {str(msg)[:120]}")
        data = msg.get("data", msg)  # combined-stream frame, or a raw `/ws` payload
        if not isinstance(data, dict):
            raise MalformedMessage(f"data is not a JSON object: {str(msg)[:120]}")
        event_type = data.get("e")
        if event_type is not None:
            if not isinstance(event_type, str) or event_type not in m.EVENT_TYPES:
                raise MalformedMessage(f"unknown {self.exchange} event type {event_type!r} in "
                                       f"{str(msg)[:120]}")
            typed = convert(raw, msg, self.frame_type).data if data is not msg \
                else convert(raw, msg, self.payload_type)
            try:
                return self._handlers[typed.__class__](typed, receive_ts)
            except FRAME_ERRORS as exc:
                raise malformed(raw, exc) from None
        if "id" in msg and ("result" in msg or "error" in msg):
            err = msg.get("error")
            if err:
                code, text = (err.get("code"), err.get("msg")) if isinstance(err, dict) \
                    else (None, err)
                raise ExchangeMessageError(self.exchange, str(code), str(text))
            return []
        if "A" in data and "u" in data:
            return self.book_ticker(convert(raw, data, m.BookTicker), receive_ts)
        if "lastUpdateId" in data and isinstance(msg.get("stream"), str):
            native = msg["stream"].split("@", 1)[0].upper()
            snap = convert(raw, data, m.DepthSnapshot)
            return [self._snapshot(snap, native, receive_ts)]
        raise MalformedMessage(f"unknown {self.exchange} message: {str(msg)[:120]}")

    # ------------------------------------------------------------------ stream payloads
    # Positional event constructors (`new_*`): every field, in schema order.

    def depth_update(self, d: m.DepthUpdate, receive_ts: int) -> list[Event]:
        native = d.symbol
        return [new_orderbook(
            self.venue, self._names.get(native) or self.symbol(native), native,
            d.event_time * 1000, receive_ts, d.final_update_id, _DELTA, d.bids, d.asks, 0,
            d.first_update_id, None, None,
        )]

    def agg_trade(self, d: m.AggTrade, receive_ts: int) -> list[Event]:
        native = d.symbol
        agg_id = d.agg_trade_id
        trade = new_trade(str(agg_id), d.price, d.qty, _SELL if d.buyer_is_maker else _BUY,
                          d.trade_time * 1000)
        return [new_trades(self.venue, self._names.get(native) or self.symbol(native), native,
                           d.event_time * 1000, receive_ts, agg_id, [trade])]

    def trade(self, d: m.Trade, receive_ts: int) -> list[Event]:
        native = d.symbol
        trade_id = d.trade_id
        trade = new_trade(str(trade_id), d.price, d.qty, _SELL if d.buyer_is_maker else _BUY,
                          d.trade_time * 1000)
        return [new_trades(self.venue, self._names.get(native) or self.symbol(native), native,
                           d.event_time * 1000, receive_ts, trade_id, [trade])]

    def kline(self, d: m.Kline, receive_ts: int) -> list[Event]:
        native = d.symbol
        k = d.bar
        return [Kline(
            venue=self.venue, symbol=self.symbol(native), native_symbol=native,
            exchange_ts=d.event_time * 1000, receive_ts=receive_ts, interval=k.interval,
            open_time=k.start_time * 1000, close_time=k.close_time * 1000, open=k.open,
            high=k.high, low=k.low, close=k.close, volume=k.volume, quote_volume=k.quote_volume,
            trade_count=k.trade_count, closed=k.closed,
        )]

    def book_ticker(self, d: m.BookTicker, receive_ts: int) -> list[Event]:
        native = d.symbol
        event_time = d.event_time  # spot sends none: the receive time stands in
        return [new_bbo(
            self.venue, self._names.get(native) or self.symbol(native), native,
            event_time * 1000 if event_time is not None else receive_ts, receive_ts,
            d.update_id, d.bid_price, d.bid_qty, d.ask_price, d.ask_qty,
        )]

    def _snapshot(self, d: m.DepthSnapshot, native: str, receive_ts: int) -> OrderBook:
        event_time = d.event_time  # spot sends none: the receive time stands in
        return new_orderbook(
            self.venue, self.symbol(native), native,
            event_time * 1000 if event_time is not None else receive_ts, receive_ts,
            d.last_update_id, _SNAPSHOT, d.bids, d.asks, 0, None, None, None,
        )

    # ------------------------------------------------------------------ REST bodies

    def depth_snapshot(self, body: Any, native: str, receive_ts: int) -> OrderBook:
        """GET depth -> SNAPSHOT (sequence = lastUpdateId). Spot's body has no time:
        exchange_ts is then the receive time."""
        return self._snapshot(convert(body, parse(body), m.DepthSnapshot), native, receive_ts)

    def instruments(self, body: Any, receive_ts: int) -> list[InstrumentInfo]:
        """GET exchangeInfo -> one InstrumentInfo per listed symbol."""
        d = parse(body)
        server_time = d.get("serverTime")
        ts = int(server_time) * 1000 if server_time else receive_ts
        out = []
        for s in d.get("symbols", ()):
            try:
                out.append(self._instrument(s, ts, receive_ts))
            except FRAME_ERRORS as exc:
                raise malformed(str(s)[:200], exc) from None
        return out

    def _instrument(self, s: dict[str, Any], ts: int, receive_ts: int) -> InstrumentInfo:
        native = s["symbol"]
        base, quote = s.get("baseAsset"), s.get("quoteAsset")
        if not base or not quote:
            base, quote = guess_base_quote(native)
        filters = {f.get("filterType"): f for f in s.get("filters", ())}
        price = filters.get("PRICE_FILTER", {})
        lot = filters.get("LOT_SIZE", {})
        notional = filters.get("NOTIONAL") or filters.get("MIN_NOTIONAL") or {}
        min_notional = notional.get("minNotional") or notional.get("notional")
        return InstrumentInfo(
            venue=self.venue, symbol=normalized_symbol(base, quote, self._suffix(s)),
            native_symbol=native, exchange_ts=ts, receive_ts=receive_ts,
            market_type=self.market_type, base=base, quote=quote,
            trading=s.get("status") == "TRADING", tick_size=price.get("tickSize", ""),
            lot_size=lot.get("stepSize", ""), min_qty=lot.get("minQty", ""),
            max_qty=lot.get("maxQty"), min_notional=min_notional,
        )

    def _suffix(self, s: dict[str, Any]) -> str:
        return ""
