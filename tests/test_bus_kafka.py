"""The Kafka bus against a real broker: topics, keys, timestamps, headers, commits, bad records."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from custom_event import FundingRate
from samples import all_samples, header

from ttxt_kafka.admin import ensure_topics, record_counts
from ttxt_kafka.bus import KafkaQueue, KafkaUnavailableError
from ttxt_kafka.codec import encode
from ttxt_kafka.events import Event, OrderBook, UpdateType
from ttxt_kafka.topics import TYPE_HEADER, key_for, topic_for

pytestmark = pytest.mark.kafka


def fresh_prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


def topics_of(events: list[Event], prefix: str) -> list[str]:
    return sorted({topic_for(e, prefix) for e in events})


async def consume(queue: KafkaQueue, n: int, timeout: float = 30) -> list[Event]:
    return [await asyncio.wait_for(queue.poll(), timeout) for _ in range(n)]


async def test_every_event_type_round_trips_with_key_timestamp_and_type_header(
    kafka_bootstrap: str,
) -> None:
    prefix = fresh_prefix()
    events = all_samples()
    topics = topics_of(events, prefix)
    await ensure_topics(kafka_bootstrap, topics)
    async with KafkaQueue(kafka_bootstrap, prefix=prefix) as producer:
        for event in events:
            await producer.publish(event)
        await producer.flush()
        assert producer.stats.published == len(events) and producer.stats.delivery_errors == 0

    async with KafkaQueue(kafka_bootstrap, topics=topics, group_id=prefix, prefix=prefix,
                          from_beginning=True) as consumer:
        received = await consume(consumer, len(events))
    assert Counter(map(repr, received)) == Counter(map(repr, events))

    raw = AIOKafkaConsumer(*topics, bootstrap_servers=kafka_bootstrap,
                           auto_offset_reset="earliest", enable_auto_commit=False)
    await raw.start()
    try:
        records = []
        while len(records) < len(events):
            for batch in (await raw.getmany(timeout_ms=1000)).values():
                records.extend(batch)
    finally:
        await raw.stop()
    by_value = {encode(e): e for e in events}
    for r in records:
        event = by_value[r.value]
        assert r.topic == topic_for(event, prefix)
        assert r.key == key_for(event)
        assert r.timestamp == event.exchange_ts // 1000
        assert dict(r.headers)[TYPE_HEADER] == event.SCHEMA.encode()


async def test_garbage_on_a_topic_is_counted_dead_lettered_and_skipped(
    kafka_bootstrap: str,
) -> None:
    prefix = fresh_prefix()
    topic = f"{prefix}.binance.book"
    dlq = f"{prefix}.dead-letter"
    await ensure_topics(kafka_bootstrap, [topic, dlq], partitions=1)
    good = [OrderBook(**header(seq=i), update_type=UpdateType.DELTA,  # type: ignore[arg-type]
                      bids=[[f"{100 + i}.5", "1"]], asks=[]) for i in range(6)]
    garbage = [b"not avro at all", b'{"json": true}', b"\xc3\x01" + b"\x00" * 8 + b"??",
               encode(good[0])[:-3], b""]
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        for i, event in enumerate(good):
            await producer.send_and_wait(topic, encode(event), key=b"BTC/USDT")
            if i < len(garbage):
                await producer.send_and_wait(topic, garbage[i], key=b"BTC/USDT")
    finally:
        await producer.stop()

    async with KafkaQueue(kafka_bootstrap, topics=[topic], group_id=prefix, prefix=prefix,
                          from_beginning=True, dead_letter_topic=dlq) as consumer:
        received = await consume(consumer, len(good))
        await consumer.flush()
        assert received == good  # all valid ones, in order, none lost
        assert consumer.stats.malformed == len(garbage)
        assert consumer.stats.dead_lettered == len(garbage)
    assert (await record_counts(kafka_bootstrap, [dlq]))[dlq] == len(garbage)


async def test_offsets_are_committed_only_for_handled_events(kafka_bootstrap: str) -> None:
    prefix = fresh_prefix()
    topic = f"{prefix}.binance.book"
    await ensure_topics(kafka_bootstrap, [topic], partitions=1)
    events = [OrderBook(**header(seq=i), update_type=UpdateType.DELTA,  # type: ignore[arg-type]
                        bids=[[str(i), "1"]], asks=[]) for i in range(10)]
    async with KafkaQueue(kafka_bootstrap, prefix=prefix) as producer:
        for e in events:
            await producer.publish(e)

    group = f"{prefix}-group"
    async with KafkaQueue(kafka_bootstrap, topics=[topic], group_id=group,
                          from_beginning=True) as consumer:
        assert await consume(consumer, 5) == events[:5]
        # The 5th was polled but not marked handled: it must come again.
    async with KafkaQueue(kafka_bootstrap, topics=[topic], group_id=group,
                          from_beginning=True) as consumer:
        again = await consume(consumer, 3)
        assert again == events[4:7]
        consumer.task_done()  # the 7th is handled now
    async with KafkaQueue(kafka_bootstrap, topics=[topic], group_id=group,
                          from_beginning=True) as consumer:
        assert await consume(consumer, 3) == events[7:]


async def test_custom_event_travels_through_kafka_to_its_handler(kafka_bootstrap: str) -> None:
    prefix = fresh_prefix()
    event = FundingRate(**header(venue="binance_usdm"), rate="-0.00012500",  # type: ignore[arg-type]
                        next_funding_ts=1)
    topic = topic_for(event, prefix)
    assert topic.endswith(".binance_usdm.funding")
    await ensure_topics(kafka_bootstrap, [topic])
    async with KafkaQueue(kafka_bootstrap, prefix=prefix) as producer:
        await producer.publish(event)
    async with KafkaQueue(kafka_bootstrap, topics=[topic], group_id=prefix,
                          from_beginning=True) as consumer:
        assert await consume(consumer, 1) == [event]


async def test_a_broker_that_is_down_gives_a_clear_error_after_retrying() -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    queue = KafkaQueue(f"127.0.0.1:{port}", connect_timeout=3)
    t0 = time.monotonic()
    with pytest.raises(KafkaUnavailableError) as info:
        await queue.start()
    elapsed = time.monotonic() - t0
    assert 2.5 < elapsed < 20
    message = str(info.value)
    assert f"127.0.0.1:{port}" in message and "ttxt kafka start" in message
    assert "attempts" in message
