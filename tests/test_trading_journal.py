"""The ack journal (exactly-once after a crash) reads the executions topic back: an ack there
that does not decode names no command, so it is counted and logged, never skipped silently."""

from __future__ import annotations

import logging
import time
import uuid

import pytest
from aiokafka import AIOKafkaProducer

from ttxt_kafka.admin import ensure_topics
from ttxt_kafka.bus import KafkaQueue
from ttxt_kafka.connectors.trading.journal import AckJournal
from ttxt_kafka.events import AckStatus, CommandType, OrderAck, now_us
from ttxt_kafka.topics import TYPE_HEADER, topic

pytestmark = pytest.mark.kafka


async def test_an_ack_that_does_not_decode_is_counted_and_logged(
        kafka_bootstrap: str, caplog: pytest.LogCaptureFixture) -> None:
    prefix = f"j{uuid.uuid4().hex[:10]}"
    executions = topic("binance", "executions", prefix)
    await ensure_topics(kafka_bootstrap, [executions], partitions=1)
    ts = now_us()
    async with KafkaQueue(kafka_bootstrap, prefix=prefix) as queue:
        await queue.publish(OrderAck(venue="binance", symbol="BTC/USDT", exchange_ts=ts,
                                     receive_ts=ts, command_id="cmd-1",
                                     command_type=CommandType.CREATE, status=AckStatus.ACCEPTED))
        await queue.flush()
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:  # an ack in a schema this connector does not know (its header says OrderAck)
        await producer.send_and_wait(executions, b"\xc3\x01\x00" * 4,
                                     headers=[(TYPE_HEADER, b"OrderAck")])
    finally:
        await producer.stop()
    journal = AckJournal(kafka_bootstrap, executions)
    with caplog.at_level(logging.ERROR):
        await journal.ensure_scanned(int(time.time() * 1000))
    assert "cmd-1" in journal
    assert journal.undecodable == 1
    assert f"{executions}[0]@1: an ack that does not decode" in caplog.text, caplog.text
