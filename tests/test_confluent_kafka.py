"""The `confluent` serialization end to end on a real broker and a real registry, with a client
nobody here wrote: confluent-kafka (librdkafka) and its SchemaRegistryClient, AvroSerializer and
AvroDeserializer.

- what ttxt's bus produces (the path every connector publishes through) is decoded by
  confluent-kafka's AvroDeserializer, field for field;
- what confluent-kafka's AvroSerializer produces is consumed by a ttxt strategy (consumer group,
  KafkaRunner) in a process whose setting is single-object: consumers read both framings;
- a record naming a schema id the registry does not know is counted, dead-lettered and skipped.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from confluent_kafka import DeserializingConsumer, SerializingProducer
from confluent_kafka.schema_registry import SchemaRegistryClient as ConfluentClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import StringDeserializer, StringSerializer

from ttxt_kafka import serialization
from ttxt_kafka.bus import KafkaQueue
from ttxt_kafka.codec import Codec, CodecError
from ttxt_kafka.confluent import ConfluentFraming, SchemaRegistryClient, expanded_schema
from ttxt_kafka.events import Event, Trades
from ttxt_kafka.registry import REGISTRY
from ttxt_kafka.samples import all_samples
from ttxt_kafka.strategies import KafkaRunner, ListSink, Strategy, StrategyRuntime
from ttxt_kafka.topics import topic_for

pytestmark = pytest.mark.kafka

FAST_GROUP = {"heartbeat_interval_ms": 100, "session_timeout_ms": 6000}


def fresh() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture()
def registry_configured(schema_registry_url: str) -> Iterator[str]:
    """The process knows the registry (to read Confluent records); it still writes single-object."""
    serialization.configure(registry_url=schema_registry_url, format="single-object")
    yield schema_registry_url
    serialization.reset()


async def dead_letters(bootstrap: str, topic: str) -> list[Any]:
    reader = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await reader.start()
    try:
        batch = await reader.getmany(timeout_ms=10_000)
        return [r for rs in batch.values() for r in rs]
    finally:
        await reader.stop()


def plain(value: Any) -> Any:
    """An Avro record as JSON-like data (enums as their names), for comparing two decoders."""
    return json.loads(json.dumps(value, default=str))


async def test_confluent_kafka_decodes_what_ttxt_produces(kafka_bootstrap: str,
                                                          schema_registry_url: str) -> None:
    prefix = fresh()
    events = all_samples()
    codec = Codec(confluent=ConfluentFraming(SchemaRegistryClient(schema_registry_url)))
    async with KafkaQueue(kafka_bootstrap, prefix=prefix, codec=codec) as queue:
        for event in events:
            await queue.publish(event)
        await queue.flush()
    topics = sorted({topic_for(e, prefix) for e in events})

    consumer = DeserializingConsumer({
        "bootstrap.servers": kafka_bootstrap, "group.id": fresh(),
        "auto.offset.reset": "earliest", "enable.auto.commit": False,
        "key.deserializer": StringDeserializer("utf_8"),
        "value.deserializer": AvroDeserializer(ConfluentClient({"url": schema_registry_url})),
    })
    got: list[tuple[str, dict[str, Any]]] = []
    try:
        consumer.subscribe(topics)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while len(got) < len(events) and loop.time() < deadline:
            msg = await asyncio.to_thread(consumer.poll, 1.0)
            if msg is None:
                continue
            assert msg.error() is None, msg.error()
            assert isinstance(msg.value(), dict)
            got.append((msg.topic(), msg.value()))
    finally:
        consumer.close()

    expected = sorted((topic_for(e, prefix), json.dumps(plain(REGISTRY.by_class[type(e)]
                                                               .to_record(e)), sort_keys=True))
                      for e in events)
    decoded = sorted((t, json.dumps(plain(v), sort_keys=True)) for t, v in got)
    assert decoded == expected
    # The subjects are TopicNameStrategy's, one per topic.
    assert set(ConfluentClient({"url": schema_registry_url}).get_subjects()) >= {
        f"{t}-value" for t in topics}


class TradeCollector(Strategy):
    venues = ["binance"]
    channels = ["trades"]

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[Trades] = []

    def on_trades(self, event: Trades) -> None:
        self.seen.append(event)


async def collect_trades(bootstrap: str, prefix: str,
                         count: int) -> tuple[TradeCollector, KafkaRunner]:
    """Run a TradeCollector strategy (a consumer group) until it has `count` events (or 60 s)."""
    strategy = TradeCollector()
    runtime = StrategyRuntime(strategy, ListSink(), group=fresh(), prefix=prefix)
    runner = KafkaRunner(runtime, bootstrap, from_beginning=True, consumer_options=FAST_GROUP)
    await runner.start()
    task = asyncio.create_task(runner.run())
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 60
        while len(strategy.seen) < count and loop.time() < deadline:
            await asyncio.sleep(0.1)
    finally:
        await runner.stop()
        await task
    return strategy, runner


async def test_a_ttxt_strategy_consumes_what_confluent_kafka_produces(
        kafka_bootstrap: str, registry_configured: str) -> None:
    prefix = fresh()
    template = next(e for e in all_samples() if isinstance(e, Trades))
    assert isinstance(template, Trades)
    et = REGISTRY.by_name["Trades"]
    topic = topic_for(template, prefix)
    serializer = AvroSerializer(ConfluentClient({"url": registry_configured}),
                                json.dumps(expanded_schema(et)))
    producer = SerializingProducer({
        "bootstrap.servers": kafka_bootstrap,
        "key.serializer": StringSerializer("utf_8"), "value.serializer": serializer,
        "partitioner": "murmur2_random",  # the Java/aiokafka partitioning of keys
    })
    sent: list[Event] = []
    for i in range(20):
        event = dataclasses.replace(template, exchange_ts=template.exchange_ts + i, sequence=i)
        record = et.to_record(event)
        # confluent-kafka's AvroSerializer takes enums as their symbol names
        record["trades"] = [{**t, "side": str(t["side"])} for t in record["trades"]]
        producer.produce(topic, key=event.symbol, value=record)
        sent.append(event)
    assert await asyncio.to_thread(producer.flush, 30) == 0

    strategy, runner = await collect_trades(kafka_bootstrap, prefix, len(sent))
    assert strategy.seen == sent
    assert runner.malformed == 0


async def unknown_id_then_a_trade(bootstrap: str) -> tuple[str, Trades]:
    """A fresh prefix whose trades topic holds a Confluent record naming schema id 7 (unknown
    to any registry here), then a good single-object Trades event: (prefix, that event)."""
    prefix = fresh()
    good = next(e for e in all_samples() if isinstance(e, Trades))
    assert isinstance(good, Trades)
    async with KafkaQueue(bootstrap, prefix=prefix) as queue:
        await queue.publish_raw(topic_for(good, prefix),
                                b"\x00" + (7).to_bytes(4, "big") + Codec().encode(good)[10:],
                                b"BTC/USDT")
        await queue.publish(good)
        await queue.flush()
    return prefix, good


async def test_a_strategy_without_a_registry_counts_a_confluent_record(
        kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A strategy (KafkaRunner, its own consuming loop) counts it the same way, and goes on."""
    monkeypatch.delenv("TTXT_SCHEMA_REGISTRY_URL", raising=False)
    monkeypatch.delenv("TTXT_SERIALIZATION", raising=False)
    serialization.reset()
    prefix, good = await unknown_id_then_a_trade(kafka_bootstrap)
    strategy, runner = await collect_trades(kafka_bootstrap, prefix, 1)
    assert strategy.seen == [good]
    assert (runner.malformed, runner.schema_registry_errors) == (1, 1)


async def test_unknown_schema_id_is_counted_dead_lettered_and_skipped(
        kafka_bootstrap: str, registry_configured: str) -> None:
    prefix = fresh()
    good = next(e for e in all_samples() if isinstance(e, Trades))
    topic = topic_for(good, prefix)
    dead = f"{prefix}.dead"
    bogus = b"\x00" + (2**31 - 11).to_bytes(4, "big") + Codec().encode(good)[10:]
    async with KafkaQueue(kafka_bootstrap, topics=[topic], group_id=fresh(), prefix=prefix,
                          from_beginning=True, dead_letter_topic=dead) as queue:
        await queue.publish_raw(topic, bogus, b"BTC/USDT")
        await queue.publish(good)
        await queue.flush()
        event = await asyncio.wait_for(queue.poll(), 60)
        assert event == good
        assert queue.stats.malformed == 1
        assert queue.stats.schema_registry_errors == 1
        assert queue.stats.dead_lettered == 1
        await queue.flush()
    records = await dead_letters(kafka_bootstrap, dead)
    assert [r.value for r in records] == [bogus]
    error = dict(records[0].headers)["ttxt-error"].decode()
    assert "schema id 2147483637 is not in the schema registry" in error


async def test_no_registry_configured_is_counted_as_a_registry_error(
        kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A Confluent record reaching a process that has no registry URL: the same treatment as an
    unknown id (malformed and schema_registry_errors, dead-lettered with the reason, skipped)."""
    monkeypatch.delenv("TTXT_SCHEMA_REGISTRY_URL", raising=False)
    monkeypatch.delenv("TTXT_SERIALIZATION", raising=False)
    serialization.reset()
    prefix = fresh()
    good = next(e for e in all_samples() if isinstance(e, Trades))
    topic = topic_for(good, prefix)
    dead = f"{prefix}.dead"
    framed = b"\x00" + (7).to_bytes(4, "big") + Codec().encode(good)[10:]
    async with KafkaQueue(kafka_bootstrap, topics=[topic], group_id=fresh(), prefix=prefix,
                          from_beginning=True, dead_letter_topic=dead) as queue:
        await queue.publish_raw(topic, framed, b"BTC/USDT")
        await queue.publish(good)
        await queue.flush()
        assert await asyncio.wait_for(queue.poll(), 60) == good
        assert (queue.stats.malformed, queue.stats.schema_registry_errors,
                queue.stats.dead_lettered) == (1, 1, 1)
        await queue.flush()
    records = await dead_letters(kafka_bootstrap, dead)
    assert [r.value for r in records] == [framed]
    error = dict(records[0].headers)["ttxt-error"].decode()
    assert "no schema registry is configured" in error and "TTXT_SCHEMA_REGISTRY_URL" in error


async def test_a_producer_without_its_registry_gets_a_codec_error(kafka_bootstrap: str) -> None:
    """What a connector counts as a publish error (it catches CodecError), fast, and clear."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    codec = Codec(confluent=ConfluentFraming(SchemaRegistryClient(f"http://127.0.0.1:{port}")))
    event = next(e for e in all_samples() if isinstance(e, Trades))
    async with KafkaQueue(kafka_bootstrap, prefix=fresh(), codec=codec) as queue:
        for _ in range(3):
            with pytest.raises(CodecError, match=f"schema registry http://127.0.0.1:{port} "
                                                 "unreachable"):
                await queue.publish(event)
        assert queue.stats.published == 0  # nothing half-sent


@pytest.fixture()
def hung_registry() -> Iterator[str]:
    """A registry that accepts connections and never answers (a stuck or overloaded one): the
    kernel completes the handshake, nothing reads the request."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        url = f"http://127.0.0.1:{server.getsockname()[1]}"
        serialization.configure(registry_url=url, format="single-object")
        try:
            yield url
        finally:
            serialization.reset()


async def test_a_hung_registry_does_not_stall_a_strategy(kafka_bootstrap: str,
                                                         hung_registry: str) -> None:
    """The strategy asks the registry about an unknown id in a worker thread: its event loop
    (timers, order acks, other tasks) keeps running while the registry does not answer, and
    when the client gives up the record is counted and skipped."""
    prefix, good = await unknown_id_then_a_trade(kafka_bootstrap)

    loop = asyncio.get_running_loop()
    longest = 0.0
    done = False

    async def ticker() -> None:
        nonlocal longest
        last = loop.time()
        while not done:
            await asyncio.sleep(0.02)
            now = loop.time()
            longest, last = max(longest, now - last), now

    ticking = asyncio.create_task(ticker())
    try:
        strategy, runner = await collect_trades(kafka_bootstrap, prefix, 1)
    finally:
        done = True
        await ticking
    assert strategy.seen == [good]  # after the client's 10 s timeout
    assert (runner.malformed, runner.schema_registry_errors) == (1, 1)
    assert longest < 1.0, f"the event loop stalled for {longest:.1f}s"
