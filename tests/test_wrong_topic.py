"""A valid event of the wrong type for its topic (a `Trades` on a `book` topic) is counted and
skipped by consumers, like an undecodable record (issue 20): the bus's KafkaQueue and a strategy
running as a consumer group, against a real broker."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import pytest
from aiokafka import AIOKafkaProducer

from ttxt_kafka.admin import ensure_topics
from ttxt_kafka.bus import KafkaQueue
from ttxt_kafka.codec import encode
from ttxt_kafka.events import Event, OrderBook, Side, Trade, Trades, UpdateType
from ttxt_kafka.metrics import Registry
from ttxt_kafka.strategies import KafkaRunner, Strategy, StrategyRuntime
from ttxt_kafka.strategies.sinks import KafkaSink
from ttxt_kafka.topics import topic, wrong_channel

pytestmark = pytest.mark.kafka

V = "sim"


def _head(seq: int) -> dict[str, object]:
    return {"venue": V, "symbol": "BTC/USDT", "native_symbol": "BTCUSDT",
            "exchange_ts": 1_700_000_000_000_000 + seq, "receive_ts": 1_700_000_000_000_000 + seq,
            "sequence": seq}


def _records() -> tuple[list[OrderBook], Trades]:
    books = [OrderBook(**_head(0), update_type=UpdateType.SNAPSHOT,  # type: ignore[arg-type]
                       bids=[["100", "1"]], asks=[["101", "1"]])]
    books += [OrderBook(**_head(i), update_type=UpdateType.DELTA,  # type: ignore[arg-type]
                        bids=[["100", str(i)]], asks=[]) for i in range(1, 4)]
    trades = Trades(**_head(9), trades=[  # type: ignore[arg-type]
        Trade(trade_id="1", price="100.5", qty="2", side=Side.BUY, exchange_ts=1)])
    return books, trades


async def _produce(bootstrap: str, name: str, events: list[Event]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for ev in events:
            await producer.send_and_wait(name, encode(ev), key=b"BTC/USDT")
    finally:
        await producer.stop()


def test_the_channel_of_a_topic_is_its_last_part() -> None:
    books, trades = _records()
    assert wrong_channel("ttxt.binance.book", books[0]) is None
    assert wrong_channel("ttxt.replay.r1.binance.book", books[0]) is None
    assert "Trades" in (wrong_channel("ttxt.binance.book", trades) or "")
    assert "Trades" in (wrong_channel("ttxt.replay.r1.binance.book", trades) or "")
    assert wrong_channel("my.dead-letter", trades) is None  # not one of our channels


async def test_kafka_queue_skips_an_event_of_the_wrong_type(kafka_bootstrap: str) -> None:
    prefix = f"t{uuid.uuid4().hex[:10]}"
    name = topic(V, "book", prefix)
    await ensure_topics(kafka_bootstrap, [name], partitions=1)
    books, trades = _records()
    await _produce(kafka_bootstrap, name, [books[0], books[1], trades, books[2], books[3]])
    async with KafkaQueue(kafka_bootstrap, topics=[name], group_id=prefix, prefix=prefix,
                          from_beginning=True) as consumer:
        got = [await asyncio.wait_for(consumer.poll(), 20) for _ in books]
        assert got == books
        assert consumer.stats.malformed == 1


class BookCounter(Strategy):
    venues = [V]
    channels = ["book"]

    def on_start(self) -> None:
        self.calls: Counter[str] = Counter()

    def on_orderbook(self, event: OrderBook) -> None:
        self.calls["book"] += 1

    def on_trades(self, event: Trades) -> None:
        self.calls["trades"] += 1


async def test_a_strategy_skips_an_event_of_the_wrong_type(kafka_bootstrap: str) -> None:
    prefix = f"t{uuid.uuid4().hex[:10]}"
    name = topic(V, "book", prefix)
    await ensure_topics(kafka_bootstrap, [name], partitions=1)
    books, trades = _records()
    await _produce(kafka_bootstrap, name, [books[0], books[1], trades, books[2], books[3]])
    strategy = BookCounter()
    registry = Registry()
    producer = KafkaQueue(kafka_bootstrap, prefix=prefix)
    runtime = StrategyRuntime(strategy, KafkaSink(producer), group=prefix, prefix=prefix,
                              registry=registry)
    runner = KafkaRunner(runtime, kafka_bootstrap, from_beginning=True,
                         consumer_options={"heartbeat_interval_ms": 100,
                                           "session_timeout_ms": 6000})
    await producer.start()
    await runner.start()
    task = asyncio.create_task(runner.run())
    try:
        deadline = asyncio.get_running_loop().time() + 30
        while strategy.calls["book"] < len(books) or runner.malformed < 1:
            assert asyncio.get_running_loop().time() < deadline, (strategy.calls,
                                                                   runner.malformed)
            await asyncio.sleep(0.05)
    finally:
        await runner.stop()
        await producer.stop()
        await task
    assert strategy.calls == Counter({"book": len(books)})  # the Trades never reached it
    assert runner.malformed == 1
    assert "ttxt_strategy_malformed_total" in registry.render()
