"""`ttxt top` warns when one symbol's records are on two partitions (a real broker).

Java clients and aiokafka partition a key by murmur2; librdkafka (confluent-kafka, kcat, ...)
by default does not (consistent_random: CRC32), so a non-Java producer left on its defaults puts
`BTC/USDT` on another partition, and "one symbol, one partition" breaks silently.
"""

from __future__ import annotations

import uuid
import zlib

import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.partitioner import murmur2

from ttxt_kafka.admin import ensure_topics
from ttxt_kafka.codec import encode
from ttxt_kafka.events import OrderBook, Trades, UpdateType, now_us
from ttxt_kafka.samples import all_samples
from ttxt_kafka.top import Top, render
from ttxt_kafka.topics import topic

pytestmark = pytest.mark.kafka

PARTITIONS = 3


def _murmur2_partition(key: bytes, n: int) -> int:
    """Java's / aiokafka's default partitioner."""
    return (murmur2(key) & 0x7FFFFFFF) % n


def _librdkafka_default_partition(key: bytes, n: int) -> int:
    """librdkafka's default partitioner (consistent_random: CRC32 of the key)."""
    return zlib.crc32(key) % n


def _book(symbol: str, seq: int) -> bytes:
    ts = now_us()
    return encode(OrderBook(venue="binance", symbol=symbol, exchange_ts=ts, receive_ts=ts,
                            sequence=seq, update_type=UpdateType.SNAPSHOT,
                            bids=[["100", "1"]], asks=[["101", "1"]]))


def test_the_two_default_partitioners_disagree_on_btc_usdt() -> None:
    key = b"BTC/USDT"
    assert _murmur2_partition(key, PARTITIONS) != _librdkafka_default_partition(key, PARTITIONS)


async def test_top_warns_when_a_symbol_is_on_two_partitions(kafka_bootstrap: str) -> None:
    prefix = f"t{uuid.uuid4().hex[:10]}"
    book = topic("binance", "book", prefix)
    await ensure_topics(kafka_bootstrap, [book], partitions=PARTITIONS)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        # Our producers (aiokafka, murmur2): each symbol on its one partition.
        for seq, symbol in enumerate(["BTC/USDT", "ETH/USDT", "BTC/USDT"]):
            meta = await producer.send_and_wait(book, _book(symbol, seq), key=symbol.encode())
            assert meta.partition == _murmur2_partition(symbol.encode(), PARTITIONS)
        async with Top(kafka_bootstrap, prefix) as top:
            frame = await top.sample()
            assert frame.warnings == [] and "WARNINGS" not in render(frame, color=False)
            # A librdkafka producer on its defaults writes BTC/USDT to another partition.
            other = _librdkafka_default_partition(b"BTC/USDT", PARTITIONS)
            await producer.send_and_wait(book, _book("BTC/USDT", 3), key=b"BTC/USDT",
                                         partition=other)
            for _ in range(40):
                frame = await top.sample()
                if frame.warnings:
                    break
    finally:
        await producer.stop()
    assert len(frame.warnings) == 1
    warning = frame.warnings[0]
    parts = sorted({other, _murmur2_partition(b"BTC/USDT", PARTITIONS)})
    assert f"key 'BTC/USDT' on {book} is on partitions {parts[0]}, {parts[1]}" in warning
    assert "partitioner=murmur2_random" in warning
    text = render(frame, color=False)
    assert "WARNINGS" in text and warning in text


def _trades() -> bytes:
    return encode(next(e for e in all_samples() if isinstance(e, Trades)))


async def test_every_channel_topic_is_checked_within_a_bounded_read(
        kafka_bootstrap: str) -> None:
    """Not only the book and status topics: a trades (or executions, bbo...) topic too, read
    for its keys by the same consumer, at most its last `key_scan` records of a partition per
    refresh (so a split among older records is not seen: the bound)."""
    prefix = f"t{uuid.uuid4().hex[:10]}"
    trades, executions = topic("binance", "trades", prefix), topic("binance", "executions", prefix)
    await ensure_topics(kafka_bootstrap, [trades, executions], partitions=PARTITIONS)
    key = b"BTC/USDT"
    home = _murmur2_partition(key, PARTITIONS)
    other = _librdkafka_default_partition(key, PARTITIONS)
    filler = next(k for k in (f"F{i}".encode() for i in range(100))
                  if _murmur2_partition(k, PARTITIONS) == other)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(trades, _trades(), key=key)
        # Split, but older than the last 20 records of its partition: outside the read.
        await producer.send_and_wait(trades, _trades(), key=key, partition=other)
        for _ in range(30):
            await producer.send(trades, _trades(), key=filler)
        await producer.send_and_wait(executions, _trades(), key=key)
        quiet = next(k for k in (f"K{i}".encode() for i in range(100))
                     if _murmur2_partition(k, PARTITIONS) != other)
        await producer.send_and_wait(trades, _trades(), key=quiet)
        caught_up = [0, 0, 0, 1, 1, 31] if home != _murmur2_partition(quiet, PARTITIONS) \
            else [0, 0, 0, 1, 2, 31]
        async with Top(kafka_bootstrap, prefix, key_scan=20) as top:
            for _ in range(40):
                frame = await top.sample()
                if sorted(top._next.values()) == caught_up:
                    break
            # `other` was read from offset 11 (31 - 20): the split record at offset 0 is not
            # seen (read in full, it would warn)
            assert frame.warnings == [] and sorted(top._next.values()) == caught_up
            # A split key among what arrived since the last refresh: seen, on both topics.
            await producer.send_and_wait(trades, _trades(), key=key, partition=other)
            await producer.send_and_wait(executions, _trades(), key=key, partition=other)
            for _ in range(40):
                frame = await top.sample()
                if len(frame.warnings) == 2:
                    break
            # A burst far beyond the bound: another split key, then 500 records after it on
            # the same partition. The next refresh reads only the last 20: the split is missed.
            await producer.send(trades, _trades(), key=quiet, partition=other)
            for _ in range(500):
                await producer.send(trades, _trades(), key=filler)
            await producer.flush()
            end = 32 + 1 + 500
            for _ in range(40):
                later = await top.sample()
                if top._next[TopicPartition(trades, other)] == end:
                    break
            assert top._next[TopicPartition(trades, other)] == end
            assert later.warnings == frame.warnings
    finally:
        await producer.stop()
    parts = ", ".join(map(str, sorted({home, other})))
    assert [w.split(" is on partitions ")[0] for w in frame.warnings] == [
        f"key 'BTC/USDT' on {executions}", f"key 'BTC/USDT' on {trades}"]
    assert all(f"is on partitions {parts}:" in w for w in frame.warnings)


async def test_top_counts_and_names_records_that_do_not_decode(kafka_bootstrap: str) -> None:
    """Garbage on a book topic is not skipped silently: top counts it and names the first."""
    prefix = f"t{uuid.uuid4().hex[:10]}"
    book = topic("binance", "book", prefix)
    await ensure_topics(kafka_bootstrap, [book], partitions=1)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(book, _book("BTC/USDT", 0), key=b"BTC/USDT")
        first = await producer.send_and_wait(book, b"\x00garbage", key=b"BTC/USDT")
        await producer.send_and_wait(book, b"not avro", key=b"BTC/USDT")
        await producer.send_and_wait(book, _book("BTC/USDT", 1), key=b"BTC/USDT")
        async with Top(kafka_bootstrap, prefix) as top:
            for _ in range(40):
                frame = await top.sample()
                if frame.warnings and frame.books:
                    break
    finally:
        await producer.stop()
    assert len(frame.warnings) == 1, frame.warnings
    assert frame.warnings[0].startswith(f"2 records on {book} did not decode")
    assert f"partition 0, offset {first.offset}" in frame.warnings[0]
    assert [(b.symbol, b.bid) for b in frame.books] == [("BTC/USDT", ("100", "1"))]
    assert "did not decode" in render(frame, color=False)
