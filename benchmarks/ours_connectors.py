"""Drivers of our connectors for the connector benchmarks.

* `normalize_all`: the pure normalizer over a list of raw frames.
* `OfflineConnector`: the real connector hot path (`Connector._read`: normalize, book sync,
  the connector's own `Book`, publish) fed from a list instead of a socket, publishing into a
  queue that drops everything; REST is answered from the capture. This is what one frame costs
  a running connector, minus the socket and Kafka.
* `run_into_kafka`: a real connector reading a simulator over WebSocket into a real broker.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from benchmarks.ours_connector_data import VenueCapture
from ttxt_kafka.admin import ensure_topics, record_counts
from ttxt_kafka.bus import KafkaQueue
from ttxt_kafka.bus.interfaces import IQueue
from ttxt_kafka.connectors import connector_class
from ttxt_kafka.connectors.base.connector import Connector, SymbolState
from ttxt_kafka.connectors.config import ConnectorConfig, parse_config
from ttxt_kafka.connectors.runner import CHANNELS
from ttxt_kafka.events import Event, InstrumentInfo, now_us
from ttxt_kafka.topics import topic

STREAMS: dict[str, Any] = {"book": True, "trades": True, "klines": {"intervals": ["1m"]},
                           "bbo": True}


def symbols_of(cap: VenueCapture) -> list[str]:
    natives: dict[str, None] = {}
    for raw in cap.frames:
        if cap.coinbase:
            for key in ('"product_id":"',):
                if '"l2_data"' in raw[:40] and key in raw:
                    start = raw.index(key) + len(key)
                    natives.setdefault(raw[start:raw.index('"', start)], None)
        elif cap.okx:
            if raw.startswith('{"arg"') and '"instId":"' in raw:
                start = raw.index('"instId":"') + 10
                natives.setdefault(raw[start:raw.index('"', start)], None)
        elif cap.bitget:
            if '"action"' in raw[:12] and '"instId":"' in raw:
                start = raw.index('"instId":"') + 10
                natives.setdefault(raw[start:raw.index('"', start)], None)
        elif cap.kucoin:
            if cap.kind(raw) == "book":
                natives.setdefault(json.loads(raw)["data"]["symbol"], None)
        elif cap.kraken:
            if raw.startswith("[") and raw.endswith('"]'):
                from ttxt_kafka.connectors.kraken.endpoints import v2_symbol

                natives.setdefault(v2_symbol(raw[raw.rindex('"', 0, -2) + 1:-2]), None)
        elif cap.gate:
            result = json.loads(raw)["result"]
            natives.setdefault(result.get("s") or result["currency_pair"], None)
        elif cap.venue.startswith("binance"):
            natives.setdefault(raw[11:raw.index("@")].upper(), None)
        elif raw.startswith('{"topic":"') and not raw.startswith('{"topic":"tickers'):
            natives.setdefault(raw[10:raw.index('"', 10)].rsplit(".", 1)[1], None)
    return list(natives)


def config(cap: VenueCapture, ws: str = "ws://127.0.0.1:1", rest: str = "http://127.0.0.1:1",
           **overrides: Any) -> ConnectorConfig:
    streams = STREAMS
    if cap.coinbase:  # its WS streams 5-minute candles only
        streams = {**STREAMS, "klines": {"intervals": ["5m"]}}
    c: dict[str, Any] = {"venue": cap.venue, "symbols": symbols_of(cap), "streams": streams,
                         "endpoints": {"ws": ws, "rest": rest}, "snapshot_interval": 0}
    c.update(overrides)
    return parse_config({"connectors": [c]}).connectors[0]


def normalize_all(normalizer: Any, frames: list[str]) -> int:
    n = 0
    for raw in frames:
        n += len(normalizer(raw, 0))
    return n


class NullQueue(IQueue):
    """Accepts and drops: the benchmark times the connector, not a queue."""

    def __init__(self) -> None:
        self.published = 0

    async def publish(self, event: Event) -> None:
        self.published += 1

    async def poll(self) -> Event:
        raise NotImplementedError


class _Frames:
    """An async iterable of frames standing in for the socket."""

    def __init__(self, frames: list[str]) -> None:
        self.frames = frames

    async def _gen(self) -> AsyncIterator[str]:
        for raw in self.frames:
            yield raw

    def __aiter__(self) -> AsyncIterator[str]:
        return self._gen()


def offline_connector(cap: VenueCapture) -> Connector:
    """The venue's connector class with REST answered from the capture and no socket."""
    base = connector_class(cap.venue)

    class Offline(base):  # type: ignore[valid-type, misc]
        # KuCoin: each pass of the longer stream re-applies the capture's changes on the book
        # the last pass left, which can cross it; cryptofeed does not check crossing either
        crossed_books_allowed = cap.kucoin or base.crossed_books_allowed

        async def fetch_instruments(self, wanted: list[str]) -> list[InstrumentInfo]:
            return self.normalizer.instruments(cap.info, now_us())  # type: ignore[no-any-return, attr-defined]

        async def fetch_server_time_us(self) -> int:
            return now_us()

        async def rebuild(self, state: SymbolState) -> None:
            body = cap.snapshots.get(state.native)
            if body is not None:  # Binance: the REST snapshot, at once
                snap = self.normalizer.depth_snapshot(body, state.native, now_us())  # type: ignore[attr-defined]
                await self.on_snapshot(state, snap)

    return Offline(config(cap), NullQueue())  # type: ignore[no-any-return]


async def prepare_offline(cap: VenueCapture) -> Connector:
    c = offline_connector(cap)
    await c._load_instruments()
    c._plan_connections()
    await c._reset_books(c.connections[0].symbols, "")
    return c


async def read_offline(c: Connector, frames: list[str]) -> None:
    await c._read(c.connections[0], _Frames(frames))  # type: ignore[arg-type]


# ------------------------------------------------------------------------- into Kafka


async def run_into_kafka(cap: VenueCapture, ws: str, rest: str, bootstrap: str,
                         expected_frames: int, timeout: float = 300.0) -> dict[str, float]:
    """One connector reading the simulator's replay at full speed into Kafka.

    Timed twice, both ending when the last record is acknowledged by the broker (acks=all):
    from the first frame (`seconds`, `frames`), and from the moment every book is synced
    (`steady_*`): frames that arrive while the first REST snapshot is in flight are folded into
    that snapshot instead of being published one by one, which would flatter the first figure.
    """
    prefix = f"bench{uuid.uuid4().hex[:8]}"
    await ensure_topics(bootstrap, [topic(cap.venue, ch, prefix) for ch in CHANNELS])
    queue = KafkaQueue(bootstrap, prefix=prefix)
    await queue.start()
    connector = connector_class(cap.venue)(config(cap, ws, rest, stale_timeout=600), queue)
    stats = connector.stats
    task = asyncio.ensure_future(connector.run())
    try:
        deadline = time.monotonic() + timeout

        async def until(check: Any) -> None:
            while not check():
                await asyncio.sleep(0.0005)
                if task.done() or time.monotonic() > deadline:
                    task.result()
                    raise TimeoutError(f"{stats.messages}/{expected_frames} frames")

        await until(lambda: stats.messages > 0)
        t0 = time.perf_counter()
        await until(lambda: connector.states and all(s.sync.synced
                                                     for s in connector.states.values()))
        t_synced, frames_synced, events_synced = time.perf_counter(), stats.messages, stats.events
        await until(lambda: stats.messages >= expected_frames)
        await queue.flush()  # every record acknowledged
        t1 = time.perf_counter()
        connector.stop()
        await task
    finally:
        connector.stop()
        await queue.stop()
    counts = await record_counts(bootstrap, [topic(cap.venue, ch, prefix) for ch in CHANNELS])
    return {"seconds": t1 - t0, "frames": stats.messages, "events": stats.events,
            "steady_seconds": t1 - t_synced, "steady_frames": stats.messages - frames_synced,
            "steady_events": stats.events - events_synced, "records": sum(counts.values()),
            "book_deltas": stats.book_deltas, "gaps": stats.gaps}
