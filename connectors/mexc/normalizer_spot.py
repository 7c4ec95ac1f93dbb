"""MEXC spot v3: raw frames -> events (pure functions; see `ttxt_kafka.connectors.base.normalizer`).

Binary frames are protobuf `PushDataV3ApiWrapper`s (`pb/`, generated from MEXC's .proto files);
the body's kind picks the event:
  publicAggreDepths -> OrderBook DELTA (first_sequence = fromVersion, sequence = toVersion;
      quantities absolute, "0" removes the level; the book is bridged to the REST snapshot's
      `lastUpdateId` by `book_sync`)
  publicAggreDeals -> Trades (tradeType 1 = buy, 2 = sell: the taker's side; `tradeId` where
      MEXC sends it, else "")
  publicSpotKline -> Kline (window start/end in seconds; closed once the push is past the end)
  publicAggreBookTicker -> BBO (sequence = its version)
  any other body -> nothing (the limit-depth, mini-ticker and batch streams are not subscribed)
Text frames are JSON control answers `{"id", "code", "msg"}` (subscription acks, `PONG`): no
events; a non-zero `code`, or a refused subscription (MEXC answers those with code 0 and
"Not Subscribed successfully! ..."), raises ExchangeMessageError. Prices and quantities are
the strings the messages carry. Times: `sendTime` (ms, else `createTime`) * 1000. REST:
`depth_snapshot` (GET /api/v3/depth), `instruments` (GET /api/v3/exchangeInfo).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from google.protobuf.message import DecodeError

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
from ..base.normalizer import FRAME_ERRORS, BaseNormalizer, Raw, malformed, parse
from ..base.symbols import normalized_symbol
from . import endpoints as ep
from .pb.PushDataV3ApiWrapper_pb2 import PushDataV3ApiWrapper

_DELTA = UpdateType.DELTA
_SNAPSHOT = UpdateType.SNAPSHOT
_SIDES = {1: Side.BUY, 2: Side.SELL}
_IGNORED = frozenset({"publicLimitDepths", "publicIncreaseDepths", "publicIncreaseDepthsBatch",
                      "publicDeals", "publicBookTicker", "publicBookTickerBatch",
                      "publicMiniTicker", "publicMiniTickers"})
_REFUSED = "Not Subscribed successfully"
_PRIVATE = frozenset({"privateOrders", "privateDeals", "privateAccount"})


def decode(raw: bytes | bytearray) -> PushDataV3ApiWrapper:
    """One binary frame as MEXC's wrapper message (MalformedMessage if it is not one)."""
    push = PushDataV3ApiWrapper()
    try:
        push.ParseFromString(bytes(raw))
    except DecodeError as exc:
        raise MalformedMessage(f"not a MEXC protobuf push ({exc}): {bytes(raw[:60])!r}") from None
    return push


def control_frame(raw: Raw) -> list[Event]:
    """A JSON text frame (subscription answer, PONG) of the public or private stream: no
    events; a non-zero code or a refused subscription raises ExchangeMessageError."""
    msg = parse(raw)
    if not isinstance(msg, Mapping) or "code" not in msg:
        raise MalformedMessage(f"missing field 'code' in a MEXC text frame: {str(raw)[:120]}")
    text = str(msg.get("msg", ""))
    if msg["code"] != 0:
        raise ExchangeMessageError("mexc", str(msg["code"]), text)
    if text.startswith(_REFUSED):  # MEXC refuses a subscription with code 0
        raise ExchangeMessageError("mexc", "subscription", text)
    return []  # a subscription answer or PONG


class MexcSpotNormalizer(BaseNormalizer):
    venue = "mexc_spot"
    market_type = MarketType.SPOT
    exchange = "mexc"

    def __call__(self, raw: Raw, receive_ts: int) -> list[Event]:
        if isinstance(raw, bytes | bytearray):
            return self.push(decode(raw), receive_ts)
        return control_frame(raw)

    def push(self, push: PushDataV3ApiWrapper, receive_ts: int) -> list[Event]:
        """A decoded push -> events (also what the tests feed with docs examples)."""
        body = push.WhichOneof("body")
        native = push.symbol
        if body in _IGNORED or body in _PRIVATE:
            return []  # not subscribed by this connector; private bodies have their own reader
        if body is None or not native:
            raise MalformedMessage(f"MEXC push without a body or symbol: channel "
                                   f"{push.channel!r}")
        ms = push.sendTime or push.createTime
        try:
            if body == "publicAggreDepths":
                return self.depth(push, native, ms, receive_ts)
            if body == "publicAggreDeals":
                return self.deals(push, native, ms, receive_ts)
            if body == "publicSpotKline":
                return self.kline(push, native, ms, receive_ts)
            if body == "publicAggreBookTicker":
                return self.book_ticker(push, native, ms, receive_ts)
        except FRAME_ERRORS as exc:
            raise malformed(str(push)[:200], exc) from None
        raise MalformedMessage(f"unknown MEXC push body {body!r}")

    def _name(self, native: str) -> str:
        return self._names.get(native) or self.symbol(native)

    # Positional event constructors (`new_*`): every field, in schema order.

    def depth(self, push: PushDataV3ApiWrapper, native: str, ms: int,
              receive_ts: int) -> list[Event]:
        d = push.publicAggreDepths
        if not d.fromVersion or not d.toVersion:
            raise MalformedMessage(f"MEXC depth push without versions: {native}")
        return [new_orderbook(
            self.venue, self._name(native), native, ms * 1000, receive_ts, int(d.toVersion),
            _DELTA, [[lv.price, lv.quantity] for lv in d.bids],
            [[lv.price, lv.quantity] for lv in d.asks], 0, int(d.fromVersion), None, None,
        )]

    def deals(self, push: PushDataV3ApiWrapper, native: str, ms: int,
              receive_ts: int) -> list[Event]:
        items = push.publicAggreDeals.deals
        if not items:
            return []
        sides = _SIDES
        trades = [new_trade(t.tradeId, t.price, t.quantity, sides[t.tradeType], t.time * 1000)
                  for t in items]
        return [new_trades(self.venue, self._name(native), native, (ms or items[0].time) * 1000,
                           receive_ts, None, trades)]

    def kline(self, push: PushDataV3ApiWrapper, native: str, ms: int,
              receive_ts: int) -> list[Event]:
        k = push.publicSpotKline
        interval = ep.FROM_MEXC.get(k.interval)
        if interval is None:
            raise MalformedMessage(f"unknown MEXC kline interval {k.interval!r}")
        start_ms, end_ms = k.windowStart * 1000, k.windowEnd * 1000
        return [Kline(
            venue=self.venue, symbol=self._name(native), native_symbol=native,
            exchange_ts=ms * 1000, receive_ts=receive_ts, interval=interval,
            open_time=start_ms * 1000, close_time=(end_ms - 1) * 1000, open=k.openingPrice,
            high=k.highestPrice, low=k.lowestPrice, close=k.closingPrice, volume=k.volume,
            quote_volume=k.amount or None, closed=bool(ms) and end_ms <= ms,
        )]

    def book_ticker(self, push: PushDataV3ApiWrapper, native: str, ms: int,
                    receive_ts: int) -> list[Event]:
        t = push.publicAggreBookTicker
        if not t.bidPrice or not t.askPrice:
            return []  # one side empty: there is no best bid/offer to report
        return [new_bbo(self.venue, self._name(native), native, ms * 1000, receive_ts,
                        int(t.version) if t.version else None, t.bidPrice, t.bidQuantity,
                        t.askPrice, t.askQuantity)]

    # ------------------------------------------------------------------ REST bodies

    def depth_snapshot(self, body: Any, native: str, receive_ts: int) -> OrderBook:
        """GET /api/v3/depth -> SNAPSHOT (sequence = lastUpdateId, the book's version)."""
        d = parse(body)
        try:
            version = int(d["lastUpdateId"])
            bids = [[str(p), str(q)] for p, q in d["bids"]]
            asks = [[str(p), str(q)] for p, q in d["asks"]]
        except FRAME_ERRORS as exc:
            raise malformed(body, exc) from None
        if not all(isinstance(x, str) for lv in d["bids"] + d["asks"] for x in lv):
            raise MalformedMessage(f"MEXC depth with a non-string price or qty: {native}")
        ts = int(d.get("timestamp") or 0) * 1000 or receive_ts
        return new_orderbook(self.venue, self._name(native), native, ts, receive_ts, version,
                             _SNAPSHOT, bids, asks, len(bids) + len(asks), None, None, None)

    def instruments(self, body: Any, receive_ts: int) -> list[InstrumentInfo]:
        """GET /api/v3/exchangeInfo -> one InstrumentInfo per listed symbol."""
        d = parse(body)
        if not isinstance(d, Mapping):
            raise MalformedMessage(f"MEXC exchangeInfo is not an object: {str(body)[:120]}")
        ts = int(d.get("serverTime") or 0) * 1000 or receive_ts
        out = []
        for s in d.get("symbols") or ():
            try:
                out.append(self._instrument(s, ts, receive_ts))
            except FRAME_ERRORS as exc:
                raise malformed(str(s)[:200], exc) from None
        return out

    def _instrument(self, s: Mapping[str, Any], ts: int, receive_ts: int) -> InstrumentInfo:
        native, base, quote = s["symbol"], s["baseAsset"], s["quoteAsset"]
        lot = str(s["baseSizePrecision"])  # the quantity step, e.g. "0.0001"
        if lot in ("", "0"):
            lot = _step(int(s["baseAssetPrecision"]))
        # `maxQuoteAmount` caps an order's notional, not its quantity: not in the catalogue
        return InstrumentInfo(
            venue=self.venue, symbol=normalized_symbol(base, quote), native_symbol=native,
            exchange_ts=ts, receive_ts=receive_ts, market_type=self.market_type, base=base,
            quote=quote,
            # "1" = ENABLED in today's answers, "ENABLED" in the docs' older example
            trading=str(s.get("status")) in ("1", "ENABLED") and s.get("isSpotTradingAllowed",
                                                                       True) is not False,
            tick_size=_step(int(s["quotePrecision"])), lot_size=lot, min_qty=lot,
            max_qty=None,
            # `quoteAmountPrecision` is, despite its name, the minimum order value ("5" USDT)
            min_notional=str(s["quoteAmountPrecision"]) if s.get("quoteAmountPrecision")
            else None,
        )


def _step(places: int) -> str:
    """One unit of the `places`-th decimal, as a plain decimal string ("0.01", "1")."""
    value = Decimal(1).scaleb(-places)
    return f"{value:.{max(places, 0)}f}"
