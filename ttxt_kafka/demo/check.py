"""What the demo checks once the pipeline has stopped, from Kafka and from the recorded files.

* records per topic (end - beginning offsets);
* books three ways, compared level by level and string by string: the connectors' own books,
  books rebuilt from the `book` topics (the replayer's Kafka source, from offset 0), and books
  rebuilt from the recorder's files (the replayer's typed in-process replay);
* the recorder's files;
* the market maker's trading: commands on the orders topic, acks and fills on the executions
  topic, and its PnL from the fills, marked at the final mid.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from ..admin import list_topics, record_counts
from ..book import Book, BookError
from ..codec import DEFAULT_CODEC, CodecError
from ..events import AckStatus, Event, Fill, OrderAck, OrderBook, Side


async def topic_counts(bootstrap: str, prefix: str) -> dict[str, int]:
    topics = await list_topics(bootstrap, rf"^{re.escape(prefix)}\.")
    return await record_counts(bootstrap, topics)


def _apply(books: dict[tuple[str, str], Book], event: OrderBook) -> None:
    book = books.setdefault((event.venue, event.symbol), Book(event.venue, event.symbol))
    try:
        book.update(event)
    except BookError:
        book.clear()  # counted as a mismatch below, not a crash


async def books_from_topics(bootstrap: str, prefix: str) -> dict[tuple[str, str], Book]:
    """Every `<prefix>.<venue>.book` topic replayed from its beginning into books."""
    from ttxt_kafka.replayer.kafka_source import KafkaSource

    source = KafkaSource(bootstrap, rf"^{re.escape(prefix)}\.[a-z0-9_-]+\.book$", since=0)
    books: dict[tuple[str, str], Book] = {}
    await source.open()
    try:
        async for record in source.records():
            try:
                event = DEFAULT_CODEC.decode(record["value"] or b"")
            except CodecError:
                continue
            if isinstance(event, OrderBook):
                _apply(books, event)
    finally:
        await source.close()
    return books


@dataclass
class Replay:
    events: int = 0
    seconds: float = 0.0
    books: dict[tuple[str, str], Book] = field(default_factory=dict)
    by_type: Counter[str] = field(default_factory=Counter)


async def replay_files(directory: Path) -> Replay:
    """Every recorded event, merged by exchange time as a backtest would read them."""
    from ttxt_kafka.replayer import replay_events

    out = Replay()
    t0 = time.perf_counter()
    async for event in replay_events(directory):
        out.events += 1
        out.by_type[event.SCHEMA] += 1
        if isinstance(event, OrderBook):
            _apply(out.books, event)
    out.seconds = time.perf_counter() - t0
    return out


@dataclass
class BookCheck:
    venue: str
    symbol: str
    connector: Book | None
    topic: Book | None
    files: Book | None

    @property
    def equal(self) -> bool:
        books = (self.connector, self.topic, self.files)
        return all(b is not None and b.ready for b in books) and \
            self.connector == self.topic == self.files


def compare_books(connector: dict[tuple[str, str], Book], topic: dict[tuple[str, str], Book],
                  files: dict[tuple[str, str], Book]) -> list[BookCheck]:
    keys = sorted(set(connector) | set(topic) | set(files))
    return [BookCheck(v, s, connector.get((v, s)), topic.get((v, s)), files.get((v, s)))
            for v, s in keys]


# --------------------------------------------------------------------------- trading


@dataclass
class Trading:
    venue: str
    mode: str = "no trading"  # the venue connector's trading mode
    commands: Counter[str] = field(default_factory=Counter)  # CreateOrder, AmendOrder, ...
    accepted: int = 0
    rejected: int = 0
    reject_reasons: Counter[str] = field(default_factory=Counter)
    fills: int = 0
    bought: Decimal = Decimal(0)
    sold: Decimal = Decimal(0)
    cash: dict[str, Decimal] = field(default_factory=dict)  # per symbol, quote currency
    position: dict[str, Decimal] = field(default_factory=dict)  # per symbol, base currency
    fees: dict[str, Decimal] = field(default_factory=dict)  # per currency

    def add_fill(self, fill: Fill) -> None:
        base, _, quote = fill.symbol.partition("/")
        qty, price, fee = Decimal(fill.qty), Decimal(fill.price), Decimal(fill.fee or "0")
        sign = 1 if fill.side is Side.BUY else -1
        self.fills += 1
        if sign > 0:
            self.bought += qty
        else:
            self.sold += qty
        pos = self.position.get(fill.symbol, Decimal(0)) + sign * qty
        cash = self.cash.get(fill.symbol, Decimal(0)) - sign * qty * price
        if fill.fee_currency == base:
            pos -= fee
        elif fill.fee_currency == quote or not fill.fee_currency:
            cash -= fee
        self.position[fill.symbol], self.cash[fill.symbol] = pos, cash
        currency = fill.fee_currency or quote
        self.fees[currency] = self.fees.get(currency, Decimal(0)) + fee

    def pnl(self, marks: dict[str, Decimal]) -> Decimal | None:
        """Cash plus position at the mark, summed over symbols (quote currency)."""
        total = Decimal(0)
        for symbol, pos in self.position.items():
            mark = marks.get(symbol)
            if mark is None:
                return None
            total += self.cash[symbol] + pos * mark
        return total


async def trading(bootstrap: str, prefix: str, venue: str, tag: str = "") -> Trading:
    """Commands and executions of one venue (only client order ids containing `tag`)."""
    from ttxt_kafka.replayer.kafka_source import KafkaSource

    out = Trading(venue)
    pattern = rf"^{re.escape(prefix)}\.{re.escape(venue)}\.(orders|executions)$"
    source = KafkaSource(bootstrap, pattern, since=0)
    await source.open()
    try:
        async for record in source.records():
            try:
                event: Event = DEFAULT_CODEC.decode(record["value"] or b"")
            except CodecError:
                continue
            if record["topic"].endswith(".orders"):
                out.commands[event.SCHEMA] += 1
            elif isinstance(event, OrderAck):
                if event.status is AckStatus.ACCEPTED:
                    out.accepted += 1
                else:
                    out.rejected += 1
                    out.reject_reasons[event.reason or event.status.value] += 1
            elif isinstance(event, Fill) and tag in event.client_order_id:
                out.add_fill(event)
    finally:
        await source.close()
    return out
