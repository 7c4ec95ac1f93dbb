"""cryptofeed's (2.4.1) Kafka backend serialization, and a consumer's ``json.loads``.

- **encode** — what ``BookKafka`` / ``TradeKafka`` / ``CandlesKafka`` do per callback
  (``cryptofeed/backends/backend.py`` + ``kafka.py``): ``obj.to_dict(numeric_type=...,
  none_to=...)``, add ``receipt_timestamp`` (and ``timestamp`` when the object has none), then the
  writer task's ``KafkaCallback._default_serializer`` — yapic ``json.dumpb``. The callbacks are
  coroutines that hand the dict to a queue, so their bodies are replicated below (``_book_dict``,
  ``_dict``: the same lines minus ``await self.write``); ``_default_serializer`` is called on a
  real backend instance. ``check()`` drives the real ``__call__`` coroutines (untimed) and asserts
  they write the same dicts. Not replicated: ``BookKafka`` also writes the whole book every
  ``snapshot_interval`` (1000) deltas per symbol — a second message, left out of this per-event
  codec figure.
- **decode** — cryptofeed has no consumer; a consumer of its topics parses the JSON value. This
  uses yapic ``json.loads`` (cryptofeed's own JSON library, faster than the stdlib's) and gets a
  ``dict`` back — not a typed object, so less work than the seed's and ours.
- **numbers** — ``numeric_type=float`` is the backend's default: prices become floats (equal in
  value here, but ``"60000.10000000"`` comes back as ``60000.1``, and floats are not exact
  decimals in general). ``numeric_type=str`` keeps the exact strings.
- **a 3-trade batch** is three ``Trade`` objects: cryptofeed sends one Kafka message per trade.

Native objects are built like cryptofeed's Binance feed builds them (``Decimal`` prices, float
second timestamps): ``OrderBook`` with ``.delta`` as the book callback sees it, ``Trade``,
``Candle``; each paired with its receipt timestamp.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from benchmarks.codec_data import RECEIVE_LAG_MS, BookDeltaIn, Content, Kind, KlineIn, TradesIn

EXCHANGE = "BINANCE"
SYMBOL = "BTC-USDT"


class CryptofeedCodec:
    def __init__(self, numeric_type: type = float, none_to: Any = None) -> None:
        from cryptofeed.backends.kafka import BookKafka, CandlesKafka, TradeKafka

        self.numeric_type = numeric_type
        self.none_to = none_to
        # Real backends (no producer is created until their writer task starts).
        self.backends: dict[Kind, Any] = {
            "book": BookKafka(numeric_type=numeric_type, none_to=none_to),
            "trades": TradeKafka(numeric_type=numeric_type, none_to=none_to),
            "kline": CandlesKafka(numeric_type=numeric_type, none_to=none_to),
        }

    # ------------------------------------------------------------------ native objects

    def build(self, kind: Kind, items: Sequence[Any]) -> list[Any]:
        from cryptofeed.defines import ASK, BID, BUY, SELL
        from cryptofeed.types import Candle, OrderBook, Trade

        def receipt(ms: int) -> float:
            return (ms + RECEIVE_LAG_MS) / 1000

        def book(d: BookDeltaIn) -> tuple[Any, float]:
            # As Binance._book leaves it for the callback: the book, plus the delta it applied.
            delta = {BID: [(Decimal(p), Decimal(q)) for p, q in d.bids],
                     ASK: [(Decimal(p), Decimal(q)) for p, q in d.asks]}
            ob = OrderBook(EXCHANGE, SYMBOL,
                           bids={p: q for p, q in delta[BID] if q},
                           asks={p: q for p, q in delta[ASK] if q})
            ob.delta = delta
            ob.timestamp = d.event_ms / 1000
            ob.sequence_number = d.last_id
            return ob, receipt(d.event_ms)

        def trades(b: TradesIn) -> list[tuple[Any, float]]:
            return [
                (Trade(EXCHANGE, SYMBOL, BUY if t.side == "BUY" else SELL, Decimal(t.qty),
                       Decimal(t.price), t.trade_ms / 1000, id=t.trade_id), receipt(b.event_ms))
                for t in b.trades
            ]

        def kline(k: KlineIn) -> tuple[Any, float]:
            c = Candle(EXCHANGE, SYMBOL, k.open_ms / 1000, k.close_ms / 1000, k.interval,
                       k.trade_count, Decimal(k.open), Decimal(k.close), Decimal(k.high),
                       Decimal(k.low), Decimal(k.volume), k.closed, k.event_ms / 1000)
            return c, receipt(k.event_ms)

        makers: dict[Kind, Callable[[Any], Any]] = {
            "book": book, "trades": trades, "kline": kline}
        return [makers[kind](x) for x in items]

    # ------------------------------------------------------------------ the backend's dicts

    def _book_dict(self, book: Any, receipt_timestamp: float) -> dict[str, Any]:
        # BackendBookCallback.__call__ (snapshots_only=False), minus the queue write
        data: dict[str, Any] = book.to_dict(delta=book.delta is not None,
                                            numeric_type=self.numeric_type, none_to=self.none_to)
        if not book.timestamp:
            data['timestamp'] = receipt_timestamp
        data['receipt_timestamp'] = receipt_timestamp
        if book.delta is None:
            del data['delta']
        return data

    def _dict(self, dtype: Any, receipt_timestamp: float) -> dict[str, Any]:
        # BackendCallback.__call__, minus the queue write
        data: dict[str, Any] = dtype.to_dict(numeric_type=self.numeric_type,
                                             none_to=self.none_to)
        if not dtype.timestamp:
            data['timestamp'] = receipt_timestamp
        data['receipt_timestamp'] = receipt_timestamp
        return data

    # ------------------------------------------------------------------ codec

    def encoder(self, kind: Kind) -> Callable[[Any], Any]:
        serialize = self.backends[kind]._default_serializer  # the writer task's json.dumpb
        if kind == "book":
            book_dict = self._book_dict

            def encode_book(item: tuple[Any, float]) -> bytes:
                return serialize(book_dict(*item))  # type: ignore[no-any-return]

            return encode_book
        to_dict = self._dict
        if kind == "trades":

            def encode_trades(batch: list[tuple[Any, float]]) -> list[bytes]:
                return [serialize(to_dict(t, ts)) for t, ts in batch]  # one message per trade

            return encode_trades

        def encode_one(item: tuple[Any, float]) -> bytes:
            return serialize(to_dict(*item))  # type: ignore[no-any-return]

        return encode_one

    def decoder(self, kind: Kind) -> Callable[[Any], Any]:
        from yapic import json

        loads = json.loads
        if kind == "trades":

            def decode_trades(batch: list[bytes]) -> list[dict[str, Any]]:
                return [loads(m) for m in batch]

            return decode_trades
        return loads  # type: ignore[no-any-return]

    def content(self, kind: Kind, decoded: Any) -> Content:
        if kind == "book":
            delta = decoded["delta"]
            return [(p, q) for p, q in delta["bid"]], [(p, q) for p, q in delta["ask"]]
        if kind == "trades":
            return [(t["price"], t["amount"], t["side"].upper()) for t in decoded]
        k = decoded
        return k["open"], k["high"], k["low"], k["close"], k["volume"], k["closed"]

    def check(self, kind: Kind, natives: list[Any], encoded: list[Any],
              decoded: list[Any]) -> str | None:
        """The replicated callback bodies write what the real ones do; JSON round-trips them."""
        backend = self.backends[kind]
        written: list[dict[str, Any]] = []

        async def capture(data: dict[str, Any]) -> None:
            written.append(data)

        backend.write = capture  # instead of the queue: keep what the callback writes
        flat = [x for batch in natives for x in batch] if kind == "trades" else natives
        for obj, ts in flat[:200]:
            coro = backend(obj, ts)
            try:
                coro.send(None)  # the callbacks never really suspend: one step runs them
            except StopIteration:
                pass
            else:  # pragma: no cover - a future cryptofeed that awaits something real
                coro.close()
                return "the backend callback suspended"
        del backend.write
        make = self._book_dict if kind == "book" else self._dict
        mine = [make(obj, ts) for obj, ts in flat[:200]]
        written = [w for w in written if "book" not in w]  # periodic full-book snapshots
        if written != mine:
            return "the replica of the backend callback writes different dicts than __call__"
        got = [x for batch in decoded for x in batch] if kind == "trades" else decoded
        for i, (want, have) in enumerate(zip(mine, got, strict=False)):
            if _lists(want) != have:
                return f"message {i} decodes to {have!r}, not {want!r}"
        return None


def _lists(x: Any) -> Any:
    """JSON turns tuples into lists."""
    if isinstance(x, dict):
        return {k: _lists(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_lists(v) for v in x]
    return x


def adapter(numeric_type: type = float) -> CryptofeedCodec:
    return CryptofeedCodec(numeric_type=numeric_type)

