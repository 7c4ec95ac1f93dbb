"""Linger per channel (issue 18): a KafkaQueue runs one producer per linger class, so a book
record is not held for the batched channels' linger, and every partition keeps its order with
both producers busy."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import defaultdict

import pytest
from test_broker_outage import read_topics

from ttxt_kafka.admin import ensure_topics
from ttxt_kafka.bus import KafkaQueue
from ttxt_kafka.bus.linger import DEFAULT_LINGER_MS, LingerError, channel_lingers, linger_classes
from ttxt_kafka.codec import decode
from ttxt_kafka.events import OrderBook, Side, Trade, Trades, UpdateType
from ttxt_kafka.topics import CHANNELS, topic


def _book(seq: int, symbol: str = "BTC/USDT", kind: UpdateType = UpdateType.DELTA) -> OrderBook:
    return OrderBook(venue="sim", symbol=symbol, native_symbol=symbol.replace("/", ""),
                     exchange_ts=1_700_000_000_000_000 + seq, receive_ts=0, sequence=seq,
                     update_type=kind, bids=[["100", "1"]], asks=[["101", "1"]])


def _trades(seq: int, symbol: str = "BTC/USDT") -> Trades:
    trade = Trade(trade_id=str(seq), price="100", qty="1", side=Side.BUY,
                  exchange_ts=1_700_000_000_000_000 + seq)
    return Trades(venue="sim", symbol=symbol, native_symbol=symbol.replace("/", ""),
                  exchange_ts=1_700_000_000_000_000 + seq, receive_ts=0, sequence=seq,
                  trades=[trade])


def test_defaults_and_classes() -> None:
    lingers, other = channel_lingers()
    assert lingers == DEFAULT_LINGER_MS and set(lingers) == set(CHANNELS)
    assert {ch for ch, ms in lingers.items() if ms == 0} == {
        "book", "bbo", "status", "orders", "executions", "account"}
    assert (lingers["trades"], lingers["klines"], lingers["instruments"], other) == (5, 5, 5, 5)
    assert linger_classes(lingers, other, None) == (0, 5)
    # a queue whose channels share one class keeps one producer
    assert linger_classes(lingers, other, ["book", "bbo", "status"]) == (0,)
    assert linger_classes(lingers, other, ["trades", "klines", "not-a-channel"]) == (5,)
    assert linger_classes(lingers, other, []) == (5,)
    every, _ = channel_lingers({"linger_ms": 0})
    assert linger_classes(every, 0, None) == (0,)  # the old `producer: {linger_ms: 0}`
    with pytest.raises(LingerError, match="unknown channel 'trade'"):
        channel_lingers(None, {"trade": 1})
    with pytest.raises(LingerError, match="producer.linger_ms: .* got True"):
        channel_lingers({"linger_ms": True})


def test_a_queue_makes_producers_for_the_classes_it_needs() -> None:
    assert KafkaQueue("x:9092").linger_classes == (0, 5)
    assert KafkaQueue("x:9092", producer_options={"linger_ms": 0}).linger_classes == (0,)
    assert KafkaQueue("x:9092", channels=["trades", "klines"]).linger_classes == (5,)
    assert KafkaQueue("x:9092", linger_ms={"trades": 0, "klines": 0, "instruments": 0}
                      ).linger_classes == (0,)
    # a consumer publishes dead letters at most: one producer, batched
    assert KafkaQueue("x:9092", topics=["t"]).linger_classes == (5,)
    with pytest.raises(LingerError):
        KafkaQueue("x:9092", linger_ms={"book": -1})


async def _ack_gaps(queue: KafkaQueue, events: list[OrderBook | Trades]) -> dict[str, float]:
    """Publish one event of each topic at the same moment; ms from publish to acknowledgement."""
    sent: dict[str, float] = {}
    acked: dict[str, float] = {}
    queue.on_acknowledged = lambda t, v: acked.setdefault(t, time.monotonic())
    for event in events:
        name = topic(event.venue, "book" if isinstance(event, OrderBook) else "trades",
                     queue.prefix)
        sent[name] = time.monotonic()
        await queue.publish(event)
    await queue.flush(timeout=30)
    queue.on_acknowledged = None
    return {t.rsplit(".", 1)[-1]: (acked[t] - sent[t]) * 1000 for t in sent}


@pytest.mark.kafka
async def test_a_book_record_is_not_held_for_the_batched_linger(kafka_bootstrap: str) -> None:
    prefix = f"t{uuid.uuid4().hex[:10]}"
    await ensure_topics(kafka_bootstrap, [topic("sim", ch, prefix) for ch in ("book", "trades")],
                        partitions=1)
    async with KafkaQueue(kafka_bootstrap, prefix=prefix, linger_ms={"trades": 400}) as queue:
        assert queue.linger_classes == (0, 5, 400)  # klines and instruments keep 5
        await _ack_gaps(queue, [_trades(0), _book(0, kind=UpdateType.SNAPSHOT)])  # metadata
        gaps = [await _ack_gaps(queue, [_trades(i), _book(i)]) for i in range(1, 4)]
    # The control: one producer with the same 400 ms holds the book record too.
    async with KafkaQueue(kafka_bootstrap, prefix=prefix,
                          producer_options={"linger_ms": 400}) as single:
        assert single.linger_classes == (400,)
        await _ack_gaps(single, [_trades(10), _book(10, kind=UpdateType.SNAPSHOT)])
        held = await _ack_gaps(single, [_trades(11), _book(11)])
    print(f"\npublish -> ack ms, two producers: {gaps}; one producer at 400 ms: {held}")
    assert all(gap["trades"] >= 350 for gap in gaps), gaps  # batched: waits out its linger
    # unbatched: not held for the trades' linger (the median of three: a loaded machine's
    # scheduling pause must not fail the test; a few ms when quiet)
    assert sorted(gap["book"] for gap in gaps)[1] < 150, gaps
    assert held["book"] >= 350, held


@pytest.mark.kafka
async def test_every_partition_keeps_its_order_with_both_producers_busy(
    kafka_bootstrap: str,
) -> None:
    prefix = f"t{uuid.uuid4().hex[:10]}"
    names = {ch: topic("sim", ch, prefix) for ch in ("book", "trades")}
    await ensure_topics(kafka_bootstrap, list(names.values()), partitions=3)
    symbols = [f"S{i}/USDT" for i in range(8)]
    published: dict[tuple[str, str], list[int]] = defaultdict(list)
    async with KafkaQueue(kafka_bootstrap, prefix=prefix, linger_ms={"trades": 20},
                          channels=["book", "trades"]) as queue:
        assert queue.linger_classes == (0, 20)

        async def publish(seqs: range) -> None:
            for seq in seqs:
                symbol = symbols[seq % len(symbols)]
                kind = UpdateType.SNAPSHOT if seq < len(symbols) else UpdateType.DELTA
                await queue.publish(_book(seq, symbol, kind))
                published[(names["book"], symbol)].append(seq)
                await queue.publish(_trades(seq, symbol))
                published[(names["trades"], symbol)].append(seq)
                if seq % 50 == 0:
                    await asyncio.sleep(0)  # let the senders run meanwhile

        await publish(range(4000))
        await queue.flush(timeout=60)
        stats = queue.stats
        assert stats.published == stats.acknowledged == 8000 and stats.lost == 0
    on_topic: dict[tuple[str, str], list[int]] = defaultdict(list)
    for name, value in await read_topics(kafka_bootstrap, list(names.values())):
        event = decode(value)
        on_topic[(name, event.symbol)].append(event.sequence)
    assert on_topic == published  # each symbol is one partition: its records in publish order


@pytest.mark.kafka
async def test_both_producers_start_and_stop_together(kafka_bootstrap: str) -> None:
    def senders() -> int:
        return sum(1 for t in asyncio.all_tasks() if "_sender_routine" in repr(t.get_coro()))

    before = senders()
    queue = KafkaQueue(kafka_bootstrap)
    await queue.start()
    assert senders() == before + 2
    book, trades = (queue.producer_for(topic("sim", ch)) for ch in ("book", "trades"))
    assert book is not None and trades is not None and book is not trades
    assert queue.producer_for(topic("sim", "bbo")) is book
    assert queue.producer_for(topic("sim", "klines")) is trades
    assert queue.producer_for("some.dead-letters") is trades  # no channel: batched
    await queue.stop()
    await asyncio.sleep(0)
    assert senders() == before
    one = KafkaQueue(kafka_bootstrap, channels=["book", "bbo", "status"])
    await one.start()
    assert senders() == before + 1
    assert one.producer_for("some.dead-letters") is one.producer_for(topic("sim", "book"))
    await one.stop()
