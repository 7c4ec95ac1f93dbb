"""Kraken spot WS v2: raw messages -> events (pure functions; see
`ttxt_kafka.connectors.base.normalizer`).

  book -> OrderBook SNAPSHOT / DELTA (checksum = the exchange's CRC32; sequence: none, Kraken
      sends no sequence numbers, the connector numbers the pushes it applies)
  trade -> Trades (one batch per push and symbol; side = the taker's)
  ohlc -> Kline (interval in minutes; `closed` stays false: v2 pushes the running candle)
  ticker -> BBO
  status, heartbeat, pong and method answers -> nothing; a failed method answer raises
      ExchangeMessageError.
Kraken sends prices and quantities as JSON numbers: the decoder hands over each number's exact
text (msgspec's `float_hook=str`: no float is ever made) and it is written with the pair's
precision (`pair_decimals` for prices, `lot_decimals` for quantities, from
AssetPairs: the strings its checksum hashes); a number with more decimals than that is a
malformed frame. Times: the pushes' RFC 3339 `timestamp`s (µs); a book snapshot has none (the
receive time stands). REST: `instruments` (GET /0/public/AssetPairs).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
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
from ..base.symbols import SymbolMap, normalized_symbol
from . import endpoints as ep
from . import trade_fastpath

_SNAPSHOT = UpdateType.SNAPSHOT
_DELTA = UpdateType.DELTA
_SIDES = {"buy": Side.BUY, "sell": Side.SELL}
# JSON numbers as their exact text (ints stay ints): never a float, no Decimal made per level
_decode = msgspec.json.Decoder(float_hook=str).decode
_TRADE_PUSH = trade_fastpath.PREFIX
_DEFAULT_PLACES = (8, 8)  # a pair the instrument list did not give (tests of bare frames)


def places_of(step: str) -> int:
    """Decimals of a step such as "0.00001" (5); "1" -> 0."""
    return len(step.partition(".")[2])


_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?")  # what a plain JSON number reads as


def written(value: object, places: int, what: str) -> str:
    """A JSON number (its exact text, as the decoder's `float_hook=str` gives it; an int for a
    whole number) with exactly `places` decimals, never rounded (more digits: malformed)."""
    if type(value) is int:
        text = str(value)
    elif type(value) is str and _NUMBER.fullmatch(value):
        text = value
    elif type(value) is str and value[:1] in "-0123456789" and "e" in value.lower():
        return _scientific(value, places, what)
    else:
        raise MalformedMessage(f"kraken {what} {value!r} is not a number")
    dot = text.find(".")
    if dot < 0:
        return text + "." + "0" * places if places else text
    frac = len(text) - dot - 1
    if frac <= places:
        return text + "0" * (places - frac) if places else text[:dot]
    if text[dot + 1 + places:].strip("0"):
        raise MalformedMessage(f"kraken {what} {value} has more than {places} decimals")
    return text[:dot + 1 + places] if places else text[:dot]


def _scientific(text: str, places: int, what: str) -> str:
    """1e-7 and friends: exact through Decimal (rare: tiny quantities)."""
    try:
        value = Decimal(text)
    except ArithmeticError:
        raise MalformedMessage(f"kraken {what} {text!r} is not a number") from None
    if not value.is_finite() or value != value.quantize(Decimal(1).scaleb(-places)):
        raise MalformedMessage(f"kraken {what} {text} has more than {places} decimals")
    return f"{value:.{places}f}"


_HOURS: dict[str, int] = {}  # "2023-10-06T17" -> its µs since the epoch


def rfc3339_us(text: str) -> int:
    """"2023-10-06T17:35:55.440295Z" (or with nanoseconds) -> µs since the epoch."""
    hour = _HOURS.get(text[:13])
    if hour is None:
        if len(_HOURS) > 10_000:
            _HOURS.clear()
        hour = _HOURS[text[:13]] = int(datetime.fromisoformat(
            text[:13] + ":00:00+00:00").timestamp()) * 1_000_000
    frac = text[20:].rstrip("Z") if len(text) > 20 and text[19] == "." else ""
    return (hour + int(text[14:16]) * 60_000_000 + int(text[17:19]) * 1_000_000
            + (int((frac + "000000")[:6]) if frac else 0))


class KrakenSpotNormalizer(BaseNormalizer):
    venue = "kraken_spot"
    market_type = MarketType.SPOT
    exchange = "kraken"

    def __init__(self, symbols: SymbolMap | Mapping[str, str] | None = None,
                 depth: int = 0) -> None:
        super().__init__(symbols)
        self.depth = depth  # the subscribed book depth: every book event says it (truncation)
        self._places: dict[str, tuple[int, int]] = {}
        if isinstance(symbols, SymbolMap):
            for info in symbols.instruments.values():
                self._places[info.native_symbol] = (places_of(info.tick_size),
                                                    places_of(info.lot_size))
        # trade pushes in the documented shape, read from the text (the busiest channel)
        self._read_trades = trade_fastpath.TradeReader(self.venue, self._places,
                                                       _DEFAULT_PLACES, self._name).read

    def __call__(self, raw: Raw, receive_ts: int) -> list[Event]:
        if type(raw) is str and raw.startswith(_TRADE_PUSH):
            events = self._read_trades(raw, receive_ts)
            if events is not None:
                return events
        try:
            msg = _decode(raw) if isinstance(raw, str | bytes | bytearray) else raw
        except msgspec.DecodeError as exc:
            raise MalformedMessage(f"not JSON ({exc}): {str(raw)[:120]}") from None
        try:
            if not isinstance(msg, Mapping):
                raise MalformedMessage(f"kraken message is not an object: {str(raw)[:120]}")
            channel = msg.get("channel")
            if channel == ep.BOOK:
                return self.book(msg, receive_ts)
            if channel == ep.TRADE:
                return self.trades(msg, receive_ts)
            if channel == ep.TICKER:
                return self.ticker(msg, receive_ts)
            if channel == ep.OHLC:
                return self.ohlc(msg, receive_ts)
            if channel in ("status", "heartbeat"):
                return []
            if "method" in msg:
                if msg.get("success") is False:
                    raise ExchangeMessageError(self.exchange, str(msg.get("method")),
                                               str(msg.get("error", "")))
                return []  # subscribe / unsubscribe answers, pong
            raise MalformedMessage(f"unknown kraken message: {str(raw)[:120]}")
        except FRAME_ERRORS as exc:
            raise malformed(raw, exc) from None

    def symbol(self, native: str) -> str:
        """v2 symbols are already BASE/QUOTE ("BTC/USD")."""
        return self._names.get(native) or self._names.setdefault(
            native, native if "/" in native else super().symbol(native))

    def _name(self, native: str) -> str:
        return self._names.get(native) or self.symbol(native)

    # Positional event constructors (`new_*`): every field, in schema order.

    def book(self, msg: Mapping[str, Any], receive_ts: int) -> list[Event]:
        kind = _SNAPSHOT if msg["type"] == "snapshot" else _DELTA
        out: list[Event] = []
        for d in msg["data"]:
            native = d["symbol"]
            pp, qp = self._places.get(native, _DEFAULT_PLACES)
            stamp = d.get("timestamp")
            checksum = d.get("checksum")
            if checksum is not None and type(checksum) is not int:
                raise MalformedMessage(f"kraken checksum {checksum!r} is not an integer")
            out.append(new_orderbook(
                self.venue, self._name(native), native,
                rfc3339_us(stamp) if stamp else receive_ts, receive_ts, None, kind,
                [[written(lv["price"], pp, "price"), written(lv["qty"], qp, "qty")]
                 for lv in d.get("bids") or ()],
                [[written(lv["price"], pp, "price"), written(lv["qty"], qp, "qty")]
                 for lv in d.get("asks") or ()],
                self.depth, None, None, checksum))
        return out

    def trades(self, msg: Mapping[str, Any], receive_ts: int) -> list[Event]:
        data = msg["data"]
        places = self._places
        sides = _SIDES
        by_symbol: dict[str, list[Any]] = {}
        for t in data:
            native = t["symbol"]
            pp, qp = places.get(native, _DEFAULT_PLACES)
            trade = new_trade(str(t["trade_id"]), written(t["price"], pp, "price"),
                              written(t["qty"], qp, "qty"), sides[t["side"]],
                              rfc3339_us(t["timestamp"]))
            batch = by_symbol.get(native)
            if batch is None:
                by_symbol[native] = [trade]
            else:
                batch.append(trade)
        return [new_trades(self.venue, self._name(native), native, trades[-1].exchange_ts,
                           receive_ts, None, trades) for native, trades in by_symbol.items()]

    def ticker(self, msg: Mapping[str, Any], receive_ts: int) -> list[Event]:
        out: list[Event] = []
        for t in msg["data"]:
            native = t["symbol"]
            pp, qp = self._places.get(native, _DEFAULT_PLACES)
            out.append(new_bbo(self.venue, self._name(native), native, receive_ts,
                               receive_ts, None, written(t["bid"], pp, "bid"),
                               written(t["bid_qty"], qp, "bid_qty"),
                               written(t["ask"], pp, "ask"),
                               written(t["ask_qty"], qp, "ask_qty")))
        return out

    def ohlc(self, msg: Mapping[str, Any], receive_ts: int) -> list[Event]:
        out: list[Event] = []
        for k in msg["data"]:
            native = k["symbol"]
            interval = ep.FROM_MINUTES.get(k["interval"])
            if interval is None:
                raise MalformedMessage(f"unknown kraken ohlc interval {k['interval']}")
            pp, qp = self._places.get(native, _DEFAULT_PLACES)
            start = rfc3339_us(k["interval_begin"])
            stamp = k.get("timestamp")
            out.append(Kline(
                venue=self.venue, symbol=self._name(native), native_symbol=native,
                exchange_ts=rfc3339_us(stamp) if stamp else receive_ts,
                receive_ts=receive_ts, interval=interval, open_time=start,
                close_time=start + k["interval"] * 60_000_000 - 1000,
                open=written(k["open"], pp, "open"), high=written(k["high"], pp, "high"),
                low=written(k["low"], pp, "low"), close=written(k["close"], pp, "close"),
                volume=written(k["volume"], qp, "volume"), quote_volume=None, closed=False))
        return out

    # ------------------------------------------------------------------ REST bodies

    def instruments(self, body: Any, receive_ts: int) -> list[InstrumentInfo]:
        """GET /0/public/AssetPairs -> one InstrumentInfo per pair WS v2 names."""
        d = parse(body)
        if not isinstance(d, Mapping) or d.get("error"):
            raise ExchangeMessageError(self.exchange, "AssetPairs",
                                       str(d.get("error") if isinstance(d, Mapping) else d))
        out = []
        for pair in (d.get("result") or {}).values():
            if not pair.get("wsname"):
                continue  # dark-pool pairs (.d) have no WebSocket name
            try:
                out.append(self._instrument(pair, receive_ts))
            except FRAME_ERRORS as exc:
                raise malformed(str(pair)[:200], exc) from None
        return out

    def _instrument(self, p: Mapping[str, Any], receive_ts: int) -> InstrumentInfo:
        native = ep.v2_symbol(p["wsname"])
        base, _, quote = native.partition("/")
        lot = _step(int(p["lot_decimals"]))
        return InstrumentInfo(
            venue=self.venue, symbol=normalized_symbol(base, quote), native_symbol=native,
            exchange_ts=receive_ts, receive_ts=receive_ts, market_type=self.market_type,
            base=base, quote=quote, trading=p.get("status", "online") == "online",
            # the precision v2 writes prices with (its checksum hashes those strings)
            tick_size=_step(int(p["pair_decimals"])), lot_size=lot,
            min_qty=str(p.get("ordermin") or lot), max_qty=None,
            min_notional=str(p["costmin"]) if p.get("costmin") else None,
        )


def _step(places: int) -> str:
    value = Decimal(1).scaleb(-places)
    return f"{value:.{max(places, 0)}f}"
