"""Recorder and replayer tests: market-data records, fast producing, reading back."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from fastavro import reader as avro_reader

from ttxt_kafka.admin import cluster_metadata, ensure_topics
from ttxt_kafka.bus.kafka_queue import producer_defaults
from ttxt_kafka.codec import encode
from ttxt_kafka.events import BBO, OrderBook, Side, Trade, Trades, UpdateType
from ttxt_kafka.topics import TYPE_HEADER, topic

T0 = 1_700_000_000_000_000  # µs
VENUES = ("binance", "binance_usdm", "bybit_linear")
SYMBOLS = ("BTC/USDT", "ETH/USDT", "SOL/USDT")
REPO = Path(__file__).resolve().parent.parent
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# The test data is history (2023 timestamps) and Kafka's time retention goes by record
# timestamps: with the broker default (7 days) it would delete these records at its next
# retention check, in the middle of a test. Topics that hold history keep everything.
HISTORY = {"retention.ms": "-1"}


async def ensure_history_topics(bootstrap: str, names: Iterable[str], partitions: int = 3
                                ) -> None:
    await ensure_topics(bootstrap, sorted(set(names)), partitions=partitions, configs=HISTORY)


def fresh_prefix() -> str:
    return f"r{uuid.uuid4().hex[:10]}"


@dataclass(frozen=True, slots=True)
class Rec:
    """One record to produce (and what we expect to find again)."""

    topic: str
    key: bytes
    value: bytes
    ts_us: int
    headers: tuple[tuple[str, bytes], ...]

    @property
    def timestamp_ms(self) -> int:
        return self.ts_us // 1000


def market_records(prefix: str, n: int, venues: Iterable[str] = VENUES,
                   symbols: Iterable[str] = SYMBOLS, step_us: int = 1000,
                   t0: int = T0) -> list[Rec]:
    """n records spread round-robin over venues x symbols x (book, trades, bbo), exchange time
    increasing by step_us; 10-level book deltas, like the benchmark."""
    combos = [(v, s, c) for v in venues for s in symbols for c in ("book", "trades", "bbo")]
    out = []
    for i in range(n):
        venue, symbol, channel = combos[i % len(combos)]
        ts = t0 + i * step_us
        h = dict(venue=venue, symbol=symbol, native_symbol=symbol.replace("/", ""),
                 exchange_ts=ts, receive_ts=ts + 700, sequence=i)
        event: OrderBook | Trades | BBO
        if channel == "book":
            event = OrderBook(**h, update_type=UpdateType.DELTA,  # type: ignore[arg-type]
                              bids=[[f"{60000 - j}.{i % 100:02d}", f"{j}.{i % 1000:03d}"]
                                    for j in range(5)],
                              asks=[[f"{60001 + j}.{i % 100:02d}", f"{j}.5"] for j in range(5)])
        elif channel == "trades":
            event = Trades(**h, trades=[Trade(trade_id=str(i), price=f"60000.{i % 10}",  # type: ignore[arg-type]
                                              qty="0.01", side=Side.BUY, exchange_ts=ts)])
        else:
            event = BBO(**h, bid_price="60000.1", bid_qty="1", ask_price="60000.2",  # type: ignore[arg-type]
                        ask_qty=f"{i % 7}.5")
        out.append(Rec(topic(venue, channel, prefix), symbol.encode(), encode(event), ts,
                       ((TYPE_HEADER, event.SCHEMA.encode()),)))
    return out


async def produce(bootstrap: str, records: Iterable[Rec], partitions: int = 3,
                  ) -> list[tuple[str, int, int]]:
    """Produce with the platform's producer settings, pipelined; (topic, partition, offset)
    of each record, in the order given."""
    records = list(records)
    await ensure_history_topics(bootstrap, {r.topic for r in records}, partitions)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **producer_defaults())
    await producer.start()
    try:
        futures = [await producer.send(r.topic, r.value, key=r.key, headers=list(r.headers),
                                       timestamp_ms=r.timestamp_ms) for r in records]
        metas = await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return [(m.topic, m.partition, m.offset) for m in metas]


async def consume_all(bootstrap: str, topics: list[str], expected: int,
                      timeout: float = 60) -> list[object]:
    """Every record of the topics, from the beginning, per partition in offset order."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                auto_offset_reset="earliest")
    await consumer.start()
    try:
        metadata = await cluster_metadata(consumer)
        tps = [TopicPartition(t, p) for t in topics
               for p in sorted(metadata.partitions_for_topic(t) or ())]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        out: list[object] = []
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while len(out) < expected and loop.time() < deadline:
            for batch in (await consumer.getmany(timeout_ms=500, max_records=20_000)).values():
                out.extend(batch)
        return out
    finally:
        await consumer.stop()


def read_with_fastavro(directory: Path) -> Iterator[tuple[Path, dict[str, object]]]:
    """Every record of every file, read with the plain fastavro reader. It shows the annotated
    times as datetimes (`ts` timestamp-micros, `timestamp` -millis); they are given back as the
    integers the files hold, for comparing with what was produced."""
    for path in sorted(directory.glob("*.avro")):
        with path.open("rb") as fo:
            for record in avro_reader(fo):
                assert isinstance(record, dict)
                ts, timestamp = record["ts"], record["timestamp"]
                assert isinstance(ts, datetime) and isinstance(timestamp, datetime)
                record["ts"] = (ts - _EPOCH) // timedelta(microseconds=1)
                record["timestamp"] = (timestamp - _EPOCH) // timedelta(milliseconds=1)
                yield path, record


def ttxt(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ttxt_kafka.cli", *args], capture_output=True,
                          text=True, timeout=timeout, cwd=REPO,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
