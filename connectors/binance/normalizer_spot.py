"""Binance spot: raw messages -> events (pure functions; see `connectors.base.normalizer`).

Stream payloads (`/stream?streams=` frames `{"stream":..., "data":...}` or raw `/ws` payloads):
  depthUpdate -> OrderBook DELTA (sequence = u, first_sequence = U)
  aggTrade / trade -> Trades (one trade; side = the taker's: SELL when the buyer is the maker)
  kline -> Kline
  bookTicker -> BBO (sequence = u; spot sends no event time, so exchange_ts = receive time)
  partial depth (`@depth5/10/20`, combined frames only: the payload has no symbol) -> SNAPSHOT
REST: `depth_snapshot` (GET /api/v3/depth) and `instruments` (GET /api/v3/exchangeInfo).
Times: Binance milliseconds * 1000 = microseconds. Prices and quantities pass through verbatim.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from orjson import loads as _loads

from ttxt_kafka.events import (
    BBO,
    Event,
    InstrumentInfo,
    Kline,
    MarketType,
    OrderBook,
    Side,
    UpdateType,
    new_trade,
    new_trades,
)

from ..base.errors import ExchangeMessageError, MalformedMessage
from ..base.normalizer import BaseNormalizer, Raw, malformed, parse
from ..base.symbols import guess_base_quote, normalized_symbol

_DELTA = UpdateType.DELTA
_SNAPSHOT = UpdateType.SNAPSHOT
_BUY = Side.BUY
_SELL = Side.SELL
_ERRORS = (KeyError, TypeError, ValueError, AttributeError, IndexError)


class BinanceSpotNormalizer(BaseNormalizer):
    venue = "binance"
    market_type = MarketType.SPOT
    exchange = "binance"

    def __init__(self, symbols: Any = None) -> None:
        super().__init__(symbols)
        self._handlers: dict[str | None, Callable[[dict[str, Any], int], list[Event]]] = {
            "depthUpdate": self.depth_update,
            "aggTrade": self.agg_trade,
            "trade": self.trade,
            "kline": self.kline,
            "bookTicker": self.book_ticker,
        }

    def __call__(self, raw: Raw, receive_ts: int) -> list[Event]:
        try:
            msg = _loads(raw)  # type: ignore[arg-type]  # the hot path: a text frame
        except (ValueError, TypeError):
            msg = parse(raw)  # an already parsed object passes; bad JSON raises
        try:
            data = msg.get("data")
            if data is None:  # a raw-stream payload, or a method answer
                data = msg
            handler = self._handlers.get(data.get("e"))
            if handler is not None:
                return handler(data, receive_ts)
            return self._other(msg, data, receive_ts)
        except _ERRORS as exc:
            raise malformed(raw, exc) from None

    def _other(self, msg: dict[str, Any], data: dict[str, Any], receive_ts: int) -> list[Event]:
        """Payloads without an event type: spot bookTicker, partial depth, method answers."""
        if "id" in msg and ("result" in msg or "error" in msg):
            err = msg.get("error")
            if err:
                raise ExchangeMessageError(self.exchange, str(err.get("code")), str(err.get("msg")))
            return []
        if "A" in data and "u" in data:
            return self.book_ticker(data, receive_ts)
        if "lastUpdateId" in data and "stream" in msg:
            native = msg["stream"].split("@", 1)[0].upper()
            return [self.depth_snapshot(data, native, receive_ts)]
        raise MalformedMessage(f"unknown {self.exchange} message: {str(msg)[:120]}")

    # ------------------------------------------------------------------ stream payloads

    def depth_update(self, d: dict[str, Any], receive_ts: int) -> list[Event]:
        native = d["s"]
        return [OrderBook(
            venue=self.venue, symbol=self._names.get(native) or self.symbol(native),
            native_symbol=native, exchange_ts=int(d["E"]) * 1000, receive_ts=receive_ts,
            sequence=int(d["u"]), update_type=_DELTA, bids=d["b"], asks=d["a"],
            first_sequence=int(d["U"]),
        )]

    def agg_trade(self, d: dict[str, Any], receive_ts: int) -> list[Event]:
        native = d["s"]
        agg_id = int(d["a"])
        trade = new_trade(str(agg_id), d["p"], d["q"], _SELL if d["m"] else _BUY,
                          int(d["T"]) * 1000)
        return [new_trades(self.venue, self._names.get(native) or self.symbol(native), native,
                           int(d["E"]) * 1000, receive_ts, agg_id, [trade])]

    def trade(self, d: dict[str, Any], receive_ts: int) -> list[Event]:
        native = d["s"]
        trade_id = int(d["t"])
        trade = new_trade(str(trade_id), d["p"], d["q"], _SELL if d["m"] else _BUY,
                          int(d["T"]) * 1000)
        return [new_trades(self.venue, self._names.get(native) or self.symbol(native), native,
                           int(d["E"]) * 1000, receive_ts, trade_id, [trade])]

    def kline(self, d: dict[str, Any], receive_ts: int) -> list[Event]:
        native = d["s"]
        k = d["k"]
        return [Kline(
            venue=self.venue, symbol=self.symbol(native), native_symbol=native,
            exchange_ts=int(d["E"]) * 1000, receive_ts=receive_ts, interval=k["i"],
            open_time=int(k["t"]) * 1000, close_time=int(k["T"]) * 1000, open=k["o"],
            high=k["h"], low=k["l"], close=k["c"], volume=k["v"], quote_volume=k["q"],
            trade_count=int(k["n"]), closed=bool(k["x"]),
        )]

    def book_ticker(self, d: dict[str, Any], receive_ts: int) -> list[Event]:
        native = d["s"]
        event_time = d.get("E")
        return [BBO(
            venue=self.venue, symbol=self.symbol(native), native_symbol=native,
            exchange_ts=int(event_time) * 1000 if event_time is not None else receive_ts,
            receive_ts=receive_ts, sequence=int(d["u"]), bid_price=d["b"], bid_qty=d["B"],
            ask_price=d["a"], ask_qty=d["A"],
        )]

    # ------------------------------------------------------------------ REST bodies

    def depth_snapshot(self, body: Any, native: str, receive_ts: int) -> OrderBook:
        """GET depth -> SNAPSHOT (sequence = lastUpdateId). Spot's body has no time:
        exchange_ts is then the receive time."""
        try:
            d = parse(body)
            event_time = d.get("E")
            return OrderBook(
                venue=self.venue, symbol=self.symbol(native), native_symbol=native,
                exchange_ts=int(event_time) * 1000 if event_time is not None else receive_ts,
                receive_ts=receive_ts, sequence=int(d["lastUpdateId"]), update_type=_SNAPSHOT,
                bids=d["bids"], asks=d["asks"],
            )
        except _ERRORS as exc:
            raise malformed(str(body)[:200], exc) from None

    def instruments(self, body: Any, receive_ts: int) -> list[InstrumentInfo]:
        """GET exchangeInfo -> one InstrumentInfo per listed symbol."""
        d = parse(body)
        server_time = d.get("serverTime")
        ts = int(server_time) * 1000 if server_time else receive_ts
        out = []
        for s in d.get("symbols", ()):
            try:
                out.append(self._instrument(s, ts, receive_ts))
            except _ERRORS as exc:
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
