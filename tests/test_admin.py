"""Reading a topic back from a point in time (`records_since`), on a real broker."""

from __future__ import annotations

import uuid

import pytest
from aiokafka import AIOKafkaProducer

from ttxt_kafka.admin import TopicNotFound, ensure_topics, records_since

pytestmark = pytest.mark.kafka


async def test_records_since_reads_from_the_timestamp_to_the_current_end(
        kafka_bootstrap: str) -> None:
    name = f"admin{uuid.uuid4().hex[:8]}.binance.executions"
    await ensure_topics(kafka_bootstrap, [name], partitions=3)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        for i in range(30):  # timestamps 1,000,000 + i*1,000 ms, spread over the 3 partitions
            await producer.send_and_wait(name, f"r{i}".encode(), partition=i % 3,
                                         timestamp_ms=1_000_000 + i * 1_000)
    finally:
        await producer.stop()

    got = [r async for r in records_since(kafka_bootstrap, name, 1_000_000 + 20_000)]
    assert sorted(r.value for r in got) == sorted(f"r{i}".encode() for i in range(20, 30))
    assert [r async for r in records_since(kafka_bootstrap, name, 2_000_000)] == []
    everything = [r async for r in records_since(kafka_bootstrap, name, 0)]
    assert len(everything) == 30


async def test_records_since_names_a_missing_topic(kafka_bootstrap: str) -> None:
    name = f"admin{uuid.uuid4().hex[:8]}.missing"
    with pytest.raises(TopicNotFound, match=name):
        [r async for r in records_since(kafka_bootstrap, name, 0)]
