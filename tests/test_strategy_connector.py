"""A strategy's take-over against a real connector: a connector (Binance spot, Bybit spot) reads
the simulator's synthetic market (6 symbols, several sharing a partition of the 3-partition book
topic, a periodic snapshot every 2 s) into Kafka; two instances of one strategy split the
symbols; one stops; the other takes its partitions over, rebuilds their books from the last
periodic snapshot on the topic, and — once the connector is stopped and the topic drained —
holds for every symbol a book equal, level by level and string by string, to the connector's."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Callable

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from connector_harness import Run, assert_no_delta_on_a_broken_book, config_for

from ttxt_kafka.admin import cluster_metadata
from ttxt_kafka.book import Book
from ttxt_kafka.codec import decode
from ttxt_kafka.events import OrderBook
from ttxt_kafka.metrics import Registry
from ttxt_kafka.simulator import Simulator, SyntheticSource
from ttxt_kafka.strategies import KafkaRunner, ListSink, Strategy, StrategyRuntime
from ttxt_kafka.strategies.rebuild import partition_of
from ttxt_kafka.topics import topic

pytestmark = pytest.mark.kafka

DEPTH = {"binance": 1000, "bybit_spot": 50}  # the REST snapshot / orderbook.N depth
NATIVES = ["BTCUSDT", "ETHUSDT", "SOLUSDT", "BNBUSDT", "XRPUSDT", "DOGEUSDT"]
SYMBOLS = [f"{n[:-4]}/USDT" for n in NATIVES]
PARTITIONS = 3  # the book topic's (ensure_topics' default, as the harness creates it)
SNAPSHOT_INTERVAL = 2.0  # s, the connector's periodic snapshots; the runners' lookback too
FAST_GROUP = {"heartbeat_interval_ms": 100, "session_timeout_ms": 6000}


class BookWatcher(Strategy):
    """Reads the book channel; counts what it acts on, and when it saw each symbol's snapshot."""

    venues = ["binance"]  # the instance sets its venue
    symbols = SYMBOLS
    channels = ["book"]

    def on_start(self) -> None:
        self.calls: Counter[str] = Counter()
        self.snapshots: Counter[str] = Counter()
        self.deltas_since_snapshot: Counter[str] = Counter()
        self.last_snapshot_at: dict[str, float] = {}

    def on_orderbook(self, event: OrderBook) -> None:
        self.calls[event.symbol] += 1
        if event.is_snapshot:
            self.snapshots[event.symbol] += 1
            self.deltas_since_snapshot[event.symbol] = 0
            self.last_snapshot_at[event.symbol] = time.monotonic()
        else:
            self.deltas_since_snapshot[event.symbol] += 1


class Instance:
    """One instance of the strategy: a consumer-group member with its own runtime."""

    def __init__(self, bootstrap: str, venue: str, prefix: str, group: str) -> None:
        self.strategy = BookWatcher(venues=[venue])
        self.runtime = StrategyRuntime(self.strategy, ListSink(), group=group, prefix=prefix,
                                       registry=Registry())
        self.runner = KafkaRunner(self.runtime, bootstrap, from_beginning=True,
                                  snapshot_interval=SNAPSHOT_INTERVAL,
                                  consumer_options=FAST_GROUP)
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> Instance:
        await self.runner.start()
        self.task = asyncio.create_task(self.runner.run())
        return self

    async def stop(self) -> None:
        await self.runner.stop()
        if self.task is not None:
            await self.task

    @property
    def stopped(self) -> bool:
        return self.task is None or self.task.done()

    def partitions(self) -> set[int]:
        return {tp.partition for tp in self.runner.owned}

    def symbols(self) -> set[str]:
        """The symbols of the partitions this instance owns."""
        return {s for s in SYMBOLS if partition_of(s, PARTITIONS) in self.partitions()}

    def books(self) -> dict[str, Book]:
        """Its ready books, by symbol."""
        return {sym: self.runtime.books.books[(venue, sym)]
                for (venue, sym) in self.runtime.books.ready_symbols()}

    def settled(self) -> bool:
        """Owns partitions, prepared them all, and holds a ready book for exactly their
        symbols."""
        return (bool(self.runner.owned) and not self.runner._pending
                and set(self.books()) == self.symbols())


async def until(check: Callable[[], bool], what: str, run: Run, timeout: float = 20.0) -> None:
    """Wait for a condition; fail at once if the connector died, or after `timeout`."""
    deadline = time.monotonic() + timeout
    while not check():
        if run.task.done():
            run.task.result()  # raises what ended it
            raise AssertionError("the connector stopped")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not within {timeout}s; connector {run.connector.stats}")
        await asyncio.sleep(0.01)


async def book_records(bootstrap: str, name: str) -> list[tuple[int, int, OrderBook]]:
    """(partition, offset, event) of every record of the book topic, in partition order."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        metadata = await cluster_metadata(consumer)
        tps = [TopicPartition(name, p) for p in sorted(metadata.partitions_for_topic(name) or ())]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        out: list[tuple[int, int, OrderBook]] = []
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            for tp, records in (await consumer.getmany(timeout_ms=500)).items():
                for r in records:
                    if r.offset < ends[tp]:
                        event = decode(r.value or b"")
                        assert isinstance(event, OrderBook) and r.key == event.symbol.encode()
                        out.append((tp.partition, r.offset, event))
        return sorted(out, key=lambda x: (x[0], x[1]))
    finally:
        await consumer.stop()


@pytest.mark.parametrize("venue", ["binance", "bybit_spot"])
async def test_takeover_books_equal_the_connector_books(venue: str, kafka_bootstrap: str) -> None:
    parts = {s: partition_of(s, PARTITIONS) for s in SYMBOLS}
    assert set(parts.values()) == set(range(PARTITIONS))  # every partition has symbols,
    assert max(Counter(parts.values()).values()) >= 2  # and some share one

    group = f"g{uuid.uuid4().hex[:10]}"
    market = SyntheticSource(seed=11, symbols=NATIVES, rate=50.0)  # steps/s per symbol
    a: Instance | None = None
    b: Instance | None = None
    async with Simulator(venue, market) as sim:
        config = config_for(venue, NATIVES, sim, streams={"book": {"depth": DEPTH[venue]}},
                            snapshot_interval=SNAPSHOT_INTERVAL)
        run = await Run.start(config, kafka_bootstrap)
        book_topic = topic(venue, "book", run.prefix)
        connector_stopped = False
        try:
            await run.connector.wait_synced()
            assert sorted(run.connector.books) == sorted(SYMBOLS)

            # A alone: every partition, every book (read from the topic's beginning).
            a = await Instance(kafka_bootstrap, venue, run.prefix, group).start()
            await until(lambda: a.partitions() == set(range(PARTITIONS)) and a.settled(),
                        "A owns every partition and book", run)

            # B joins: the partitions, hence the symbols, are split between the two.
            b = await Instance(kafka_bootstrap, venue, run.prefix, group).start()
            await until(lambda: bool(a.partitions() and b.partitions())
                        and a.partitions() | b.partitions() == set(range(PARTITIONS))
                        and a.settled() and b.settled(), "A and B split the partitions", run)
            assert not a.partitions() & b.partitions()
            a_symbols, b_symbols = set(a.books()), set(b.books())
            assert a_symbols and b_symbols and a_symbols.isdisjoint(b_symbols)
            assert a_symbols | b_symbols == set(SYMBOLS)
            assert {parts[s] for s in a_symbols} == a.partitions()
            assert {parts[s] for s in b_symbols} == b.partitions()

            # Both act on live data; A stops between two periodic snapshot rounds, after at
            # least one periodic snapshot of each of its symbols and some deltas on top of it,
            # so the take-over replays a snapshot plus deltas.
            b_calls = Counter(b.strategy.calls)
            a_watch = a.strategy

            def a_ready_to_stop() -> bool:
                now = time.monotonic()
                return all(a_watch.snapshots[s] >= 2 and a_watch.deltas_since_snapshot[s] >= 2
                           and now - a_watch.last_snapshot_at[s] < SNAPSHOT_INTERVAL / 2
                           for s in a_symbols)

            await until(lambda: a_ready_to_stop()
                        and all(b.strategy.calls[s] > b_calls[s] for s in b_symbols),
                        "both instances acting, A mid-way between snapshots", run)
            a_partitions = a.partitions()
            rebuilds_before = len(b.runner.rebuilds)
            await a.stop()  # on_stop, commit, leave the group: B takes A's partitions over

            await until(lambda: b.partitions() == set(range(PARTITIONS)) and b.settled(),
                        "B took every partition over", run)
            takeover = b.runner.rebuilds[rebuilds_before:]
            # Live deltas on the taken-over books, then the books stop moving.
            after = Counter(b.strategy.calls)
            await until(lambda: all(b.strategy.calls[s] >= after[s] + 5 for s in a_symbols),
                        "B acting on A's symbols", run)
            await run.stop()  # the connector stops; everything it published is flushed
            connector_stopped = True
            await b.runner.wait_caught_up()  # the topic is drained: the books stop moving
            held = b.books()
        finally:
            if not connector_stopped:
                await run.stop()
            for instance in (a, b):
                if instance is not None and not instance.stopped:
                    await instance.stop()

    stats = run.connector.stats
    assert stats.gaps == stats.resyncs == stats.reconnects == stats.malformed == 0
    # The heart of it: every book B holds equals the connector's own Book, level by level.
    assert sorted(held) == sorted(SYMBOLS)
    for sym in SYMBOLS:
        theirs, ours = run.connector.books[sym], held[sym]
        assert all(theirs.depth()), f"{sym}: an empty side in the connector's book"
        assert ours.bids() == theirs.bids(), f"{sym}: bids differ from the connector's"
        assert ours.asks() == theirs.asks(), f"{sym}: asks differ from the connector's"
        assert ours == theirs

    # B rebuilt A's partitions from the last snapshot before where A stopped — a periodic
    # one (no resync: a symbol's first snapshot is its only sync one) — plus the deltas after.
    records = await book_records(kafka_bootstrap, book_topic)
    assert_no_delta_on_a_broken_book(venue, [e for _, _, e in records])
    assert {r.partition for r in takeover} == a_partitions
    for report in takeover:
        first: dict[str, int] = {}
        last: dict[str, int] = {}
        for part, offset, event in records:
            if part == report.partition and event.is_snapshot:
                first.setdefault(event.symbol, offset)
                if offset < report.start:
                    last[event.symbol] = offset
        assert report.snapshots == last and not report.missing
        assert set(report.snapshots) == {s for s in a_symbols if parts[s] == report.partition}
        assert all(last[s] > first[s] for s in last), "rebuilt from a periodic snapshot"
        deltas = sum(1 for part, offset, e in records if part == report.partition
                     and not e.is_snapshot and last.get(e.symbol, report.start) < offset
                     < report.start)
        assert deltas > 0 and report.replayed == len(report.snapshots) + deltas

    # Every book record was acted on exactly once across the two instances: the rebuild
    # replays book state only, and A committed what it had handled before leaving.
    assert a is not None and b is not None
    total = a.strategy.calls + b.strategy.calls
    assert total == Counter(e.symbol for _, _, e in records)
