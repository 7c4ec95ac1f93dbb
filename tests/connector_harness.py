"""Running a connector against the simulator into a real Kafka broker, for the tests."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from ttxt_kafka.admin import cluster_metadata, ensure_topics
from ttxt_kafka.book import Book
from ttxt_kafka.bus import KafkaQueue
from ttxt_kafka.codec import decode
from ttxt_kafka.connectors import connector_for
from ttxt_kafka.connectors.base.connector import Connector
from ttxt_kafka.connectors.config import ConnectorConfig, parse_config
from ttxt_kafka.connectors.runner import CHANNELS
from ttxt_kafka.events import ConnectorState, ConnectorStatus, Event, OrderBook
from ttxt_kafka.simulator import Simulator
from ttxt_kafka.topics import topic

ALL_STREAMS: dict[str, Any] = {"book": True, "trades": True, "klines": {"intervals": ["1m"]},
                               "bbo": True}


def config_for(venue: str, symbols: list[str], sim: Simulator, **overrides: Any) -> ConnectorConfig:
    """A connector config pointed at the simulator; quick timeouts for tests."""
    connector: dict[str, Any] = {
        "venue": venue, "symbols": symbols, "streams": ALL_STREAMS,
        "endpoints": {"ws": sim.ws_url, "rest": sim.rest_url},
        "snapshot_interval": 0, "stale_timeout": 300, "resync_timeout": 2,
        "reconnect": {"initial_delay": 0.05, "max_delay": 0.5},
    }
    connector.update(overrides)
    return parse_config({"connectors": [connector]}).connectors[0]


@dataclass
class Run:
    """A connector running into Kafka under a fresh topic prefix."""

    connector: Connector
    queue: KafkaQueue
    prefix: str
    task: asyncio.Task[None]
    events: list[Event] = field(default_factory=list)

    @classmethod
    async def start(cls, config: ConnectorConfig, bootstrap: str) -> Run:
        prefix = f"t{uuid.uuid4().hex[:10]}"
        await ensure_topics(bootstrap, [topic(config.venue, ch, prefix) for ch in CHANNELS])
        queue = KafkaQueue(bootstrap, prefix=prefix)
        await queue.start()
        connector = connector_for(config, queue)
        task = asyncio.ensure_future(connector.run())
        return cls(connector, queue, prefix, task)

    async def stop(self) -> None:
        self.connector.stop()
        await asyncio.wait_for(self.task, 30)
        await self.queue.stop()  # flushes
        assert self.queue.stats.delivery_errors == 0

    async def wait(self, check: Callable[[Connector], bool], timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not check(self.connector):
            if self.task.done():
                self.task.result()  # raises what ended it
            if time.monotonic() > deadline:
                raise TimeoutError(f"condition not met in {timeout}s; {self.connector.stats}")
            await asyncio.sleep(0.01)

    async def settle(self, sim: Simulator, quiet: float = 0.3, timeout: float = 30.0) -> None:
        """Wait until the simulator has sent everything and the connector has read it all."""
        await sim.wait_finished(timeout)
        deadline = time.monotonic() + timeout
        last, since = -1, time.monotonic()
        while True:
            n = self.connector.stats.messages
            if n >= sim.state()["frames_sent"] or (n == last and time.monotonic() - since > quiet):
                break
            if n != last:
                last, since = n, time.monotonic()
            if time.monotonic() > deadline:
                raise TimeoutError(f"connector still reading after {timeout}s")
            await asyncio.sleep(0.01)
        await self.connector.wait_synced(timeout)

    async def read_back(self, bootstrap: str) -> list[Event]:
        """Every record this run wrote, decoded (a record that does not decode fails the test),
        in partition order per topic."""
        venue = self.connector.venue
        names = [topic(venue, ch, self.prefix) for ch in CHANNELS]
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        await consumer.start()
        try:
            metadata = await cluster_metadata(consumer)
            tps = [TopicPartition(n, p) for n in names
                   for p in sorted(metadata.partitions_for_topic(n) or ())]
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            end = await consumer.end_offsets(tps)
            out: list[Event] = []
            remaining = {tp: off for tp, off in end.items() if off > 0}
            while remaining:
                batches = await consumer.getmany(timeout_ms=1000)
                for tp, records in batches.items():
                    for r in records:
                        if r.offset < end[tp]:
                            out.append(decode(r.value or b""))
                        if r.offset + 1 >= end[tp]:
                            remaining.pop(tp, None)
            self.events = out
            return out
        finally:
            await consumer.stop()


def statuses(events: list[Event], state: ConnectorState, symbol: str | None = None
             ) -> list[ConnectorStatus]:
    return [e for e in events if isinstance(e, ConnectorStatus) and e.status is state
            and (symbol is None or e.symbol == symbol)]


def books_from_topic(events: list[Event], truncate: bool = False) -> dict[str, Book]:
    """What a downstream consumer rebuilds from the book topic alone (SNAPSHOT then DELTAs);
    `truncate`: the venue's rule cuts the book to the events' `depth` after each (Kraken)."""
    books: dict[str, Book] = {}
    for ev in events:
        if isinstance(ev, OrderBook):
            books.setdefault(ev.symbol, Book(max_depth=ev.depth if truncate else None)
                             ).update(ev)
    return books


def json_book(body: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(bids, asks) of a REST depth body, Binance, Bybit, Bitget, Gate.io or Coinbase shaped."""
    d = json.loads(body)
    if "pricebook" in d:  # Coinbase: {"pricebook": {"bids": [{"price", "size"}], ...}}
        book = d["pricebook"]
        return ([(x["price"], x["size"]) for x in book["bids"]],
                [(x["price"], x["size"]) for x in book["asks"]])
    if "data" in d:
        d = d["data"]
    if isinstance(d, list):  # OKX: data is a list of one book, levels [px, sz, "0", orders]
        return [tuple(x[:2]) for x in d[0]["bids"]], [tuple(x[:2]) for x in d[0]["asks"]]
    if "result" in d:
        d = d["result"]
        return [tuple(x) for x in d["b"]], [tuple(x) for x in d["a"]]  # type: ignore[misc]
    return [tuple(x) for x in d["bids"]], [tuple(x) for x in d["asks"]]  # type: ignore[misc]


def assert_no_delta_on_a_broken_book(venue: str, events: list[Event]) -> None:
    """Every DELTA on the topic continues the SNAPSHOT/DELTA before it by the venue's rule."""
    from connector_support import bitget_crc

    last: dict[str, tuple[int, bool]] = {}  # symbol -> (sequence, right after a snapshot)
    books: dict[str, Book] = {}  # checksum venues: the book downstream rebuilds
    for ev in events:
        if not isinstance(ev, OrderBook):
            continue
        if venue.startswith("kraken"):  # no sequence: the checksum of the truncated book
            from connector_support import kraken_crc

            book = books.setdefault(ev.symbol, Book(max_depth=ev.depth))
            book.update(ev)
            assert ev.checksum == kraken_crc(book.bids(10), book.asks(10)), ev
            continue
        assert ev.sequence is not None
        if venue.startswith("okx"):  # a checksum OKX sent holds on the topic's own book
            okx_book = books.setdefault(ev.symbol, Book())
            okx_book.update(ev)
            assert ev.checksum is None or bitget_crc(okx_book.bids(25),
                                                     okx_book.asks(25)) == ev.checksum
        if venue.startswith("bitget"):  # every push's checksum holds on the topic's own book
            book = books.setdefault(ev.symbol, Book())
            book.update(ev)
            assert ev.checksum is not None
            assert bitget_crc(book.bids(25), book.asks(25)) == ev.checksum, ev.sequence
        if ev.is_snapshot:
            last[ev.symbol] = (ev.sequence, True)
            continue
        seq, fresh = last[ev.symbol]
        if venue in ("binance", "mexc_spot", "kucoin_spot"):  # REST-bridged (U, u), then chained
            assert ev.first_sequence is not None
            assert ev.first_sequence <= seq + 1 <= ev.sequence
        elif venue == "binance_usdm":
            assert ev.first_sequence is not None
            # the pu chain; right after a snapshot of the REST book alone, the futures bridge
            assert ev.prev_sequence == seq or (fresh and ev.first_sequence <= seq <= ev.sequence)
        elif venue.startswith("bitget"):
            assert ev.sequence > seq  # seq increases (its steps are not promised to be 1)
        elif venue.startswith("okx"):  # prevSeqId chain; a non-zero checksum holds too
            assert ev.prev_sequence == seq
        elif venue in ("gateio_spot", "coinbase_spot"):  # U == previous u + 1 (Coinbase: the
            # connector's first_sequence, after its check of the connection's counter)
            assert ev.first_sequence == seq + 1
        else:
            assert ev.sequence == seq + 1
        last[ev.symbol] = (ev.sequence, False)
