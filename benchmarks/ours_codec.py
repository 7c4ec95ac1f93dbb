"""ttxt-kafka's codec: ``ttxt_kafka.codec.encode(event) -> bytes`` and ``decode(bytes) -> event``.

What a connector puts on a topic and a consumer gets back: Avro single-object encoding (``C3 01``
+ 8-byte schema fingerprint + Avro body) of the typed event, prices and quantities as the
exchange's exact decimal strings. A 3-trade batch is one ``Trades`` event (one Kafka record).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from benchmarks.codec_data import (
    RECEIVE_LAG_MS,
    BookDeltaIn,
    Content,
    Kind,
    KlineIn,
    TradesIn,
)
from ttxt_kafka.codec import decode, encode
from ttxt_kafka.events import Event, Kline, OrderBook, Side, Trade, Trades, UpdateType

_US = 1000  # our timestamps are microseconds; the input's are Binance milliseconds


def _header(event_ms: int, seq: int | None = None) -> dict[str, Any]:
    return dict(venue="binance", symbol="BTC/USDT", native_symbol="BTCUSDT",
                exchange_ts=event_ms * _US, receive_ts=(event_ms + RECEIVE_LAG_MS) * _US,
                sequence=seq)


def _book(d: BookDeltaIn) -> OrderBook:
    # Levels as lists: what a connector gets from the exchange's JSON and what decode returns.
    return OrderBook(**_header(d.event_ms, d.last_id), update_type=UpdateType.DELTA,
                     bids=[list(x) for x in d.bids], asks=[list(x) for x in d.asks],
                     first_sequence=d.first_id)


def _trades(b: TradesIn) -> Trades:
    return Trades(**_header(b.event_ms), trades=[
        Trade(trade_id=t.trade_id, price=t.price, qty=t.qty, side=Side(t.side),
              exchange_ts=t.trade_ms * _US)
        for t in b.trades
    ])


def _kline(k: KlineIn) -> Kline:
    return Kline(**_header(k.event_ms), interval=k.interval, open_time=k.open_ms * _US,
                 close_time=k.close_ms * _US, open=k.open, high=k.high, low=k.low,
                 close=k.close, volume=k.volume, quote_volume=k.quote_volume,
                 trade_count=k.trade_count, closed=k.closed)


class OursCodec:
    def build(self, kind: Kind, items: Sequence[Any]) -> list[Event]:
        makers: dict[Kind, Callable[[Any], Event]] = {
            "book": _book, "trades": _trades, "kline": _kline}
        return [makers[kind](x) for x in items]

    def encoder(self, kind: Kind) -> Callable[[Event], bytes]:
        return encode

    def decoder(self, kind: Kind) -> Callable[[bytes], Event]:
        return decode

    def content(self, kind: Kind, decoded: Any) -> Content:
        if isinstance(decoded, OrderBook):
            return [(p, q) for p, q in decoded.bids], [(p, q) for p, q in decoded.asks]
        if isinstance(decoded, Trades):
            return [(t.price, t.qty, t.side.value) for t in decoded.trades]
        k: Kline = decoded
        return k.open, k.high, k.low, k.close, k.volume, k.closed

    def check(self, kind: Kind, natives: list[Any], encoded: list[Any],
              decoded: list[Any]) -> str | None:
        for i, (a, b) in enumerate(zip(natives, decoded, strict=True)):
            if a != b or type(a) is not type(b):
                return f"event {i} decodes to {b!r}, not {a!r}"
        return None


def adapter() -> OursCodec:
    return OursCodec()
