"""OKX v5 spot: raw messages -> events (pure functions; see
`ttxt_kafka.connectors.base.normalizer`).

Public channels (`{"arg":{"channel","instId"}, "action":.., "data":[...]}`):
  books -> OrderBook SNAPSHOT / DELTA (sequence = seqId, prev_sequence = prevSeqId; checksum =
      OKX's CRC32 when non-zero: 0 means "not sent" since 2026, see `book_sync`); levels keep
      price and size, the deprecated and order-count fields are dropped
  tickers -> BBO (the connector's best bid/offer: see `connector`), bbo-tbt -> BBO too
  books5 -> nothing (a snapshot of the top 5; `books` is the book)
  trades -> Trades (one batch per push; side = the taker's)
  candle<interval> -> Kline, every interval OKX streams (candle1m ... candle3M and the `utc`
      variants: without `utc`, 6H and longer start at 00:00 UTC+8, and keep a `+8` in the
      interval name); closed = OKX's `confirm` "1" (a push without `confirm`, as before
      2023, is an open candle)
Control frames (`event` subscribe/unsubscribe/login/notice/channel-conn-count, the text `pong`)
give no events; `event: error` raises ExchangeMessageError. Times: a book's, ticker's or trade's
own `ts` (ms) * 1000; a candle's start. Swap sizes are in contracts (the instrument's
`contract_size`), as OKX sends them. REST: `instruments` (GET /api/v5/public/instruments).
"""

from __future__ import annotations

from collections.abc import Mapping
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
_TAKER_SIDES = {"buy": Side.BUY, "sell": Side.SELL}  # a missing key is a malformed frame
_MIN = 60_000
_HOUR = 60 * _MIN
_DAY = 24 * _HOUR

# OKX candle channels -> (the catalogue's interval name, length in ms; 0: calendar months).
INTERVALS: dict[str, tuple[str, int]] = {
    "candle1m": ("1m", _MIN), "candle3m": ("3m", 3 * _MIN), "candle5m": ("5m", 5 * _MIN),
    "candle15m": ("15m", 15 * _MIN), "candle30m": ("30m", 30 * _MIN),
    "candle1H": ("1h", _HOUR), "candle2H": ("2h", 2 * _HOUR), "candle4H": ("4h", 4 * _HOUR),
    "candle6H": ("6h+8", 6 * _HOUR), "candle12H": ("12h+8", 12 * _HOUR),
    "candle1D": ("1d+8", _DAY), "candle2D": ("2d+8", 2 * _DAY), "candle3D": ("3d+8", 3 * _DAY),
    "candle1W": ("1w+8", 7 * _DAY), "candle1M": ("1M+8", 0), "candle3M": ("3M+8", 0),
    "candle6Hutc": ("6h", 6 * _HOUR), "candle12Hutc": ("12h", 12 * _HOUR),
    "candle1Dutc": ("1d", _DAY), "candle2Dutc": ("2d", 2 * _DAY), "candle3Dutc": ("3d", 3 * _DAY),
    "candle1Wutc": ("1w", 7 * _DAY), "candle1Mutc": ("1M", 0), "candle3Mutc": ("3M", 0),
}
_IGNORED = frozenset({"books5", "books50-l2-tbt", "books-l2-tbt", "opi", "funding-rate",
                      "mark-price", "index-tickers", "price-limit", "open-interest"})

_decode_push = msgspec.json.Decoder(m.Push).decode
_decode_books_push = msgspec.json.Decoder(m.BooksPush).decode
_decode_trade_push = msgspec.json.Decoder(m.TradePush, strict=False).decode
_decode_books = msgspec.json.Decoder(list[m.BookData]).decode
_decode_trades = msgspec.json.Decoder(list[m.TradeData], strict=False).decode
_decode_tickers = msgspec.json.Decoder(list[m.TickerData]).decode
_decode_candles = msgspec.json.Decoder(list[m.Candle]).decode
_encode = msgspec.json.encode
# OKX writes `arg` first: a push's channel is at the very start of the frame.
_BOOKS = '{"arg":{"channel":"books",'
_TRADES = '{"arg":{"channel":"trades",'


def _levels(levels: list[list[str]]) -> list[list[str]]:
    """[price, size] of OKX's [price, size, "0", orders] levels (the strings as received)."""
    return [lv[:2] for lv in levels]


class OkxSpotNormalizer(BaseNormalizer):
    venue = "okx_spot"
    market_type = MarketType.SPOT
    exchange = "okx"
    inst_type = "SPOT"

    def __call__(self, raw: Raw, receive_ts: int) -> list[Event]:
        try:
            # The hot path: the channel at the head of a text frame picks the one typed decode
            # that reads the whole push. Anything else takes the envelope first (`_other`).
            if type(raw) is str:
                if raw.startswith(_BOOKS):
                    p = _decode_books_push(raw)
                    return self.book(p.action, p.arg, p.data, receive_ts)
                if raw.startswith(_TRADES):
                    items = _decode_trade_push(raw).data
                    if items and (native := items[0].inst_id):
                        # `trades`, inlined: OKX sends one trade a frame, the call is its cost
                        t = items[0]
                        sides = _TAKER_SIDES
                        trades = ([new_trade(t.trade_id, t.px, t.sz, sides[t.side], t.ts * 1000)]
                                  if len(items) == 1 else
                                  [new_trade(x.trade_id, x.px, x.sz, sides[x.side], x.ts * 1000)
                                   for x in items])
                        return [new_trades(self.venue, self._names.get(native)
                                           or self.symbol(native), native, t.ts * 1000,
                                           receive_ts, None, trades)]
                    # (items without instId: the envelope's arg names the instrument)
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
                raise MalformedMessage(f"missing field 'data' in okx push: {str(raw)[:120]}")
            channel = arg.channel
            if channel == "books":
                if push.action is None:
                    raise MalformedMessage(f"okx books push without action: {str(raw)[:120]}")
                return self.book(push.action, arg, _decode_books(push.data), receive_ts)
            if channel == "trades":
                return self.trades(arg.inst_id, _decode_trades(push.data), receive_ts)
            if channel == "tickers":
                return self.tickers(arg, _decode_tickers(push.data), receive_ts)
            if channel == "bbo-tbt":
                return self.bbo(arg, _decode_books(push.data), receive_ts)
            if channel.startswith("candle"):
                return self.klines(arg, _decode_candles(push.data), receive_ts)
            if channel in _IGNORED:
                return []
            raise MalformedMessage(f"unknown okx channel {channel!r}")
        except FRAME_ERRORS as exc:  # msgspec's errors too: they are ValueErrors
            raise malformed(raw, exc) from None

    def _control(self, push: m.Push, raw: Raw) -> list[Event]:
        if push.event == "error":
            raise ExchangeMessageError(self.exchange, str(push.code), str(push.msg))
        if push.event is None:
            raise MalformedMessage(f"okx message without arg or event: {str(raw)[:120]}")
        return []

    def symbol(self, native: str) -> str:
        """Normalized symbol of an instId not in the list: `BTC-USDT(-SWAP)` -> `BTC/USDT`."""
        name = self._names.get(native)
        if name is None:
            parts = native.split("-")
            name = self._names[native] = (normalized_symbol(parts[0], parts[1])
                                          if len(parts) > 1 else native)
        return name

    def _name(self, native: str) -> str:
        return self._names.get(native) or self.symbol(native)

    # Positional event constructors (`new_*`): every field, in schema order.

    def book(self, action: str, arg: m.Arg, items: list[m.BookData],
             receive_ts: int) -> list[Event]:
        native = arg.inst_id
        kind = _SNAPSHOT if action == "snapshot" else _DELTA
        symbol = self._name(native)
        return [new_orderbook(
            self.venue, symbol, native, int(d.ts) * 1000, receive_ts, d.seq_id, kind,
            _levels(d.bids), _levels(d.asks), 0, None, d.prev_seq_id, d.checksum or None,
        ) for d in items]

    def tickers(self, arg: m.Arg, items: list[m.TickerData], receive_ts: int) -> list[Event]:
        native = arg.inst_id
        symbol = self._name(native)
        return [new_bbo(self.venue, symbol, native, int(t.ts) * 1000, receive_ts, None,
                        t.bid_px, t.bid_sz, t.ask_px, t.ask_sz)
                for t in items if t.bid_px and t.ask_px]  # one side empty: no BBO to report

    def bbo(self, arg: m.Arg, items: list[m.BookData], receive_ts: int) -> list[Event]:
        native = arg.inst_id
        symbol = self._name(native)
        return [new_bbo(self.venue, symbol, native, int(d.ts) * 1000, receive_ts, d.seq_id,
                        d.bids[0][0], d.bids[0][1], d.asks[0][0], d.asks[0][1])
                for d in items if d.bids and d.asks]

    def trades(self, native: str, items: list[m.TradeData], receive_ts: int) -> list[Event]:
        if not items:
            return []
        sides = _TAKER_SIDES
        trades = [new_trade(t.trade_id, t.px, t.sz, sides[t.side], t.ts * 1000) for t in items]
        symbol = self._names.get(native) or self.symbol(native)  # `_name`, inlined: hot path
        return [new_trades(self.venue, symbol, native, items[0].ts * 1000, receive_ts, None,
                           trades)]

    def klines(self, arg: m.Arg, items: list[list[str]], receive_ts: int) -> list[Event]:
        interval = INTERVALS.get(arg.channel)
        if interval is None:
            raise MalformedMessage(f"unknown okx candle channel {arg.channel!r}")
        name, length = interval
        native = arg.inst_id
        symbol = self._name(native)
        out: list[Event] = []
        for k in items:
            start = int(k[0])
            end = start + length if length else _month_end(start, name)
            out.append(Kline(
                venue=self.venue, symbol=symbol, native_symbol=native, exchange_ts=start * 1000,
                receive_ts=receive_ts, interval=name, open_time=start * 1000,
                close_time=(end - 1) * 1000, open=k[1], high=k[2], low=k[3], close=k[4],
                volume=k[5], quote_volume=k[7] if len(k) > 7 else None,
                closed=len(k) > 8 and k[8] == "1",
            ))
        return out

    # ------------------------------------------------------------------ REST bodies

    def instruments(self, body: Any, receive_ts: int) -> list[InstrumentInfo]:
        """GET /api/v5/public/instruments?instType=SPOT|SWAP -> events (this venue's type)."""
        d = parse(body)
        if not isinstance(d, dict) or d.get("code") != "0":
            raise MalformedMessage(f"okx REST answer is not a success: {str(d)[:200]}")
        out = []
        for s in d.get("data") or ():
            if s.get("instType", self.inst_type) != self.inst_type:
                continue
            try:
                out.append(self._instrument(s, receive_ts))
            except FRAME_ERRORS as exc:
                raise malformed(str(s)[:200], exc) from None
        return out

    def _instrument(self, s: dict[str, Any], receive_ts: int) -> InstrumentInfo:
        native, base, quote = s["instId"], s["baseCcy"], s["quoteCcy"]
        return InstrumentInfo(
            venue=self.venue, symbol=normalized_symbol(base, quote), native_symbol=native,
            exchange_ts=receive_ts, receive_ts=receive_ts, market_type=self.market_type,
            base=base, quote=quote, trading=s.get("state") == "live", tick_size=s["tickSz"],
            lot_size=s["lotSz"], min_qty=s["minSz"], max_qty=s.get("maxLmtSz") or None,
        )


def _month_end(start_ms: int, name: str) -> int:
    """End of the calendar month (or quarter) period starting at `start_ms`."""
    import calendar
    from datetime import UTC, datetime

    shift = 8 * _HOUR if name.endswith("+8") else 0
    months = 3 if name.startswith("3M") else 1
    t = datetime.fromtimestamp((start_ms + shift) / 1000, UTC)
    month = t.month - 1 + months
    year, month = t.year + month // 12, month % 12 + 1
    return calendar.timegm((year, month, 1, 0, 0, 0)) * 1000 - shift


def times(step: str, contract: str) -> str:
    """`step` contracts in the contract's own unit, as a plain decimal ("1" x "0.01" = "0.01")."""
    value = Decimal(step) * Decimal(contract)
    return format(value.normalize(), "f") if value else "0"
