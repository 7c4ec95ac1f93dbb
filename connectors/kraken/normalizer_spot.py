"""Kraken spot WS v2: raw messages -> events (pure functions; see
`ttxt_kafka.connectors.base.normalizer`).

  book -> OrderBook SNAPSHOT / DELTA (checksum = the exchange's CRC32; sequence: none, Kraken
      sends no sequence numbers, the connector numbers the pushes it applies)
  trade -> Trades (one batch per push and symbol; side = the taker's)
  ohlc -> Kline (interval in minutes; `closed` stays false: v2 pushes the running candle)
  ticker -> BBO
  status, heartbeat, pong and method answers -> nothing; a failed method answer raises
      ExchangeMessageError.
Kraken sends prices and quantities as JSON numbers: they are read as exact decimals and written
with the pair's precision (`pair_decimals` for prices, `lot_decimals` for quantities, from
AssetPairs: the strings its checksum hashes); a number with more decimals than that is a
malformed frame. Times: the pushes' RFC 3339 `timestamp`s (µs); a book snapshot has none (the
receive time stands). REST: `instruments` (GET /0/public/AssetPairs).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

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
from . import messages as m

_SNAPSHOT = UpdateType.SNAPSHOT
_DELTA = UpdateType.DELTA
_SIDES = {"buy": Side.BUY, "sell": Side.SELL}
_decode_book = msgspec.json.Decoder(m.BookPush).decode
_decode_trade = msgspec.json.Decoder(m.TradePush).decode
_decode_ticker = msgspec.json.Decoder(m.TickerPush).decode
_decode_ohlc = msgspec.json.Decoder(m.OhlcPush).decode
_DEFAULT_PLACES = (8, 8)  # a pair the instrument list did not give (tests of bare frames)


def places_of(step: str) -> int:
    """Decimals of a step such as "0.00001" (5); "1" -> 0."""
    return len(step.partition(".")[2])


def written(value: Decimal, places: int, what: str) -> str:
    """`value` with exactly `places` decimals, never rounded (more digits: malformed)."""
    exponent = value.as_tuple().exponent
    if not isinstance(exponent, int) or -exponent > places and value != value.quantize(
            Decimal(1).scaleb(-places)):
        raise MalformedMessage(f"kraken {what} {value} has more than {places} decimals")
    return f"{value:.{places}f}"


def rfc3339_us(text: str) -> int:
    """"2023-10-06T17:35:55.440295Z" (or with nanoseconds) -> µs since the epoch."""
    head, dot, frac = text.rstrip("Z").partition(".")
    seconds = int(datetime.fromisoformat(head + "+00:00").timestamp())
    return seconds * 1_000_000 + (int((frac + "000000")[:6]) if dot else 0)


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

    def __call__(self, raw: Raw, receive_ts: int) -> list[Event]:
        try:
            # The hot path: Kraken writes `channel` first, so the head picks the typed decode.
            if type(raw) is str and raw.startswith('{"channel":"'):
                channel = raw[12:raw.find('"', 12)]
                typed = self._typed.get(channel)
                if typed is not None:
                    return typed(self, raw, receive_ts)
            return self._other(raw, receive_ts)
        except FRAME_ERRORS as exc:  # msgspec's errors too: they are ValueErrors
            raise malformed(raw, exc) from None

    def _other(self, raw: Raw, receive_ts: int) -> list[Event]:
        msg = parse(raw)
        if not isinstance(msg, Mapping):
            raise MalformedMessage(f"kraken message is not an object: {str(raw)[:120]}")
        if "method" in msg:
            if msg.get("success") is False:
                raise ExchangeMessageError(self.exchange, str(msg.get("method")),
                                           str(msg.get("error", "")))
            return []  # subscribe / unsubscribe answers, pong
        channel = msg.get("channel")
        if channel in ("status", "heartbeat"):
            return []
        typed = self._typed.get(str(channel))
        if typed is None:
            raise MalformedMessage(f"unknown kraken message: {str(raw)[:120]}")
        data = raw if isinstance(raw, str | bytes) else msgspec.json.encode(msg)
        return typed(self, data, receive_ts)

    def _book_raw(self, raw: str | bytes, receive_ts: int) -> list[Event]:
        return self.book(_decode_book(raw), receive_ts)

    def _trades_raw(self, raw: str | bytes, receive_ts: int) -> list[Event]:
        return self.trades(_decode_trade(raw), receive_ts)

    def _ticker_raw(self, raw: str | bytes, receive_ts: int) -> list[Event]:
        return self.ticker(_decode_ticker(raw), receive_ts)

    def _ohlc_raw(self, raw: str | bytes, receive_ts: int) -> list[Event]:
        return self.ohlc(_decode_ohlc(raw), receive_ts)

    _typed: ClassVar[dict[str, Callable[[KrakenSpotNormalizer, str | bytes, int],
                                        list[Event]]]] = {
        ep.BOOK: _book_raw, ep.TRADE: _trades_raw, ep.TICKER: _ticker_raw, ep.OHLC: _ohlc_raw}

    def symbol(self, native: str) -> str:
        """v2 symbols are already BASE/QUOTE ("BTC/USD")."""
        return self._names.get(native) or self._names.setdefault(
            native, native if "/" in native else super().symbol(native))

    def _name(self, native: str) -> str:
        return self._names.get(native) or self.symbol(native)

    def _levels(self, levels: list[m.Level], places: tuple[int, int]) -> list[list[str]]:
        pp, qp = places
        return [[written(lv.price, pp, "price"), written(lv.qty, qp, "qty")] for lv in levels]

    # Positional event constructors (`new_*`): every field, in schema order.

    def book(self, push: m.BookPush, receive_ts: int) -> list[Event]:
        kind = _SNAPSHOT if push.type == "snapshot" else _DELTA
        out: list[Event] = []
        for d in push.data:
            native = d.symbol
            places = self._places.get(native, _DEFAULT_PLACES)
            ts = rfc3339_us(d.timestamp) if d.timestamp else receive_ts
            out.append(new_orderbook(
                self.venue, self._name(native), native, ts, receive_ts, None, kind,
                self._levels(d.bids, places), self._levels(d.asks, places), self.depth, None,
                None, d.checksum))
        return out

    def trades(self, push: m.TradePush, receive_ts: int) -> list[Event]:
        by_symbol: dict[str, list[Any]] = {}
        for t in push.data:
            pp, qp = self._places.get(t.symbol, _DEFAULT_PLACES)
            by_symbol.setdefault(t.symbol, []).append(new_trade(
                str(t.trade_id), written(t.price, pp, "price"), written(t.qty, qp, "qty"),
                _SIDES[t.side], rfc3339_us(t.timestamp)))
        return [new_trades(self.venue, self._name(native), native, trades[-1].exchange_ts,
                           receive_ts, None, trades) for native, trades in by_symbol.items()]

    def ticker(self, push: m.TickerPush, receive_ts: int) -> list[Event]:
        out: list[Event] = []
        for t in push.data:
            pp, qp = self._places.get(t.symbol, _DEFAULT_PLACES)
            out.append(new_bbo(self.venue, self._name(t.symbol), t.symbol, receive_ts,
                               receive_ts, None, written(t.bid, pp, "bid"),
                               written(t.bid_qty, qp, "bid_qty"), written(t.ask, pp, "ask"),
                               written(t.ask_qty, qp, "ask_qty")))
        return out

    def ohlc(self, push: m.OhlcPush, receive_ts: int) -> list[Event]:
        out: list[Event] = []
        for k in push.data:
            interval = ep.FROM_MINUTES.get(k.interval)
            if interval is None:
                raise MalformedMessage(f"unknown kraken ohlc interval {k.interval}")
            pp, qp = self._places.get(k.symbol, _DEFAULT_PLACES)
            start = rfc3339_us(k.interval_begin)
            out.append(Kline(
                venue=self.venue, symbol=self._name(k.symbol), native_symbol=k.symbol,
                exchange_ts=rfc3339_us(k.timestamp) if k.timestamp else receive_ts,
                receive_ts=receive_ts, interval=interval, open_time=start,
                close_time=start + k.interval * 60_000_000 - 1000,
                open=written(k.open, pp, "open"), high=written(k.high, pp, "high"),
                low=written(k.low, pp, "low"), close=written(k.close, pp, "close"),
                volume=written(k.volume, qp, "volume"), quote_volume=None, closed=False))
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
