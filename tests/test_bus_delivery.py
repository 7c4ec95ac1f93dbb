"""The bus never fails silently (issue 20), the quick cases against the shared broker: a record
the broker cannot take is declared lost, loudly, and breaks its book chain (later deltas are
dropped until a snapshot starts it again, and listeners are told); the rate-limiting log filter.
The broker outage itself is in test_broker_outage.py."""

from __future__ import annotations

import asyncio
import logging
import uuid

import pytest
from test_broker_outage import read_topics

from ttxt_kafka.admin import ensure_topics
from ttxt_kafka.bus import KafkaQueue
from ttxt_kafka.bus.logfilter import RateLimitFilter
from ttxt_kafka.codec import decode
from ttxt_kafka.events import ConnectorState, ConnectorStatus, OrderBook, UpdateType, now_us
from ttxt_kafka.top import Top, render
from ttxt_kafka.topics import topic


class Listener:
    def __init__(self) -> None:
        self.broken: list[tuple[str, bytes | None]] = []
        self.failed: list[str] = []

    def delivery_failed(self, reason: str) -> None:
        self.failed.append(reason)

    def chains_broken(self, chains: list[tuple[str, bytes | None]]) -> None:
        self.broken.extend(chains)

    def delivery_recovered(self, reason: str) -> None:
        pass


def _book(seq: int, kind: UpdateType, qty: str = "1") -> OrderBook:
    return OrderBook(venue="sim", symbol="BTC/USDT", native_symbol="BTCUSDT",
                     exchange_ts=1_700_000_000_000_000 + seq, receive_ts=0, sequence=seq,
                     update_type=kind, bids=[["100", qty]], asks=[["101", "1"]])


@pytest.mark.kafka
async def test_a_refused_record_is_declared_lost_and_breaks_its_chain(
    kafka_bootstrap: str, caplog: pytest.LogCaptureFixture
) -> None:
    prefix = f"t{uuid.uuid4().hex[:10]}"
    book = topic("sim", "book", prefix)
    await ensure_topics(kafka_bootstrap, [book], partitions=1)
    listener = Listener()
    async with KafkaQueue(kafka_bootstrap, prefix=prefix) as queue:
        queue.add_listener(listener)
        await queue.publish(_book(1, UpdateType.SNAPSHOT))
        await queue.publish(_book(2, UpdateType.DELTA))
        huge = _book(3, UpdateType.DELTA, qty="1" * 2_000_000)  # > max.message.bytes
        await queue.publish(huge)
        await queue.publish(_book(4, UpdateType.DELTA))  # after the hole: dropped
        await queue.publish(_book(5, UpdateType.SNAPSHOT))  # starts the chain again
        await queue.publish(_book(6, UpdateType.DELTA))
        await queue.flush(timeout=30)
        stats = queue.stats
        assert (stats.lost, stats.chain_dropped, stats.acknowledged) == (1, 1, 4)
        assert stats.published == 6
        assert listener.broken == [(book, b"BTC/USDT")]
        assert queue.pending == 0 and queue.healthy
    assert "Kafka refused a record" in caplog.text and "declared lost" in caplog.text
    on_topic = [decode(v).sequence for _, v in await read_topics(kafka_bootstrap, [book])]
    assert on_topic == [1, 2, 5, 6]  # no delta after the hole until the next snapshot


@pytest.mark.kafka
@pytest.mark.parametrize("then", ["awaited", "scheduled"])
async def test_a_publish_cancelled_while_aiokafka_waits_is_still_delivered_in_order(
    kafka_bootstrap: str, caplog: pytest.LogCaptureFixture, then: str
) -> None:
    """A publishing task cancelled inside aiokafka's send (a connector's snapshot task when
    its connection closes): the record was the queue's, so it reaches the topic, once, and
    stop() declares nothing lost. The topic is created after the producer started, so on
    every aiokafka its first send waits for the topic's metadata (0.13+ waits so for every
    topic: its producer starts knowing none), which is where the cancellation lands.

    The next publish of the topic comes after the cancelled one ended ("awaited"), or from
    another task scheduled before the hand-over task was created ("scheduled"): that one
    used to reach aiokafka's wait first and overtake it (a delta before its snapshot, [2, 1]);
    while a hand-over of a topic is pending, that topic's publishes queue behind it."""
    prefix = f"t{uuid.uuid4().hex[:10]}"
    book = topic("sim", "book", prefix)
    queue = KafkaQueue(kafka_bootstrap, prefix=prefix)
    await queue.start()
    try:
        await ensure_topics(kafka_bootstrap, [book], partitions=1)
        publisher = asyncio.ensure_future(queue.publish(_book(1, UpdateType.SNAPSHOT)))
        await asyncio.sleep(0)  # the publish is now waiting inside aiokafka
        assert not publisher.done()
        publisher.cancel()  # its hand-over task is created when `publisher` next runs
        if then == "awaited":
            with pytest.raises(asyncio.CancelledError):
                await publisher
            await queue.publish(_book(2, UpdateType.DELTA))  # the chain goes on behind it
        else:
            second = asyncio.ensure_future(queue.publish(_book(2, UpdateType.DELTA)))
            results = await asyncio.gather(publisher, second, return_exceptions=True)
            assert isinstance(results[0], asyncio.CancelledError) and results[1] is None
        await queue.flush(timeout=30)
        assert (queue.stats.acknowledged, queue.stats.lost, queue.pending) == (2, 0, 0)
    finally:
        await queue.stop(flush_timeout=30)
    assert "declared lost" not in caplog.text
    on_topic = [decode(v).sequence for _, v in await read_topics(kafka_bootstrap, [book])]
    assert on_topic == [1, 2]


def test_the_log_filter_passes_a_few_lines_per_kind_and_counts_the_rest() -> None:
    filt = RateLimitFilter(burst=3, window=60.0)
    records = [logging.LogRecord("aiokafka.client", logging.ERROR, "x", 1,
                                 "Unable connect to node with id %s: %s", (1, "refused"), None)
               for _ in range(70_000)]
    other = logging.LogRecord("aiokafka.conn", logging.ERROR, "x", 1, "other %s", (1,), None)
    passed = [r for r in records if filt.filter(r)]
    assert len(passed) == 3
    assert filt.filter(other)


@pytest.mark.kafka
async def test_a_producer_whose_sender_died_is_replaced_and_nothing_is_lost(
    kafka_bootstrap: str,
) -> None:
    """aiokafka ends its sender task on OutOfOrderSequenceNumber / ProducerFenced; a producer
    in that state takes records and never sends them. The queue notices and replaces it."""
    prefix = f"t{uuid.uuid4().hex[:10]}"
    book = topic("sim", "book", prefix)
    await ensure_topics(kafka_bootstrap, [book], partitions=1)
    listener = Listener()
    async with KafkaQueue(kafka_bootstrap, prefix=prefix) as queue:
        queue.add_listener(listener)
        await queue.publish(_book(1, UpdateType.SNAPSHOT))
        await queue.flush(timeout=30)
        queue.producer_for(book)._sender.sender_task.cancel()  # type: ignore[union-attr]
        await asyncio.sleep(0.05)
        for seq in range(2, 12):
            await queue.publish(_book(seq, UpdateType.DELTA))
        await queue.flush(timeout=60)
        stats = queue.stats
        assert stats.producer_replacements == 1 and stats.lost == 0
        assert stats.acknowledged == 11 and queue.healthy
        assert len(listener.failed) == 1 and "sender stopped" in listener.failed[0]
    on_topic = [decode(v).sequence for _, v in await read_topics(kafka_bootstrap, [book])]
    assert on_topic == list(range(1, 12))


@pytest.mark.kafka
async def test_ttxt_top_shows_a_delivery_failure_from_the_status_topic(
    kafka_bootstrap: str,
) -> None:
    prefix = f"t{uuid.uuid4().hex[:10]}"
    status = topic("sim", "status", prefix)
    await ensure_topics(kafka_bootstrap, [status], partitions=1)
    ts = now_us()

    def st(stream: str, state: ConnectorState, reason: str, symbol: str = "") -> ConnectorStatus:
        return ConnectorStatus(venue="sim", symbol=symbol, exchange_ts=ts, receive_ts=ts,
                               stream=stream, status=state, reason=reason)

    async with KafkaQueue(kafka_bootstrap, prefix=prefix) as queue:
        await queue.publish(st("public#0", ConnectorState.CONNECTED, "wss://x"))
        await queue.publish(st("book", ConnectorState.BOOK_RESYNC, "delivery failure: ...",
                               "BTC/USDT"))
        await queue.publish(st("kafka", ConnectorState.ERROR, "Kafka delivery failed: "
                               "KafkaTimeoutError; 812 record(s) not acknowledged"))
    async with Top(kafka_bootstrap, prefix) as top:
        for _ in range(40):  # a sample reads what arrived within its budget: a few samples
            frame = await top.sample()
            rows = {(r.venue, r.stream): r for r in frame.statuses}
            if len(rows) == 2:
                break
            await asyncio.sleep(0.1)
    assert rows[("sim", "kafka")].status == "ERROR"
    assert rows[("sim", "public#0")].status == "CONNECTED"
    assert sum(r.resyncs for r in frame.statuses) == 1
    text = render(frame, color=False)
    assert "Kafka delivery failed: KafkaTimeoutError" in text
