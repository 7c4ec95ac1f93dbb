"""Bybit v5 spot: raw messages -> events (pure functions; see `connectors.base.normalizer`).

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
"""

from __future__ import annotations

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
_SIDES = {"Buy": Side.BUY, "Sell": Side.SELL}
_ERRORS = (KeyError, TypeError, ValueError, AttributeError, IndexError)

# Bybit kline intervals -> the catalogue's names
INTERVALS = {"1": "1m", "3": "3m", "5": "5m", "15": "15m", "30": "30m", "60": "1h", "120": "2h",
             "240": "4h", "360": "6h", "720": "12h", "D": "1d", "W": "1w"}


class BybitSpotNormalizer(BaseNormalizer):
    venue = "bybit_spot"
    market_type = MarketType.SPOT
    exchange = "bybit"

    def __call__(self, raw: Raw, receive_ts: int) -> list[Event]:
        try:
            msg = _loads(raw)  # type: ignore[arg-type]  # the hot path: a text frame
        except (ValueError, TypeError):
            msg = parse(raw)  # an already parsed object passes; bad JSON raises
        try:
            topic = msg.get("topic")
            if topic is None:
                return self._control(msg)
            kind, _, rest = topic.partition(".")
            if kind == "orderbook":
                depth, _, native = rest.partition(".")
                if depth == "1":
                    return self.bbo(msg, native, receive_ts)
                return [self.book(msg, int(depth), receive_ts)]
            if kind == "publicTrade":
                return self.trades(msg, receive_ts)
            if kind == "kline":
                return self.klines(msg, rest, receive_ts)
            if kind in ("tickers", "allLiquidation"):
                return []
        except _ERRORS as exc:
            raise malformed(raw, exc) from None
        raise MalformedMessage(f"unknown bybit topic {topic!r}")

    def _control(self, msg: dict[str, Any]) -> list[Event]:
        if "op" not in msg and "success" not in msg:
            raise MalformedMessage(f"bybit message without topic or op: {str(msg)[:120]}")
        if msg.get("success") is False:
            raise ExchangeMessageError(self.exchange, str(msg.get("op")), str(msg.get("ret_msg")))
        return []

    def book(self, msg: dict[str, Any], depth: int, receive_ts: int) -> OrderBook:
        d = msg["data"]
        native = d["s"]
        u = int(d["u"])
        kind = msg["type"]
        if kind not in ("snapshot", "delta"):
            raise ValueError(f"orderbook type {kind!r}")
        return OrderBook(
            venue=self.venue, symbol=self._names.get(native) or self.symbol(native),
            native_symbol=native, exchange_ts=int(msg["ts"]) * 1000, receive_ts=receive_ts,
            sequence=u,
            update_type=_SNAPSHOT if kind == "snapshot" or u == 1 else _DELTA,
            bids=d["b"], asks=d["a"], depth=depth,
        )

    def bbo(self, msg: dict[str, Any], native: str, receive_ts: int) -> list[Event]:
        d = msg["data"]
        bids, asks = d["b"], d["a"]
        if not bids or not asks:
            return []  # one side empty: there is no best bid/offer to report
        (bid, bid_qty), (ask, ask_qty) = bids[0], asks[0]
        return [BBO(
            venue=self.venue, symbol=self.symbol(d["s"]), native_symbol=d["s"],
            exchange_ts=int(msg["ts"]) * 1000, receive_ts=receive_ts, sequence=int(d["u"]),
            bid_price=bid, bid_qty=bid_qty, ask_price=ask, ask_qty=ask_qty,
        )]

    def trades(self, msg: dict[str, Any], receive_ts: int) -> list[Event]:
        items = msg["data"]
        if not items:
            return []
        native = items[0]["s"]
        trades = [new_trade(str(t["i"]), t["p"], t["v"], _SIDES[t["S"]], int(t["T"]) * 1000)
                  for t in items]
        seq = items[-1].get("seq")
        return [new_trades(self.venue, self.symbol(native), native, int(msg["ts"]) * 1000,
                           receive_ts, int(seq) if seq is not None else None, trades)]

    def klines(self, msg: dict[str, Any], rest: str, receive_ts: int) -> list[Event]:
        native = rest.rsplit(".", 1)[1]
        symbol = self.symbol(native)
        ts = int(msg["ts"]) * 1000
        return [Kline(
            venue=self.venue, symbol=symbol, native_symbol=native, exchange_ts=ts,
            receive_ts=receive_ts, interval=INTERVALS[k["interval"]],
            open_time=int(k["start"]) * 1000, close_time=int(k["end"]) * 1000, open=k["open"],
            high=k["high"], low=k["low"], close=k["close"], volume=k["volume"],
            quote_volume=k["turnover"], closed=bool(k["confirm"]),
        ) for k in msg["data"]]

    # ------------------------------------------------------------------ REST bodies

    def depth_snapshot(self, body: Any, receive_ts: int) -> OrderBook:
        """GET /v5/market/orderbook -> SNAPSHOT (sequence = u)."""
        try:
            r = _result(parse(body))
            native = r["s"]
            return OrderBook(
                venue=self.venue, symbol=self.symbol(native), native_symbol=native,
                exchange_ts=int(r["ts"]) * 1000, receive_ts=receive_ts, sequence=int(r["u"]),
                update_type=_SNAPSHOT, bids=r["b"], asks=r["a"],
            )
        except _ERRORS as exc:
            raise malformed(str(body)[:200], exc) from None

    def instruments(self, body: Any, receive_ts: int) -> list[InstrumentInfo]:
        """One page of GET /v5/market/instruments-info -> InstrumentInfo events."""
        d = parse(body)
        ts = int(d["time"]) * 1000 if d.get("time") else receive_ts
        out = []
        for s in _result(d).get("list", ()):
            try:
                out.append(self._instrument(s, ts, receive_ts))
            except _ERRORS as exc:
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
