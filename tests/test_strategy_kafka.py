"""Strategies as Kafka consumer groups, against a real broker: symbols split between instances,
take-over with books rebuilt from the last snapshots, commands on the orders topic (the same as
from an in-process queue), candles on the derived topic, metrics of a running strategy."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable
from decimal import Decimal

import aiohttp
import pytest
from aiokafka import AIOKafkaConsumer

from ttxt_kafka.admin import cluster_metadata, ensure_topics
from ttxt_kafka.book import Book
from ttxt_kafka.bus import KafkaQueue
from ttxt_kafka.codec import decode
from ttxt_kafka.events import (
    Balance,
    Event,
    Kline,
    OrderBook,
    Side,
    Trade,
    Trades,
    UpdateType,
    Wallet,
    now_us,
)
from ttxt_kafka.health import serve_metrics
from ttxt_kafka.metrics import Registry
from ttxt_kafka.strategies import KafkaRunner, ListSink, Strategy, StrategyRuntime, run_events
from ttxt_kafka.strategies.examples.candle_aggregator import CandleAggregator, interval_us
from ttxt_kafka.strategies.examples.market_maker import MarketMaker
from ttxt_kafka.strategies.rebuild import partition_of
from ttxt_kafka.strategies.sinks import KafkaSink

pytestmark = pytest.mark.kafka

V = "sim"
PARTITIONS = 3
FAST_GROUP = {"heartbeat_interval_ms": 100, "session_timeout_ms": 6000}


def fresh() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


# ---------------------------------------------------------------- realistic book streams


def book_streams(symbols: list[str], steps: int, snapshot_every: int, t0: int,
                 seed: int = 7) -> list[OrderBook]:
    """Per symbol: a snapshot, then deltas (1-3 levels a side, inserts, deletes, the top moving
    both ways), and a periodic SNAPSHOT of the whole book every `snapshot_every` deltas, as a
    connector publishes them; symbols interleaved, 1 ms of exchange time apart."""
    rng = random.Random(seed)
    cent = Decimal("0.01")
    books: dict[str, Book] = {}
    out: list[OrderBook] = []
    ts = t0

    def event(sym: str, kind: UpdateType, bids: list[list[str]], asks: list[list[str]]
              ) -> OrderBook:
        return OrderBook(venue=V, symbol=sym, native_symbol=sym.replace("/", ""),
                         exchange_ts=ts, receive_ts=ts, update_type=kind, bids=bids, asks=asks)

    for sym in symbols:
        mid = Decimal(rng.randrange(100, 1000))
        bids = [[format(mid - cent * (i + 1), "f"), str(rng.randrange(1, 50))] for i in range(10)]
        asks = [[format(mid + cent * (i + 1), "f"), str(rng.randrange(1, 50))] for i in range(10)]
        books[sym] = Book(V, sym)
        out.append(event(sym, UpdateType.SNAPSHOT, bids, asks))
        books[sym].update(out[-1])
    for step in range(1, steps + 1):
        for sym in symbols:
            ts += 1000
            book = books[sym]
            bid, ask = Decimal(book.best_bid()[0]), Decimal(book.best_ask()[0])  # type: ignore[index]
            changes: dict[str, list[list[str]]] = {"bids": [], "asks": []}
            for side, top, sign in (("bids", bid, -1), ("asks", ask, 1)):
                for _ in range(rng.randint(1, 3)):
                    price = top + sign * cent * rng.randrange(0, 12)
                    deletable = book.depth()[0 if side == "bids" else 1] > 4
                    qty = "0" if deletable and rng.random() < 0.25 else str(rng.randrange(1, 90))
                    changes[side].append([format(price, "f"), qty])
            if ask - bid > 2 * cent and rng.random() < 0.3:  # improve one side: the top moves
                side, price = (("bids", bid + cent) if rng.random() < 0.5
                               else ("asks", ask - cent))
                changes[side].append([format(price, "f"), str(rng.randrange(1, 9))])
            out.append(event(sym, UpdateType.DELTA, changes["bids"], changes["asks"]))
            assert book.update(out[-1]) and not book.is_crossed()
            if step % snapshot_every == 0:
                snap = book.snapshot(receive_ts=ts)
                snap.exchange_ts = ts
                out.append(snap)
    return out


def reference_books(events: Iterable[Event]) -> dict[str, Book]:
    books: dict[str, Book] = {}
    for e in events:
        assert isinstance(e, OrderBook)
        books.setdefault(e.symbol, Book(V, e.symbol)).update(e)
    return books


def symbols_covering_partitions(n: int) -> list[str]:
    """n symbols spread over every partition, several sharing one."""
    per_partition = -(-n // PARTITIONS)
    chosen: list[str] = []
    counts: Counter[int] = Counter()
    for i in range(1000):
        sym = f"S{i:03d}/USDT"
        part = partition_of(sym, PARTITIONS)
        if counts[part] < per_partition and len(chosen) < n:
            chosen.append(sym)
            counts[part] += 1
    assert len(counts) == PARTITIONS and max(counts.values()) >= 2
    return chosen


async def produce(bootstrap: str, prefix: str, events: Iterable[Event]) -> None:
    async with KafkaQueue(bootstrap, prefix=prefix) as q:
        for e in events:
            await q.publish(e)
        await q.flush()
        assert q.stats.delivery_errors == 0


async def read_topic(bootstrap: str, topic: str) -> list[tuple[int, int, bytes, Event]]:
    """(partition, offset, key, event) of every record, in partition order."""
    c = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await c.start()
    try:
        metadata = await cluster_metadata(c)
        from aiokafka import TopicPartition
        tps = [TopicPartition(topic, p) for p in sorted(metadata.partitions_for_topic(topic) or ())]
        c.assign(tps)
        await c.seek_to_beginning(*tps)
        ends = await c.end_offsets(tps)
        out: list[tuple[int, int, bytes, Event]] = []
        while [tp for tp in tps if await c.position(tp) < ends[tp]]:
            for tp, records in (await c.getmany(timeout_ms=500)).items():
                out += [(tp.partition, r.offset, r.key or b"", decode(r.value or b""))
                        for r in records]
        return sorted(out, key=lambda x: (x[0], x[1]))
    finally:
        await c.stop()


class BookCounter(Strategy):
    """Counts the book events it acts on, per symbol."""

    venues = [V]
    channels = ["book", "account"]

    def on_start(self) -> None:
        self.calls: Counter[str] = Counter()
        self.wallets = 0

    def on_orderbook(self, event: OrderBook) -> None:
        self.calls[event.symbol] += 1

    def on_wallet(self, event: Wallet) -> None:
        self.wallets += 1


class Instance:
    def __init__(self, bootstrap: str, prefix: str, group: str) -> None:
        self.strategy = BookCounter()
        self.registry = Registry()
        self.producer = KafkaQueue(bootstrap, prefix=prefix)
        self.runtime = StrategyRuntime(self.strategy, KafkaSink(self.producer), group=group,
                                       prefix=prefix, registry=self.registry)
        self.runner = KafkaRunner(self.runtime, bootstrap, from_beginning=True,
                                  snapshot_interval=1.0, consumer_options=FAST_GROUP)
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> Instance:
        await self.producer.start()
        await self.runner.start()
        self.task = asyncio.create_task(self.runner.run())
        return self

    async def stop(self) -> None:
        await self.runner.stop()
        await self.producer.stop()
        assert self.task is not None
        await self.task

    def books(self) -> dict[str, Book]:
        return {sym: self.runtime.books.books[(V, sym)]
                for (_, sym) in self.runtime.books.ready_symbols()}

    def partitions(self) -> set[int]:
        return {tp.partition for tp in self.runner.owned}


async def wait_for(predicate: object, timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():  # type: ignore[operator]
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.05)


# ---------------------------------------------------------------- split and take-over


async def test_two_instances_split_symbols_then_one_takes_over_with_rebuilt_books(
    kafka_bootstrap: str,
) -> None:
    prefix, group = fresh(), fresh()
    book_topic, account_topic = f"{prefix}.{V}.book", f"{prefix}.{V}.account"
    await ensure_topics(kafka_bootstrap, [book_topic, account_topic], partitions=PARTITIONS)
    symbols = symbols_covering_partitions(8)
    events = book_streams(symbols, steps=300, snapshot_every=40,
                          t0=now_us() - 600_000_000)  # 10 minutes ago: recent for retention
    phase1, phase2, phase3 = events[:1000], events[1000:1800], events[1800:]
    wallet = Wallet(venue=V, symbol="", exchange_ts=now_us(), receive_ts=now_us(),
                    is_snapshot=True, balances=[Balance(asset="USDT", total="5", available="5")])
    await produce(kafka_bootstrap, prefix, [*phase1, wallet])

    a = await Instance(kafka_bootstrap, prefix, group).start()
    b: Instance | None = None
    try:
        await a.runner.wait_caught_up()
        assert a.partitions() == {0, 1, 2}
        assert a.books() == reference_books(phase1)  # from the beginning: every book
        # Every instance reads the account topic whole, outside the group.
        assert a.strategy.ctx.balance("USDT").total == "5"  # type: ignore[union-attr]

        b = await Instance(kafka_bootstrap, prefix, group).start()
        await wait_for(lambda: a.partitions() and b.partitions()  # type: ignore[union-attr]
                       and a.partitions() | b.partitions() == {0, 1, 2})
        await asyncio.gather(a.runner.wait_caught_up(), b.runner.wait_caught_up())
        assert not a.partitions() & b.partitions()
        ref = reference_books(phase1)
        a_books, b_books = a.books(), b.books()
        # Each symbol on exactly one instance: the one owning its partition.
        assert set(a_books).isdisjoint(b_books) and set(a_books) | set(b_books) == set(symbols)
        for inst, books in ((a, a_books), (b, b_books)):
            assert {partition_of(s, PARTITIONS) for s in books} == inst.partitions()
            assert books == {s: ref[s] for s in books}
        assert b.strategy.ctx.balance("USDT").total == "5"  # type: ignore[union-attr]

        await produce(kafka_bootstrap, prefix, phase2)
        await asyncio.gather(a.runner.wait_caught_up(), b.runner.wait_caught_up())
        ref = reference_books(phase1 + phase2)
        for books in (a.books(), b.books()):
            assert books == {s: ref[s] for s in books}

        a_partitions = a.partitions()
        rebuilds_before = len(b.runner.rebuilds)
        await a.stop()  # commits, leaves the group: b takes everything over
        await wait_for(lambda: b.partitions() == {0, 1, 2})  # type: ignore[union-attr]
        await produce(kafka_bootstrap, prefix, phase3)
        await b.runner.wait_caught_up()
        assert b.books() == reference_books(events)  # all 8 books, equal to the connector's

        # B rebuilt a's partitions from the last snapshot before where a stopped, exactly.
        takeover = b.runner.rebuilds[rebuilds_before:]
        assert {r.partition for r in takeover} == a_partitions
        records = await read_topic(kafka_bootstrap, book_topic)
        for r in takeover:
            expected = {}
            for part, offset, key, e in records:
                if part == r.partition and offset < r.start and e.is_snapshot:  # type: ignore[attr-defined]
                    expected[key.decode()] = offset
            assert r.snapshots == expected and not r.missing and r.replayed > 0
        # Every book event was acted on exactly once across the two instances: rebuilds
        # replay state only, revocations commit what was handled.
        total = a.strategy.calls + b.strategy.calls
        assert total == Counter(e.symbol for e in events)

        # The running strategy's metrics, scraped from /metrics.
        server = await serve_metrics(0, registry=b.registry, service="strategy b")
        try:
            async with aiohttp.ClientSession() as http:
                text = await (await http.get(server.url + "/metrics")).text()
        finally:
            await server.stop()
        samples = parse_prometheus(text)
        lbl = f'strategy="{group}"'
        assert samples[f"ttxt_strategy_books_ready{{{lbl}}}"] == 8
        assert samples[f"ttxt_strategy_assigned_partitions{{{lbl}}}"] == 3
        # The loop reads the lag in the background once a second: read it now, after any
        # reading in flight (which may predate the takeover) has ended.
        await b.runner._background_done()
        await b.runner._update_lag()
        samples = parse_prometheus(b.registry.render())
        for p in range(PARTITIONS):
            assert samples[f'ttxt_strategy_consumer_lag{{partition="{p}",{lbl},'
                           f'topic="{book_topic}"}}'] == 0  # labels in name order
        assert samples[f'ttxt_strategy_events_in_total{{{lbl},topic="{book_topic}"}}'] == \
            sum(b.strategy.calls.values())
        assert samples[f"ttxt_strategy_books_rebuilt_total{{{lbl}}}"] >= len(takeover)
    finally:
        if b is not None:
            await b.stop()
        if a.task is not None and not a.task.done():
            await a.stop()


def parse_prometheus(text: str) -> dict[str, float]:
    """The text format's samples: 'name{labels}' -> value (comments checked, then skipped)."""
    samples: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("#"):
            assert line.startswith(("# HELP ", "# TYPE ")), line
            continue
        name, _, value = line.rpartition(" ")
        samples[name] = float(value)
    return samples


# ---------------------------------------------------------------- market maker commands


def mm_events(t0: int) -> list[Event]:
    sym = "BTC/USDT"

    def ob(kind: UpdateType, ts: int, bids: list[list[str]], asks: list[list[str]],
           symbol: str = sym) -> OrderBook:
        return OrderBook(venue=V, symbol=symbol, exchange_ts=ts, receive_ts=ts,
                         update_type=kind, bids=bids, asks=asks)

    return [
        ob(UpdateType.SNAPSHOT, t0, [["99.99", "1"]], [["100.01", "1"]]),
        ob(UpdateType.SNAPSHOT, t0 + 1, [["5", "1"]], [["6", "1"]], "ETH/USDT"),  # not quoted
        ob(UpdateType.DELTA, t0 + 1000, [["100.01", "1"]], [["100.03", "1"], ["100.01", "0"]]),
        ob(UpdateType.DELTA, t0 + 2000, [["100.09", "2"]], [["100.11", "1"], ["100.03", "0"]]),
        ob(UpdateType.DELTA, t0 + 3000, [["100.20", "1"]], [["100.22", "1"], ["100.11", "0"]]),
    ]


async def test_market_maker_commands_on_the_orders_topic_equal_an_in_process_run(
    kafka_bootstrap: str,
) -> None:
    prefix, group = fresh(), fresh()
    topics = [f"{prefix}.{V}.{c}" for c in ("book", "executions", "orders")]
    await ensure_topics(kafka_bootstrap, topics, partitions=PARTITIONS)
    events = mm_events(now_us() - 60_000_000)
    await produce(kafka_bootstrap, prefix, events)
    params = {"venues": [V], "spread_bps": "10", "size": "0.5", "requote_bps": "5"}

    producer = KafkaQueue(kafka_bootstrap, prefix=prefix)
    runtime = StrategyRuntime(MarketMaker(**params), KafkaSink(producer), group=group,
                              prefix=prefix, run_id="k1", registry=Registry())
    runner = KafkaRunner(runtime, kafka_bootstrap, from_beginning=True,
                         consumer_options=FAST_GROUP)
    async with producer:
        await runner.start()
        task = asyncio.create_task(runner.run())
        await runner.wait_caught_up()
        await runner.stop()  # on_stop cancels both quotes
        await task
    on_topic = await read_topic(kafka_bootstrap, f"{prefix}.{V}.orders")
    assert {key for _, _, key, _ in on_topic} == {b"BTC/USDT"}
    assert len({part for part, _, _, _ in on_topic}) == 1  # one symbol: one partition, in order
    commands = [e for _, _, _, e in on_topic]

    sink = ListSink()
    local = StrategyRuntime(MarketMaker(**params), sink, group=group, prefix=prefix,
                            run_id="k1", registry=Registry())
    await run_events(local, events)

    def comparable(e: Event) -> dict[str, object]:
        # receive_ts and expires_ts are wall-clock times (when sent, until when it may be)
        fields = {k: getattr(e, k) for k in e.__dataclass_fields__  # type: ignore[attr-defined]
                  if k not in ("receive_ts", "expires_ts")}
        return {"type": e.SCHEMA, **fields}

    assert [comparable(e) for e in commands] == [comparable(e) for e in sink.events()]
    assert [(e.SCHEMA, getattr(e, "price", None) or getattr(e, "new_price", None))
            for e in commands] == [
        ("CreateOrder", "99.95"), ("CreateOrder", "100.05"),
        ("AmendOrder", "100.04"), ("AmendOrder", "100.16"),  # mid 100.10: moved 10 bps > 5
        ("AmendOrder", "100.15"), ("AmendOrder", "100.27"),  # mid 100.21
        ("CancelOrder", None), ("CancelOrder", None),
    ]
    assert [getattr(e, "side", None) for e in commands[:2]] == [Side.BUY, Side.SELL]


# ---------------------------------------------------------------- candles


def expected_candles(trades: list[tuple[str, int, str, str]], widths: dict[str, int]
                     ) -> set[tuple[object, ...]]:
    """OHLCV per (symbol, interval, bucket), straight from the definition; each symbol's last
    bucket per interval is still open at the end and is left out."""
    buckets: dict[tuple[str, str, int], list[tuple[str, str]]] = defaultdict(list)
    for sym, ts, price, qty in trades:
        for name, w in widths.items():
            buckets[(sym, name, ts - ts % w)].append((price, qty))
    last = {(sym, name): max(b for s, n, b in buckets if (s, n) == (sym, name))
            for sym, name, _ in buckets}
    out = set()
    for (sym, name, start), items in buckets.items():
        if last[(sym, name)] == start:
            continue
        prices = [Decimal(p) for p, _ in items]
        hi = next(p for p, _ in items if Decimal(p) == max(prices))
        lo = next(p for p, _ in items if Decimal(p) == min(prices))
        vol = sum((Decimal(q) for _, q in items), Decimal(0))
        quote = sum((Decimal(p) * Decimal(q) for p, q in items), Decimal(0))
        out.add((sym, name, start, start + widths[name] - 1, items[0][0], hi, lo, items[-1][0],
                 format(vol, "f"), format(quote, "f"), len(items)))
    return out


def trade_stream(symbols: list[str], n: int, s0: int, max_gap_us: int, seed: int
                 ) -> list[tuple[str, int, str, str]]:
    """(symbol, ts, price, qty) in exchange-time order, then one trade per symbol 3 minutes
    later, which closes every candle before it."""
    rng = random.Random(seed)
    out: list[tuple[str, int, str, str]] = []
    ts = s0
    for _ in range(n):
        ts += rng.randrange(1, max_gap_us)
        out.append((rng.choice(symbols), ts, f"{rng.randrange(9000, 11000) / 100:.2f}",
                    f"0.{rng.randrange(1, 10**6):06d}"))
    out += [(sym, ts + 180_000_000 + i, "100.00", "1") for i, sym in enumerate(symbols)]
    return out


def as_batches(trades: list[tuple[str, int, str, str]]) -> list[Trades]:
    return [Trades(venue=V, symbol=sym, native_symbol=sym.replace("/", ""), exchange_ts=t,
                   receive_ts=t, trades=[Trade(trade_id=f"{t}", price=p, qty=q, side=Side.SELL,
                                               exchange_ts=t)])
            for sym, t, p, q in trades]


class Aggregator:
    def __init__(self, bootstrap: str, prefix: str, group: str) -> None:
        self.strategy = CandleAggregator(venues=[V])
        self.producer = KafkaQueue(bootstrap, prefix=prefix)
        runtime = StrategyRuntime(self.strategy, KafkaSink(self.producer), group=group,
                                  prefix=prefix, registry=Registry())
        self.runner = KafkaRunner(runtime, bootstrap, from_beginning=True,
                                  consumer_options=FAST_GROUP)
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> Aggregator:
        await self.producer.start()
        await self.runner.start()
        self.task = asyncio.create_task(self.runner.run())
        return self

    async def stop(self) -> None:
        await self.runner.stop()
        await self.producer.stop()
        if self.task is not None:
            await self.task


async def klines_on(bootstrap: str, topic: str) -> tuple[list[Kline], set[tuple[object, ...]]]:
    records = await read_topic(bootstrap, topic)
    klines = [e for _, _, _, e in records]
    assert all(isinstance(k, Kline) and k.closed for k in klines)
    for _, _, key, k in records:  # keyed by symbol
        assert key == k.symbol.encode()
    got = {(k.symbol, k.interval, k.open_time, k.close_time, k.open, k.high, k.low, k.close,  # type: ignore[attr-defined]
            k.volume, k.quote_volume, k.trade_count) for k in klines}  # type: ignore[attr-defined]
    return klines, got  # type: ignore[return-value]


WIDTHS = {"1s": interval_us("1s"), "1m": interval_us("1m")}


async def test_candle_aggregator_emits_exact_1s_and_1m_klines_on_the_derived_topic(
    kafka_bootstrap: str,
) -> None:
    prefix, group = fresh(), fresh()
    await ensure_topics(kafka_bootstrap, [f"{prefix}.{V}.trades", f"{prefix}.{V}.klines_agg"],
                        partitions=PARTITIONS)
    minute = 60_000_000
    s0 = (now_us() - 10 * minute) // minute * minute + minute - 2_500_000  # 2.5 s before a minute
    trades = trade_stream(["AAA/USDT", "BBB/USDT"], 120, s0, 100_000, seed=3)
    await produce(kafka_bootstrap, prefix, as_batches(trades))

    agg = await Aggregator(kafka_bootstrap, prefix, group).start()
    await agg.runner.wait_caught_up()
    await agg.stop()

    klines, got = await klines_on(kafka_bootstrap, f"{prefix}.{V}.klines_agg")
    assert got == expected_candles(trades, WIDTHS)
    assert len(got) == len(klines)  # each candle once
    assert any(k[1] == "1m" for k in got) and agg.strategy.late == 0


async def test_candles_stay_whole_and_single_when_instances_come_and_go(
    kafka_bootstrap: str,
) -> None:
    """B joins mid-candle, A leaves mid-candle: the new owner warms up on the last minute of
    trades, so every candle is still emitted exactly once, with exact OHLCV."""
    prefix, group = fresh(), fresh()
    await ensure_topics(kafka_bootstrap, [f"{prefix}.{V}.trades", f"{prefix}.{V}.klines_agg"],
                        partitions=PARTITIONS)
    minute = 60_000_000
    s0 = (now_us() - 20 * minute) // minute * minute + 7_300_000
    trades = trade_stream(symbols_covering_partitions(6), 900, s0, 400_000, seed=11)
    batches = as_batches(trades)
    cut1, cut2 = 300, 600  # mid-candle for both intervals (no gap spans a whole second)
    await produce(kafka_bootstrap, prefix, batches[:cut1])
    a = await Aggregator(kafka_bootstrap, prefix, group).start()
    b: Aggregator | None = None
    try:
        await a.runner.wait_caught_up()
        b = await Aggregator(kafka_bootstrap, prefix, group).start()
        await wait_for(lambda: a.runner.owned and b.runner.owned  # type: ignore[union-attr]
                       and len(a.runner.owned | b.runner.owned) == PARTITIONS)
        await produce(kafka_bootstrap, prefix, batches[cut1:cut2])
        await asyncio.gather(a.runner.wait_caught_up(), b.runner.wait_caught_up())
        await a.stop()
        await wait_for(lambda: len(b.runner.owned) == PARTITIONS)  # type: ignore[union-attr]
        await produce(kafka_bootstrap, prefix, batches[cut2:])
        await b.runner.wait_caught_up()
    finally:
        if b is not None:
            await b.stop()
        if a.task is not None and not a.task.done():
            await a.stop()

    klines, got = await klines_on(kafka_bootstrap, f"{prefix}.{V}.klines_agg")
    assert got == expected_candles(trades, WIDTHS)
    assert len(klines) == len(got)  # none twice
    assert b.runner.warmups and all(n > 0 for _, _, n in b.runner.warmups)
    assert b.strategy.late == 0 and b.runner.runtime.stats.muted > 0
