"""The seed's (ttxt2 0.1.4) event serialization: its recorder's msgpack and its replayer's dacite.

- **encode** — ``MarketDataRecorder.process_event`` (``ttxt_v2/core/api/market_data_recorder.py``)
  serializes inline, so it cannot be called on its own; ``_encode`` below is those lines verbatim
  (including the ``default=`` lambda it creates per event)::

      event_dict = asdict(event)
      event_bytes = msgpack.packb(
          event_dict,
          use_bin_type=True,
          default=lambda o: o.value if isinstance(o, Enum) else o,
      )

  ``check()`` runs the real ``process_event`` on a recorder (untimed) and asserts it buffers
  exactly the bytes ``_encode`` returns.
- **decode** — ``MarketDataReplayer._replay_data`` reads files with a streaming
  ``msgpack.Unpacker(raw=False)`` and hands each dict to ``_deserialize_event`` (``dacite`` with
  the seed's enum config, rebuilt per event as in its code). For one message,
  ``msgpack.unpackb(data, raw=False)`` is the same unpacker on one buffer; then the replayer's own
  ``_deserialize_event`` method is called — the seed's code, not a copy.

Native objects: ``BaseEvent`` wrapping ``Event[Orderbook | MarketTrades | Kline]``, built like the
seed's Binance connector does (``float(...)`` prices, ms timestamps). The seed's objects carry
less than ours: no per-trade id or time, no update ids other than ``seq``, no quote volume.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import asdict
from enum import Enum
from typing import Any

from benchmarks.codec_data import BookDeltaIn, Content, Kind, KlineIn, TradesIn

_TICKER = "BTC_USDT"  # the recorder's per-ticker buffer key


def _encode(event: Any) -> bytes:
    import msgpack

    # verbatim from MarketDataRecorder.process_event
    event_dict = asdict(event)
    event_bytes = msgpack.packb(
        event_dict,
        use_bin_type=True,
        default=lambda o: o.value if isinstance(o, Enum) else o,
    )
    assert event_bytes is not None, "Failed to serialize data"
    return event_bytes  # type: ignore[no-any-return]


class SeedCodec:
    def __init__(self) -> None:
        from ttxt_v2.core.api import (
            AsyncioQueue,
            MarketDataReplayer,
            MarketDataReplayerConfig,
            TradingPair,
        )

        logging.getLogger("TTXT_V2").setLevel(logging.WARNING)  # the seed logs per batch at INFO
        self.pair = TradingPair(base="BTC", quote="USDT")
        # The replayer is only a holder for _deserialize_event here; it never opens its file.
        config = MarketDataReplayerConfig(exchange="BINANCE", ticker=self.pair,
                                          file_path="/nonexistent")
        self.replayer = MarketDataReplayer(config, AsyncioQueue(capacity=1))

    def build(self, kind: Kind, items: Sequence[Any]) -> list[Any]:
        from ttxt_v2.core.api import (
            BaseEvent,
            EUpdateType,
            Event,
            EventType,
            Kline,
            MarketTrades,
            MarketTradesData,
            MessageHeader,
            Orderbook,
            OrderbookEntry,
        )
        from ttxt_v2.core.api.enums import ESide, KlineTime

        pair = self.pair

        def book(d: BookDeltaIn) -> Any:
            ob = Orderbook(
                update_type=EUpdateType.DELTA,
                trading_pair=pair,
                bids=[OrderbookEntry(price=float(p), qty=float(q)) for p, q in d.bids],
                asks=[OrderbookEntry(price=float(p), qty=float(q)) for p, q in d.asks],
                timestamp=d.event_ms,
                seq=d.last_id,
            )
            return BaseEvent(event_type=EventType.OB_EVENT, payload=Event[Orderbook](
                header=MessageHeader(exchange="BINANCE", timestamp=ob.timestamp), data=ob))

        def trades(b: TradesIn) -> Any:
            mt = MarketTrades(trading_pair=pair, trades=[
                MarketTradesData(price=float(t.price), qty=float(t.qty),
                                 side=ESide.BUY if t.side == "BUY" else ESide.SELL)
                for t in b.trades
            ])
            return BaseEvent(event_type=EventType.MT_EVENT, payload=Event[MarketTrades](
                header=MessageHeader(exchange="BINANCE", timestamp=b.event_ms), data=mt))

        def kline(k: KlineIn) -> Any:
            assert k.interval == "1m"
            kl = Kline(timeframe=KlineTime.ONE_MIN, trading_pair=pair, open=float(k.open),
                       close=float(k.close), high=float(k.high), low=float(k.low),
                       volume=float(k.volume), start=k.open_ms, timestamp=k.close_ms,
                       confirm=k.closed)
            return BaseEvent(event_type=EventType.KL_EVENT, payload=Event[Kline](
                header=MessageHeader(exchange="BINANCE", timestamp=kl.timestamp), data=kl))

        makers: dict[Kind, Callable[[Any], Any]] = {
            "book": book, "trades": trades, "kline": kline}
        return [makers[kind](x) for x in items]

    def encoder(self, kind: Kind) -> Callable[[Any], bytes]:
        return _encode

    def decoder(self, kind: Kind) -> Callable[[bytes], Any]:
        import msgpack

        unpackb = msgpack.unpackb
        deserialize = self.replayer._deserialize_event

        def decode(data: bytes) -> Any:
            return deserialize(unpackb(data, raw=False))

        return decode

    def content(self, kind: Kind, decoded: Any) -> Content:
        data = decoded.payload.data
        if kind == "book":
            return [(e.price, e.qty) for e in data.bids], [(e.price, e.qty) for e in data.asks]
        if kind == "trades":
            return [(t.price, t.qty, t.side.value) for t in data.trades]
        return data.open, data.high, data.low, data.close, data.volume, data.confirm

    def check(self, kind: Kind, natives: list[Any], encoded: list[Any],
              decoded: list[Any]) -> str | None:
        for i, (a, b) in enumerate(zip(natives, decoded, strict=True)):
            # asdict: OrderbookEntry.__eq__ compares prices only
            if b is None or asdict(a) != asdict(b):
                return f"event {i} decodes to {b!r}, not {a!r}"
        real = self._recorded(natives[:200])
        if real != encoded[:200]:
            return "the replica of the recorder's serialization differs from process_event's"
        return None

    def _recorded(self, events: list[Any]) -> list[bytes]:
        """The bytes the seed's real ``MarketDataRecorder.process_event`` buffers for ``events``."""
        from ttxt_v2.core.api import (
            AsyncioQueue,
            LocalStorageBackend,
            MarketDataRecorder,
            MarketDataRecorderConfig,
        )

        with tempfile.TemporaryDirectory() as tmp:
            cfg = MarketDataRecorderConfig(exchange="BINANCE", tickers=[self.pair],
                                           file_path=tmp, batch_size=2**62)  # never flushes
            rec = MarketDataRecorder(cfg, AsyncioQueue(), LocalStorageBackend(tmp))

            async def run() -> None:
                for ev in events:
                    await rec.process_event(ev)

            asyncio.run(run())
            return list(rec._buffers[_TICKER])


def adapter() -> SeedCodec:
    return SeedCodec()
