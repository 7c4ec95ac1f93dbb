"""Bitget v2 spot: raw messages -> events (pure functions; see
`ttxt_kafka.connectors.base.normalizer`).

Public channels (`{"action":..., "arg":{"instType","channel","instId"}, "data":[...], "ts":..}`):
  books -> OrderBook SNAPSHOT / DELTA (sequence = seq, checksum = the exchange's CRC32; the
      connector checks it on its own book, see `book_sync`)
  books1 -> BBO (always a snapshot of the best level)
  books5 / books15 -> nothing (snapshots of the top levels; the full `books` is the book)
  trade -> Trades (one batch per push; side = the taker's; the first push after subscribing,
      action `snapshot`, repeats the latest trades: consumers dedupe by trade id)
  candle<interval> -> Kline, every interval Bitget streams (candle1m ... candle1M and the `utc`
      variants); a `snapshot` push carries the history: only its newest candle goes out;
      closed = the candle's period ended by the push time
  ticker -> nothing: 24 h statistics are not in the catalogue (BBO comes from books1)
Control frames (`event` subscribe/unsubscribe/login, the text `pong`) give no events;
`event: error` raises ExchangeMessageError. Times: the push's `ts` (ms) * 1000, a book's own
`ts`, each trade's `ts`. REST: `instruments` (GET /api/v2/spot/public/symbols).
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import msgspec

from ttxt_kafka.events import (
    Event,
    InstrumentInfo,
    Kline,
    MarketType,
    Side,
    UpdateType,
    new_bbo,
    new_orderbook,
    new_trade,
    new_trades,
)

from ..base.errors import ExchangeMessageError, MalformedMessage
from ..base.normalizer import FRAME_ERRORS, BaseNormalizer, Raw, malformed, parse
from ..base.symbols import normalized_symbol
from . import messages as m

_DELTA = UpdateType.DELTA
_SNAPSHOT = UpdateType.SNAPSHOT
_BUY = Side.BUY
_SELL = Side.SELL
_TAKER_SIDES = {"buy": _BUY, "sell": _SELL}  # a missing key is a malformed frame
_MIN = 60_000
_HOUR = 60 * _MIN
_DAY = 24 * _HOUR
_MONTH = -1  # calendar months: computed per candle

# Bitget candle channels -> (the catalogue's interval name, length in ms). Without `utc`, the
# 6H and longer candles start at 00:00 UTC+8; those keep Bitget's name in the interval.
INTERVALS: dict[str, tuple[str, int]] = {
    "candle1m": ("1m", _MIN), "candle5m": ("5m", 5 * _MIN), "candle15m": ("15m", 15 * _MIN),
    "candle30m": ("30m", 30 * _MIN), "candle1H": ("1h", _HOUR), "candle4H": ("4h", 4 * _HOUR),
    "candle6H": ("6h+8", 6 * _HOUR), "candle12H": ("12h+8", 12 * _HOUR),
    "candle1D": ("1d+8", _DAY), "candle3D": ("3d+8", 3 * _DAY), "candle1W": ("1w+8", 7 * _DAY),
    "candle1M": ("1M+8", _MONTH),
    "candle6Hutc": ("6h", 6 * _HOUR), "candle12Hutc": ("12h", 12 * _HOUR),
    "candle1Dutc": ("1d", _DAY), "candle3Dutc": ("3d", 3 * _DAY),
    "candle1Wutc": ("1w", 7 * _DAY), "candle1Mutc": ("1M", _MONTH),
}

_decode_push = msgspec.json.Decoder(m.Push).decode
_decode_books_push = msgspec.json.Decoder(m.BooksPush).decode
_decode_trade_push = msgspec.json.Decoder(m.TradePush, strict=False).decode
# Bitget writes `action` then `arg` first: a push's channel is in its first ~80 characters.
_BOOKS = '"channel":"books"'
_TRADE = '"channel":"trade"'
_decode_books = msgspec.json.Decoder(list[m.BookData]).decode
_decode_trades = msgspec.json.Decoder(list[m.TradeData], strict=False).decode
_decode_candles = msgspec.json.Decoder(list[m.Candle]).decode
_encode = msgspec.json.encode


def _month_end(start_ms: int, utc8: bool) -> int:
    """Start of the calendar month after the one starting at `start_ms`."""
    shift = 8 * _HOUR if utc8 else 0
    t = datetime.fromtimestamp((start_ms + shift) / 1000, UTC)
    year, month = (t.year + 1, 1) if t.month == 12 else (t.year, t.month + 1)
    return calendar.timegm((year, month, 1, 0, 0, 0)) * 1000 - shift


class BitgetSpotNormalizer(BaseNormalizer):
    venue = "bitget_spot"
    market_type = MarketType.SPOT
    exchange = "bitget"

    def __call__(self, raw: Raw, receive_ts: int) -> list[Event]:
        try:
            # The hot path: the channel in the head of a text frame picks the one typed decode
            # that reads the whole push. Anything else takes the envelope first (`_other`).
            if type(raw) is str and raw.startswith('{"action"'):
                head = raw[:80]
                if _BOOKS in head:
                    p = _decode_books_push(raw)
                    return self.book(p, p.arg, p.data, receive_ts)
                if _TRADE in head:
                    t = _decode_trade_push(raw)
                    return self.trades(t, t.arg, t.data, receive_ts)
            return self._other(raw, receive_ts)
        except FRAME_ERRORS as exc:  # msgspec's errors too: they are ValueErrors
            raise malformed(raw, exc) from None

    def _other(self, raw: Raw, receive_ts: int) -> list[Event]:
        try:
            if isinstance(raw, Mapping):
                raw = _encode(raw)
            elif raw == "pong" or raw == b"pong":
                return []
            push = _decode_push(raw)
            arg = push.arg
            if push.event is not None or arg is None:
                return self._control(push, raw)
            if not len(push.data):
                raise MalformedMessage(f"bitget push without data: {str(raw)[:120]}")
            channel = arg.channel
            if channel == "books":
                return self.book(push, arg, _decode_books(push.data), receive_ts)
            if channel == "trade":
                return self.trades(push, arg, _decode_trades(push.data), receive_ts)
            if channel == "books1":
                return self.bbo(push, arg, _decode_books(push.data), receive_ts)
            if channel.startswith("candle"):
                return self.klines(push, arg, _decode_candles(push.data), receive_ts)
            if channel in ("ticker", "books5", "books15"):
                return []
            raise MalformedMessage(f"unknown bitget channel {channel!r}")
        except FRAME_ERRORS as exc:  # msgspec's errors too: they are ValueErrors
            raise malformed(raw, exc) from None

    def _control(self, push: m.Push, raw: Raw) -> list[Event]:
        if push.event == "error":
            raise ExchangeMessageError(self.exchange, str(push.code), str(push.msg))
        if push.event is None:
            raise MalformedMessage(f"bitget message without arg or event: {str(raw)[:120]}")
        return []

    def _name(self, native: str) -> str:
        return self._names.get(native) or self.symbol(native)

    # Positional event constructors (`new_*`): every field, in schema order.

    def book(self, push: m.Push | m.BooksPush, arg: m.Arg, items: list[m.BookData],
             receive_ts: int) -> list[Event]:
        native = arg.inst_id
        kind = _SNAPSHOT if push.action == "snapshot" else _DELTA
        return [new_orderbook(
            self.venue, self._name(native), native, int(d.ts) * 1000, receive_ts, d.seq, kind,
            d.bids, d.asks, 0, None, None, d.checksum,
        ) for d in items]

    def bbo(self, push: m.Push, arg: m.Arg, items: list[m.BookData],
            receive_ts: int) -> list[Event]:
        native = arg.inst_id
        out: list[Event] = []
        for d in items:
            if not d.bids or not d.asks:
                continue  # one side empty: there is no best bid/offer to report
            (bid, bid_qty), (ask, ask_qty) = d.bids[0], d.asks[0]
            out.append(new_bbo(self.venue, self._name(native), native, int(d.ts) * 1000,
                               receive_ts, d.seq, bid, bid_qty, ask, ask_qty))
        return out

    def trades(self, push: m.Push | m.TradePush, arg: m.Arg, items: list[m.TradeData],
               receive_ts: int) -> list[Event]:
        if not items:
            return []
        native = arg.inst_id
        sides = _TAKER_SIDES
        trades = [new_trade(t.trade_id, t.price, t.size, sides[t.side], t.ts * 1000)
                  for t in items]
        ts = push.ts if push.ts is not None else items[0].ts
        symbol = self._names.get(native) or self.symbol(native)  # `_name`, inlined: hot path
        return [new_trades(self.venue, symbol, native, ts * 1000, receive_ts, None, trades)]

    def klines(self, push: m.Push, arg: m.Arg, items: list[list[str]],
               receive_ts: int) -> list[Event]:
        interval = INTERVALS.get(arg.channel)
        if interval is None:
            raise MalformedMessage(f"unknown bitget candle channel {arg.channel!r}")
        if not items:
            return []
        if push.action == "snapshot":
            items = [max(items, key=lambda k: int(k[0]))]  # the history's newest candle only
        name, length = interval
        native = arg.inst_id
        symbol = self._name(native)
        now = push.ts if push.ts is not None else 0
        out: list[Event] = []
        for k in items:
            start = int(k[0])
            end = start + length if length > 0 else _month_end(start, name.endswith("+8"))
            out.append(Kline(
                venue=self.venue, symbol=symbol, native_symbol=native, exchange_ts=now * 1000,
                receive_ts=receive_ts, interval=name, open_time=start * 1000,
                close_time=(end - 1) * 1000, open=k[1], high=k[2], low=k[3], close=k[4],
                volume=k[5], quote_volume=k[6] if len(k) > 6 else None, closed=end <= now,
            ))
        return out

    # ------------------------------------------------------------------ REST bodies

    def instruments(self, body: Any, receive_ts: int) -> list[InstrumentInfo]:
        """GET /api/v2/spot/public/symbols (or /api/v2/mix/market/contracts) -> events."""
        d = parse(body)
        if not isinstance(d, dict) or d.get("code") != "00000":
            raise MalformedMessage(f"bitget REST answer is not a success: {str(d)[:200]}")
        ts = int(d["requestTime"]) * 1000 if d.get("requestTime") else receive_ts
        out = []
        for s in d.get("data") or ():
            try:
                out.append(self._instrument(s, ts, receive_ts))
            except FRAME_ERRORS as exc:
                raise malformed(str(s)[:200], exc) from None
        return out

    def _instrument(self, s: dict[str, Any], ts: int, receive_ts: int) -> InstrumentInfo:
        native, base, quote = s["symbol"], s["baseCoin"], s["quoteCoin"]
        lot = _step(int(s["quantityPrecision"]))
        max_qty = s.get("maxTradeAmount")
        return InstrumentInfo(
            venue=self.venue, symbol=normalized_symbol(base, quote), native_symbol=native,
            exchange_ts=ts, receive_ts=receive_ts, market_type=self.market_type, base=base,
            quote=quote, trading=s.get("status") == "online",
            tick_size=_step(int(s["pricePrecision"])), lot_size=lot,
            min_qty=s.get("minTradeAmount") or lot,
            max_qty=None if max_qty in (None, "", "0") else max_qty,
            min_notional=s.get("minTradeUSDT") or None,
        )


def _step(places: int, steps: str = "1") -> str:
    """`steps` units of the `places`-th decimal, as a plain decimal string ("0.01", "5")."""
    value = Decimal(steps).scaleb(-places)
    return f"{value:.{max(places, 0)}f}"
