"""Coinbase Advanced Trade: raw messages -> events (pure functions; see
`ttxt_kafka.connectors.base.normalizer`).

By channel (one typed decoder, tagged by `channel`):
  l2_data -> OrderBook per event: `snapshot` = SNAPSHOT, `update` = DELTA; `new_quantity` is the
      absolute size at `price_level` ("0" removes), side `bid`/`offer`; sequence = the message's
      `sequence_num` (a per-connection counter: the connector checks it across all channels and
      sets each delta's `first_sequence`, see `book_sync.py`)
  market_trades -> Trades per product of an `update` event. `side` is the maker's (in the live
      capture a trade at the best ask says SELL), so the event's side is the taker's: the other
      one. `snapshot` events (the last trades before subscribing) give nothing: they are history,
      and would repeat trades after each reconnect.
  candles -> Kline (interval 5m, the only one the WS streams): each candle of an `update`, and
      the newest per product of a `snapshot` (the rest is history); closed once the message's
      time has passed its end
  ticker -> BBO (best_bid, best_bid_quantity, best_ask, best_ask_quantity)
  heartbeats, subscriptions -> nothing (their sequence_num still counts, in the connector)
`{"type": "error", "message": ...}` raises ExchangeMessageError. Times: the message's
`timestamp` (RFC 3339, ns) in µs, trades their own `time`.
"""

from __future__ import annotations

from typing import Any

import msgspec

from ttxt_kafka.events import (
    BBO,
    Event,
    InstrumentInfo,
    Kline,
    MarketType,
    OrderBook,
    Side,
    Trades,
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
_decode = msgspec.json.Decoder(m.PublicMessage).decode
_TRADES = m.TradesMessage
_CANDLE_US = ep.CANDLE_MS * 1000
# A market_trades `snapshot` (up to 100 old trades) is recognized from its head and skipped
# without decoding; any other key order takes the typed path, which skips it too.
_HISTORY = '{"channel":"market_trades",'
_HISTORY_HEAD = 160

_seconds: dict[str, int] = {}  # "YYYY-MM-DDTHH:MM:SS" -> µs since the epoch (recent ones)


def iso_us(text: str) -> int:
    """RFC 3339 UTC time ("2026-08-09T21:05:48.228568804Z", any fraction) -> µs, exactly
    (truncated to the µs). Messages of one second share its parsed start (a small cache)."""
    base = _seconds.get(text[:19])
    if base is None:
        if len(text) < 20 or text[10] not in "T " or text[4] != "-" or text[13] != ":":
            raise ValueError(f"not an RFC 3339 time: {text!r}")
        y, mo, d = int(text[:4]), int(text[5:7]), int(text[8:10])
        base = (_days_from_civil(y, mo, d) * 86400 + int(text[11:13]) * 3600
                + int(text[14:16]) * 60 + int(text[17:19])) * 1_000_000
        if len(_seconds) >= 4096:
            _seconds.clear()
        _seconds[text[:19]] = base
    if text[19:20] == ".":
        return base + int(text[20:26].rstrip("Z").ljust(6, "0"))
    return base


def _days_from_civil(y: int, mo: int, d: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    y -= mo <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (mo + (-3 if mo > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


class ProductNames(BaseNormalizer):
    """Coinbase product ids: BTC-USD <-> BTC/USD (public and private normalizers)."""

    def symbol(self, native: str) -> str:
        name = self._names.get(native)
        if name is None:
            base, _, quote = native.partition("-")
            name = self._names[native] = normalized_symbol(base, quote) if quote else native
        return name


class CoinbaseSpotNormalizer(ProductNames):
    venue = "coinbase_spot"
    exchange = "coinbase"

    def __call__(self, raw: Raw, receive_ts: int) -> list[Event]:
        try:
            if isinstance(raw, str) and raw.startswith(_HISTORY) and \
                    raw.find('"type":"snapshot"', 0, _HISTORY_HEAD) >= 0:
                return []  # the trades before subscribing: history, not republished
            if isinstance(raw, str | bytes | bytearray):
                try:
                    msg = _decode(raw)
                except msgspec.ValidationError:
                    return self._other(raw, parse(raw), receive_ts)
                except msgspec.DecodeError as exc:
                    raise malformed(raw, exc) from None
            else:
                return self._other(raw, raw, receive_ts)
            if msg.__class__ is _TRADES:  # the usual push: one update event of one trade
                events = msg.events
                if len(events) == 1 and events[0].type == "update" and \
                        len(trades := events[0].trades) == 1:
                    return [self.one_trade(trades[0], msg.sequence_num, receive_ts)]
            return self._dispatch(msg, receive_ts)
        except (MalformedMessage, ExchangeMessageError):
            raise
        except FRAME_ERRORS as exc:
            raise malformed(raw, exc) from None

    def _other(self, raw: Raw, obj: Any, receive_ts: int) -> list[Event]:
        """A frame the typed decoder refused: an error, an already parsed frame, or bad."""
        if not isinstance(obj, dict):
            raise MalformedMessage(f"not a JSON object: {str(obj)[:120]}")
        if obj.get("type") == "error":
            raise ExchangeMessageError(self.exchange, "error", str(obj.get("message", "")))
        channel = obj.get("channel")
        if channel is None:
            raise MalformedMessage(f"coinbase message without channel: {str(obj)[:120]}")
        if channel not in (ep.L2_DATA, ep.TRADES, ep.CANDLES, ep.TICKER, ep.HEARTBEATS,
                           ep.SUBSCRIPTIONS):
            raise MalformedMessage(f"unknown coinbase channel {channel!r}")
        # an already parsed frame (tools, tests), or a known channel the decoder refused:
        # `convert` reads it or says which field is wrong
        return self._dispatch(convert(raw, obj, m.PublicMessage), receive_ts)

    def _dispatch(self, msg: Any, receive_ts: int) -> list[Event]:
        cls = msg.__class__
        if cls is m.L2Message:
            return self.book(msg, receive_ts)
        if cls is m.TickerMessage:
            return self.bbo(msg, receive_ts)
        if cls is m.TradesMessage:
            return self.trades(msg, receive_ts)
        if cls is m.CandlesMessage:
            return self.klines(msg, receive_ts)
        return []  # heartbeats, subscriptions

    # ------------------------------------------------------------------ channels

    def book(self, msg: m.L2Message, receive_ts: int) -> list[Event]:
        ts = iso_us(msg.timestamp)
        seq = msg.sequence_num
        out: list[Event] = []
        for ev in msg.events:
            bids: list[tuple[str, str]] = []
            asks: list[tuple[str, str]] = []
            for u in ev.updates:
                (bids if u.side == "bid" else asks).append((u.price_level, u.new_quantity))
            pid = ev.product_id
            snapshot = ev.type == "snapshot"  # its order does not matter: the connector
            # publishes its own book, best first
            out.append(new_orderbook(self.venue, self.symbol(pid), pid, ts, receive_ts, seq,
                                     _SNAPSHOT if snapshot else _DELTA, bids, asks, 0, None,
                                     None, None))
        return out

    def one_trade(self, t: m.MarketTrade, seq: int, receive_ts: int) -> Event:
        pid = t.product_id
        ts = iso_us(t.time)
        return new_trades(self.venue, self._names.get(pid) or self.symbol(pid), pid, ts,
                          receive_ts, seq, [new_trade(t.trade_id, t.price, t.size,
                                                      _SELL if t.side == "BUY" else _BUY, ts)])

    def trades(self, msg: m.TradesMessage, receive_ts: int) -> list[Event]:
        out: list[Event] = []
        seq = msg.sequence_num
        for ev in msg.events:
            trades = ev.trades
            if ev.type != "update" or not trades:
                continue
            if len(trades) == 1:  # the usual push: one trade
                out.append(self.one_trade(trades[0], seq, receive_ts))
                continue
            pid = trades[0].product_id
            if all(t.product_id == pid for t in trades):  # one product
                batch = [new_trade(t.trade_id, t.price, t.size, _SELL if t.side == "BUY"
                                   else _BUY, iso_us(t.time)) for t in reversed(trades)]
                out.append(new_trades(self.venue, self.symbol(pid), pid,
                                      max(t.exchange_ts for t in batch), receive_ts, seq,
                                      batch))
                continue
            by_product: dict[str, list[Any]] = {}
            for t in reversed(trades):  # Coinbase lists the newest first
                by_product.setdefault(t.product_id, []).append(
                    new_trade(t.trade_id, t.price, t.size, _SELL if t.side == "BUY" else _BUY,
                              iso_us(t.time)))
            for pid, batch in by_product.items():
                out.append(new_trades(self.venue, self.symbol(pid), pid,
                                      max(t.exchange_ts for t in batch), receive_ts, seq,
                                      batch))
        return out

    def klines(self, msg: m.CandlesMessage, receive_ts: int) -> list[Event]:
        now = iso_us(msg.timestamp)
        out: list[Event] = []
        for ev in msg.events:
            candles = ev.candles
            if ev.type == "snapshot":
                newest: dict[str, m.Candle] = {}
                for c in candles:
                    best = newest.get(c.product_id)
                    if best is None or int(c.start) > int(best.start):
                        newest[c.product_id] = c
                candles = list(newest.values())
            for c in candles:
                open_us = int(c.start) * 1_000_000
                out.append(Kline(
                    venue=self.venue, symbol=self.symbol(c.product_id),
                    native_symbol=c.product_id, exchange_ts=now, receive_ts=receive_ts,
                    sequence=msg.sequence_num, interval=ep.CANDLE_INTERVAL, open_time=open_us,
                    close_time=open_us + _CANDLE_US - 1000, open=c.open, high=c.high,
                    low=c.low, close=c.close, volume=c.volume,
                    closed=now >= open_us + _CANDLE_US))
        return out

    def bbo(self, msg: m.TickerMessage, receive_ts: int) -> list[Event]:
        ts = iso_us(msg.timestamp)
        seq = msg.sequence_num
        return [new_bbo(self.venue, self.symbol(t.product_id), t.product_id, ts, receive_ts, seq,
                        t.best_bid, t.best_bid_quantity, t.best_ask, t.best_ask_quantity)
                for ev in msg.events for t in ev.tickers]

    # ------------------------------------------------------------------ REST bodies

    def instruments(self, body: Any, receive_ts: int) -> list[InstrumentInfo]:
        """GET /api/v3/brokerage/market/products -> InstrumentInfo (tick = price_increment,
        lot = base_increment, min/max qty = base_min/max_size, min notional = quote_min_size)."""
        resp = convert(body, parse(body), m.ProductsResponse)
        out = []
        for p in resp.products:
            if p.product_type != "SPOT":
                continue
            name = self._names[p.product_id] = normalized_symbol(p.base_currency_id,
                                                                 p.quote_currency_id)
            trading = (p.status == "online" and not p.trading_disabled and not p.is_disabled
                       and not p.cancel_only)
            out.append(InstrumentInfo(
                venue=self.venue, symbol=name, native_symbol=p.product_id,
                exchange_ts=receive_ts, receive_ts=receive_ts, market_type=MarketType.SPOT,
                base=p.base_currency_id, quote=p.quote_currency_id, trading=trading,
                tick_size=p.price_increment or p.quote_increment, lot_size=p.base_increment,
                min_qty=p.base_min_size, max_qty=p.base_max_size or None,
                min_notional=p.quote_min_size or None))
        return out


__all__ = ["BBO", "CoinbaseSpotNormalizer", "OrderBook", "Trades", "iso_us"]
