"""`ttxt top`: what a running pipeline is doing, read from Kafka (and the services' /health).

Everything comes from the cluster, so it works for any deployment, whatever runs where:

* topics: records held and records/s, from the partitions' end offsets between two samples;
* consumer groups: members, state and lag (end offset minus committed offset, summed);
* books: best bid and ask of every symbol, kept by tailing the `book` topics (each partition
  is first read from a few thousand records back, so a snapshot is usually found at once);
* status: the latest `ConnectorStatus` of every venue's connections and of its Kafka producer
  (stream `kafka`: ERROR with the reason while records cannot be delivered), and the book
  resyncs seen, from the `status` topics tailed the same way;
* services (with `--pipeline`): each service's /health, on the metrics ports the file names;
* warnings: records of the decoded topics that do not decode (counted, the first named), and
  a key (a symbol) seen on two partitions of a channel topic, which breaks "one
  symbol, one partition" (a producer that does not partition by murmur2, as Java and aiokafka
  do: librdkafka's default, consistent_random, puts `BTC/USDT` elsewhere). One consumer tails
  every channel topic: the book and status records are decoded and applied, every record's
  key is noted; of the other topics (trades, bbo, klines, orders...) only keys are read, and at
  most the last `key_scan` records of a partition per refresh (an older backlog is skipped),
  so top's cost stays bounded however busy a topic is. No partition is paused: one consumer,
  assigned once, seeks forward where it fell behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import sys
import time
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TextIO

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from .admin import cluster_metadata
from .book import Book, BookError
from .cluster import client_options
from .codec import DEFAULT_CODEC, CodecError
from .events import ConnectorState, ConnectorStatus, OrderBook, now_us
from .topics import DEFAULT_PREFIX, parse_topic

log = logging.getLogger(__name__)

ACTIVE_STATES = {"Stable", "PreparingRebalance", "CompletingRebalance"}


@dataclass
class TopicRow:
    topic: str
    records: int
    rate: float | None  # records/s since the previous sample (None on the first)


@dataclass
class GroupRow:
    group: str
    state: str
    members: int
    lag: int
    topics: int


@dataclass
class BookRow:
    venue: str
    symbol: str
    bid: tuple[str, str] | None
    ask: tuple[str, str] | None
    spread_bps: Decimal | None
    age_s: float  # since the book's last exchange time


@dataclass
class StatusRow:
    venue: str
    stream: str
    status: str
    reason: str
    age_s: float  # since the status event
    resyncs: int = 0  # BOOK_RESYNC events seen for the venue (shown on its first row)


@dataclass
class ServiceRow:
    name: str
    url: str
    status: str
    detail: str


@dataclass
class Frame:
    bootstrap: str
    prefix: str
    at: float  # wall time
    topics: list[TopicRow] = field(default_factory=list)
    groups: list[GroupRow] = field(default_factory=list)
    books: list[BookRow] = field(default_factory=list)
    statuses: list[StatusRow] = field(default_factory=list)
    services: list[ServiceRow] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _applied(topic: str) -> bool:
    """Topics whose records `ttxt top` decodes (the others it reads for their keys only)."""
    return topic.endswith((".book", ".status"))


def undecodable_warning(topic: str, count: int, partition: int, offset: int,
                        reason: str) -> str:
    return (f"{count} record{'s' if count > 1 else ''} on {topic} did not decode (skipped "
            f"here; the first at partition {partition}, offset {offset}: {reason[:160]})")


def split_key_warning(topic: str, key: bytes, partitions: set[int]) -> str:
    """What `ttxt top` says when one key's records are on more than one partition."""
    shown = key.decode("utf-8", "backslashreplace")
    return (f"key {shown!r} on {topic} is on partitions "
            f"{', '.join(map(str, sorted(partitions)))}: one symbol's records must stay on one "
            f"partition; a producer that does not partition keys by murmur2 (Java's and "
            f"aiokafka's default) wrote some: with librdkafka (confluent-kafka) set "
            f"partitioner=murmur2_random")


class Top:
    def __init__(self, bootstrap: str, prefix: str = DEFAULT_PREFIX, *, all_groups: bool = False,
                 book_scan: int = 5000, key_scan: int = 200,
                 services: dict[str, str] | None = None) -> None:
        self.bootstrap = bootstrap
        self.prefix = prefix
        self.all_groups = all_groups
        self.book_scan = book_scan
        self.key_scan = key_scan  # records per partition and refresh, at most, read for keys
        self.services = services or {}  # name -> base URL of its /health
        self._topic_rx = re.compile(rf"^{re.escape(prefix)}\.[a-z0-9][a-z0-9_-]*\.[a-z0-9_-]+$")
        self._admin: AIOKafkaAdminClient | None = None
        self._offsets: AIOKafkaConsumer | None = None
        self._tail: AIOKafkaConsumer | None = None
        self._prev: tuple[float, dict[str, int]] | None = None
        self._books: dict[tuple[str, str], Book] = {}
        self._statuses: dict[tuple[str, str], ConnectorStatus] = {}  # (venue, stream) -> last
        self._resyncs: dict[str, int] = {}  # venue -> BOOK_RESYNC events seen
        # topic -> (records that did not decode, the first one's partition, offset, reason)
        self._undecodable: dict[str, tuple[int, int, int, str]] = {}
        self._next: dict[TopicPartition, int] = {}  # tailed partitions: the next offset to read
        self._key_partitions: dict[tuple[str, bytes], set[int]] = {}  # (topic, key) -> seen

    async def start(self) -> Top:
        opts = client_options()
        self._admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap, **opts)
        await self._admin.start()
        self._offsets = AIOKafkaConsumer(bootstrap_servers=self.bootstrap,
                                         enable_auto_commit=False, **opts)
        await self._offsets.start()
        self._tail = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False,
                                      **opts)
        await self._tail.start()
        return self

    async def close(self) -> None:
        for client in (self._tail, self._offsets):
            if client is not None:
                await client.stop()
        if self._admin is not None:
            await self._admin.close()

    async def __aenter__(self) -> Top:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ------------------------------------------------------------------ one sample

    async def sample(self) -> Frame:
        assert self._offsets is not None
        frame = Frame(self.bootstrap, self.prefix, time.time())
        metadata = await cluster_metadata(self._offsets)
        topics = sorted(t for t in metadata.topics() if self._topic_rx.match(t)
                        and ".replay." not in t)
        tps = [TopicPartition(t, p) for t in topics
               for p in sorted(metadata.partitions_for_topic(t) or ())]
        ends = await self._offsets.end_offsets(tps) if tps else {}
        begins = await self._offsets.beginning_offsets(tps) if tps else {}
        now = time.monotonic()
        totals: dict[str, int] = {}
        held: dict[str, int] = {}
        for tp in tps:
            totals[tp.topic] = totals.get(tp.topic, 0) + ends[tp]
            held[tp.topic] = held.get(tp.topic, 0) + ends[tp] - begins[tp]
        prev = self._prev
        for t in topics:
            rate = None
            if prev is not None and t in prev[1] and now > prev[0]:
                rate = max(0.0, (totals[t] - prev[1][t]) / (now - prev[0]))
            frame.topics.append(TopicRow(t, held.get(t, 0), rate))
        self._prev = (now, totals)
        frame.groups = await self._groups(set(topics), ends)
        await self._tail_topics(tps, begins, ends)
        frame.books = self._book_rows()
        frame.statuses = self._status_rows()
        frame.services = await self._health()
        frame.warnings = [split_key_warning(topic, key, parts)
                          for (topic, key), parts in sorted(self._key_partitions.items())
                          if len(parts) > 1]
        frame.warnings += [undecodable_warning(topic, *seen)
                           for topic, seen in sorted(self._undecodable.items())]
        return frame

    async def _groups(self, topics: set[str], ends: dict[TopicPartition, int]) -> list[GroupRow]:
        admin = self._admin
        assert admin is not None
        names = sorted(g[0] for g in await admin.list_consumer_groups())
        if not names:
            return []
        states = await _describe_groups(admin, names)
        rows = []
        for name in names:
            state, members = states.get(name, ("?", 0))
            if not self.all_groups and state not in ACTIVE_STATES:
                continue
            offsets = await admin.list_consumer_group_offsets(name)
            mine = {tp: o.offset for tp, o in offsets.items() if tp.topic in topics}
            if not mine:
                continue
            lag = sum(max(0, ends.get(tp, off) - off) for tp, off in mine.items() if off >= 0)
            rows.append(GroupRow(name, state, members, lag, len({tp.topic for tp in mine})))
        return rows

    def _book_rows(self) -> list[BookRow]:
        now = now_us()
        rows = []
        for (venue, symbol), book in sorted(self._books.items()):
            if not book.ready:
                continue
            mid, spread = book.mid(), book.spread()
            bps = (spread / mid * 10_000).quantize(Decimal("0.01")) if mid and spread else None
            rows.append(BookRow(venue, symbol, book.best_bid(), book.best_ask(), bps,
                                max(0.0, (now - book.exchange_ts) / 1e6)))
        return rows

    def _status_rows(self) -> list[StatusRow]:
        now = now_us()
        rows = []
        seen: set[str] = set()
        for (venue, stream), ev in sorted(self._statuses.items()):
            resyncs = self._resyncs.get(venue, 0) if venue not in seen else 0
            seen.add(venue)
            rows.append(StatusRow(venue, stream, ev.status.value, ev.reason,
                                  max(0.0, (now - ev.exchange_ts) / 1e6), resyncs))
        return rows

    async def _tail_topics(self, tps: list[TopicPartition], begins: dict[TopicPartition, int],
                           ends: dict[TopicPartition, int], budget: float = 0.5) -> None:
        """Read what arrived since the last refresh on every channel partition (until each is
        read up to `ends`, or `budget` seconds): book and status records are applied (a new
        partition is started `book_scan` records back, so a snapshot is usually found at once);
        of the others only keys are noted, from at most their last `key_scan` records (a
        partition further behind is moved forward: a bounded read however busy the topic)."""
        consumer = self._tail
        assert consumer is not None
        new = {tp for tp in tps if tp not in self._next}
        for tp in new:
            back = self.book_scan if _applied(tp.topic) else self.key_scan
            self._next[tp] = max(begins[tp], ends[tp] - back)
        if new:
            consumer.assign(sorted(self._next))
        for tp, next_offset in self._next.items():
            start = next_offset
            if not _applied(tp.topic):
                start = max(next_offset, ends.get(tp, 0) - self.key_scan)
            if tp in new or start > next_offset:
                consumer.seek(tp, start)
                self._next[tp] = start
        pending = {tp for tp, end in ends.items() if tp in self._next and self._next[tp] < end}
        deadline = time.monotonic() + budget
        while pending and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=50, max_records=5000)
            for tp, records in batches.items():
                apply = _applied(tp.topic)
                for r in records:
                    if r.key is not None:
                        self._note_key(r.topic, r.key, r.partition)
                    if apply:
                        self._apply(r.topic, r.partition, r.offset, r.value)
                if records:
                    self._next[tp] = records[-1].offset + 1
                    if self._next[tp] >= ends.get(tp, 0):
                        pending.discard(tp)

    def _note_key(self, topic: str, key: bytes, partition: int) -> None:
        seen = self._key_partitions.setdefault((topic, key), set())
        if partition not in seen:
            seen.add(partition)
            if len(seen) > 1:
                log.warning("%s", split_key_warning(topic, key, seen))

    def _apply(self, topic: str, partition: int, offset: int, value: bytes | None) -> None:
        try:
            event = DEFAULT_CODEC.decode(value or b"")
        except CodecError as exc:  # counted and shown as a warning, never skipped silently
            seen = self._undecodable.get(topic)
            if seen is None:
                log.warning("%s[%d]@%d does not decode: %s", topic, partition, offset, exc)
                self._undecodable[topic] = (1, partition, offset, str(exc))
            else:
                self._undecodable[topic] = (seen[0] + 1, *seen[1:])
            return
        if isinstance(event, ConnectorStatus):
            self._status(topic, event)
            return
        if not isinstance(event, OrderBook):
            return
        name = parse_topic(topic, self.prefix)
        venue = name.venue if name else event.venue
        book = self._books.setdefault((venue, event.symbol), Book(venue, event.symbol))
        with contextlib.suppress(BookError):
            book.update(event)

    def _status(self, topic: str, event: ConnectorStatus) -> None:
        name = parse_topic(topic, self.prefix)
        venue = name.venue if name else event.venue
        if event.status is ConnectorState.BOOK_RESYNC:
            self._resyncs[venue] = self._resyncs.get(venue, 0) + 1
        if event.stream == "book" or event.symbol:
            return  # per-book statuses: counted above, too many to list
        self._statuses[(venue, event.stream)] = event

    async def _health(self) -> list[ServiceRow]:
        if not self.services:
            return []
        import aiohttp

        rows = []
        timeout = aiohttp.ClientTimeout(total=1.0)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            for name, url in self.services.items():
                try:
                    async with session.get(f"{url}/health") as resp:
                        body = await resp.json(content_type=None)
                    checks = body.get("checks", {})
                    detail = "; ".join(c.get("detail", "") for c in checks.values())
                    rows.append(ServiceRow(name, url, str(body.get("status", "?")), detail))
                except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                    rows.append(ServiceRow(name, url, "down", type(exc).__name__))
        return rows


def _describe_groups_v2(groups: list[str]) -> Any:
    """A DescribeGroups request of version 2 at most: aiokafka (0.12 to 0.14) would pick v3
    against Kafka 4 and decode its answer with v2's layout ("Buffer underrun decoding string")."""
    from aiokafka.protocol import admin as protocol

    if hasattr(protocol.DescribeGroupsRequest, "prepare"):  # 0.13+: the client picks a version
        request = protocol.DescribeGroupsRequest(groups)
        request._CLASSES = tuple(c for c in request._CLASSES if c.API_VERSION <= 2)
        return request
    return protocol.DescribeGroupsRequest[2](groups=groups)  # up to 0.12: a class per version


async def _describe_groups(admin: AIOKafkaAdminClient,
                           names: list[str]) -> dict[str, tuple[str, int]]:
    """group -> (state, members), asked of each group's coordinator."""
    by_node: dict[int, list[str]] = {}
    for name in names:
        by_node.setdefault(await admin.find_coordinator(name), []).append(name)
    states: dict[str, tuple[str, int]] = {}
    for node, groups in by_node.items():
        response = await admin._send_request(_describe_groups_v2(groups), node)
        for g in response.groups:  # (error, group, state, protocol type, protocol, members)
            states[g[1]] = (g[2], len(g[5]))
    return states


# --------------------------------------------------------------------------- rendering

BOLD, DIM, RESET, HOME_CLEAR = "\x1b[1m", "\x1b[2m", "\x1b[0m", "\x1b[H\x1b[2J"
RED = "\x1b[31m"


def _num(n: float) -> str:
    return f"{n:,.0f}"


def _short(text: str) -> str:
    """An exchange decimal string without its padding zeros, for the screen only."""
    return text.rstrip("0").rstrip(".") if "." in text else text


def render(frame: Frame, color: bool = True) -> str:
    b, d, r = (BOLD, DIM, RESET) if color else ("", "", "")
    stamp = time.strftime("%H:%M:%S", time.localtime(frame.at))
    out = [f"{b}ttxt top{r}  {frame.bootstrap}  prefix {frame.prefix}  {stamp}", ""]
    out.append(f"{b}{'TOPIC':<40} {'RECORDS':>12} {'REC/S':>10}{r}")
    for t in frame.topics:
        rate = "…" if t.rate is None else f"{t.rate:,.1f}"
        out.append(f"{t.topic:<40} {_num(t.records):>12} {rate:>10}")
    if not frame.topics:
        out.append(f"{d}(no topics under {frame.prefix}.){r}")
    out += ["", f"{b}{'CONSUMER GROUP':<52} {'STATE':<12} {'MEMBERS':>7} {'LAG':>10}{r}"]
    for g in frame.groups:
        out.append(f"{g.group[:52]:<52} {g.state:<12} {g.members:>7} {_num(g.lag):>10}")
    if not frame.groups:
        out.append(f"{d}(no active group reads these topics){r}")
    out += ["", f"{b}{'BOOK':<24} {'BID SIZE':>12} {'BID':>14}  {'ASK':<14} {'ASK SIZE':<12} "
                f"{'BPS':>6} {'AGE':>6}{r}"]
    for k in frame.books:
        bid_px, bid_qty = (_short(k.bid[0]), _short(k.bid[1])) if k.bid else ("-", "")
        ask_px, ask_qty = (_short(k.ask[0]), _short(k.ask[1])) if k.ask else ("-", "")
        bps = "-" if k.spread_bps is None else str(k.spread_bps)
        out.append(f"{(k.venue + ' ' + k.symbol)[:24]:<24} {bid_qty:>12} {bid_px:>14}  "
                   f"{ask_px:<14} {ask_qty:<12} {bps:>6} {k.age_s:>5.1f}s")
    if not frame.books:
        out.append(f"{d}(no book yet: waiting for a snapshot on a book topic){r}")
    if frame.statuses:
        out += ["", f"{b}{'VENUE':<16} {'STREAM':<12} {'STATUS':<13} {'AGE':>7} {'RESYNCS':>7} "
                    f"REASON{r}"]
        for st in frame.statuses:
            resyncs = str(st.resyncs) if st.resyncs else ""
            line = (f"{st.venue[:16]:<16} {st.stream[:12]:<12} {st.status:<13} "
                    f"{st.age_s:>6.0f}s {resyncs:>7} {st.reason[:80]}")
            out.append(f"{RED}{line}{r}" if color and st.status == "ERROR" else line)
    if frame.services:
        out += ["", f"{b}{'SERVICE':<20} {'HEALTH':<8} DETAIL{r}"]
        for s in frame.services:
            out.append(f"{s.name[:20]:<20} {s.status:<8} {s.detail}")
    if frame.warnings:
        out += ["", f"{b}WARNINGS{r}"]
        out += [f"{RED}{w}{r}" if color else w for w in frame.warnings]
    return "\n".join(out) + "\n"


async def run_top(top: Top, interval: float = 1.0, once: bool = False, color: bool = True,
                  out: TextIO | None = None) -> None:
    """Print a frame every `interval` seconds (with `once`: two samples, one frame)."""
    out = out or sys.stdout
    async with top:
        if once:
            await top.sample()  # the first sample has no rates yet
            await asyncio.sleep(interval)
            out.write(render(await top.sample(), color))
            return
        while True:
            started = time.monotonic()
            frame = await top.sample()
            out.write((HOME_CLEAR if color else "") + render(frame, color))
            out.flush()
            await asyncio.sleep(max(0.0, interval - (time.monotonic() - started)))
