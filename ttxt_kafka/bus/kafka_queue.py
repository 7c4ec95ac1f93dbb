"""The Kafka bus: IQueue over aiokafka.

Producing: idempotent, `acks=all`, batched (linger) and compressed; `publish` appends to the
producer's batch and returns — delivery is confirmed in the background, never one awaited round
trip per event; `flush()` waits for everything. Lingers are per channel (`linger.py`): the queue
runs one producer per linger class its channels need (book/BBO unbatched, trades/klines
batched by default), every record of a topic through the same one, so each partition's order
holds; they start, stop and are replaced together.

The bus never fails silently. Every record is kept until the broker acknowledges it (and sent,
even if the task that published it is cancelled while aiokafka's send waits; until that
record is taken, later publishes of its topic queue behind it, so order holds). A delivery
failure (batches expired while the broker was away, an out-of-order sequence or unknown producer
id after that — aiokafka#1017 —, a fenced producer, a sender that died) leaves an idempotent
producer in a state it cannot leave, so the queue replaces it: the old one is abandoned, a new
one is started (retrying while the broker is away; publishes meanwhile are held in memory, in
order), and every record not acknowledged is resent in order — except records of a *chain*
(book deltas, whose topic must never show a silent hole): those are declared lost, their
(topic, key) chain is broken, later deltas of it are dropped until the next SNAPSHOT of it, and
listeners (the connector) are told so they publish BOOK_RESYNC and a fresh snapshot. Records
the broker refuses for what they are (too large, invalid topic) are declared lost. Everything is
counted (`stats`), logged at a bounded rate, and reported to listeners (a connector turns it
into a ConnectorStatus ERROR). aiokafka's own connection errors are rate-limited (a logging
filter) to a few lines per outage.

Consuming: a consumer group with manual commits. `poll()` returns the next decoded event and
marks the previous one handled; offsets of handled events are committed every
`commit_interval` seconds, on partition revocation and on `stop()` (at-least-once).
Records in the Confluent wire format decode too (their schema ids resolved by the registry once,
off the event loop). Records that do not decode (garbage, unknown schema, a schema id the
registry does not know or cannot be asked about) are logged, counted, optionally copied to a
dead-letter topic, and skipped — they never stop the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.codec import has_lz4
from aiokafka.errors import (
    CorruptRecordException,
    InvalidTimestampError,
    InvalidTopicError,
    KafkaConnectionError,
    KafkaError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    RecordTooLargeError,
    TopicAuthorizationFailedError,
    UnsupportedForMessageFormatError,
)
from aiokafka.structs import OffsetAndMetadata

from ..cluster import client_options
from ..codec import DEFAULT_CODEC, Codec, CodecError
from ..confluent import REGISTRY_ERRORS
from ..events import Event, OrderBook, UpdateType
from ..topics import DEFAULT_PREFIX, TYPE_HEADER, key_for, topic_for, wrong_channel
from .handover import Handovers
from .interfaces import IQueue
from .linger import channel_lingers, linger_classes, topic_channel
from .logfilter import RateLimitedLog, limit_aiokafka_logs

log = logging.getLogger(__name__)


class KafkaUnavailableError(ConnectionError):
    """The broker could not be reached within the connect timeout."""


# The broker refuses these records for what they are: resending them cannot help.
RECORD_ERRORS: tuple[type[BaseException], ...] = (
    MessageSizeTooLargeError, RecordTooLargeError, RecordListTooLargeError, InvalidTopicError,
    TopicAuthorizationFailedError, CorruptRecordException, InvalidTimestampError,
    UnsupportedForMessageFormatError,
)

# Records kept in memory, not acknowledged yet, before `publish` waits (backpressure) while
# the producer is being replaced (a broker outage at a few thousand records a second).
MAX_UNACKED = 2_000_000


@dataclass
class QueueStats:
    # published == acknowledged + lost + chain_dropped + the records still pending
    published: int = 0
    delivery_errors: int = 0  # deliveries that failed (each replaced the producer, or was lost)
    acknowledged: int = 0  # records the broker acknowledged
    resent: int = 0  # records sent again by a new producer after a failure
    lost: int = 0  # records declared lost (book deltas of a broken chain, refused records)
    chain_dropped: int = 0  # deltas not sent because their chain was broken (before a snapshot)
    producer_replacements: int = 0
    consumed: int = 0
    malformed: int = 0  # undecodable records and events of the wrong type for their topic
    schema_registry_errors: int = 0  # of those: Confluent records whose schema id did not resolve
    dead_lettered: int = 0
    commits: int = 0


def producer_defaults() -> dict[str, Any]:
    """Producer settings tuned for throughput without giving up durability or ordering."""
    return {
        "enable_idempotence": True,  # no duplicates on retry, order kept per partition
        "acks": "all",
        "linger_ms": 5,  # a few ms of batching buys a lot of throughput
        "max_batch_size": 256 * 1024,
        "compression_type": "lz4" if has_lz4() else None,
        "request_timeout_ms": 30_000,
    }


async def start_with_retry(
    client: AIOKafkaProducer | AIOKafkaConsumer, bootstrap: str, timeout: float
) -> None:
    """Start an aiokafka client, retrying while the broker is unreachable, then fail clearly."""
    deadline = time.monotonic() + timeout
    delay = 0.25
    attempt = 0
    while True:
        attempt += 1
        try:
            await client.start()
            return
        except KafkaError as exc:
            # A failed start leaves background tasks behind; close before retrying (and
            # leave it closed when giving up: a reopened client warns "Unclosed" when freed).
            await client.stop()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise KafkaUnavailableError(
                    f"Kafka at {bootstrap} is not reachable after {timeout:.0f}s "
                    f"({attempt} attempts; last error: {type(exc).__name__}: {exc}). Start a local "
                    f"broker with `ttxt kafka start`, or set KAFKA_BOOTSTRAP_SERVERS."
                ) from exc
            _reopen(client)
            log.warning("Kafka at %s not reachable yet (attempt %d: %s); retrying",
                        bootstrap, attempt, exc)
            await asyncio.sleep(min(delay, remaining))
            delay = min(delay * 2, 5.0)


def _reopen(client: AIOKafkaProducer | AIOKafkaConsumer) -> None:
    """Make a stopped aiokafka client startable again. `stop()` marks it closed for good (a
    consumer then raises ConsumerStoppedError from every getmany: a recorder whose start met a
    node down died of it), and a consumer keeps its fetcher (`start` asserts there is none)."""
    client._closed = False  # type: ignore[union-attr]
    if isinstance(client, AIOKafkaConsumer):
        client._fetcher = None  # type: ignore[attr-defined]
        client._coordinator = None  # type: ignore[attr-defined]


class WrongTopicError(CodecError):
    """A record that decodes, to an event whose type does not belong to its topic's channel."""


async def fetch_writer_schema(codec: Codec, value: bytes | None) -> None:
    """A Confluent record's writer schema, fetched from the registry off the event loop the
    first time its id is seen (a registry that hangs would otherwise stall every task of the
    process for the client's timeout). A failure is remembered by the framing: the decode that
    follows reports it, so it is not raised here."""
    if not value or value[:1] != b"\x00":
        return
    with contextlib.suppress(CodecError):
        reader = codec.confluent_reader()
        if not reader.knows(value):
            await asyncio.to_thread(reader.writer, reader.schema_id_of(value))


def decode_record(codec: Codec, record: ConsumerRecord[bytes, bytes]) -> Event:
    """The record's event; CodecError if it does not decode or is on the wrong topic."""
    event = codec.decode(record.value or b"")
    why = wrong_channel(record.topic, event)
    if why is not None:
        raise WrongTopicError(why)
    return event


class DeliveryListener(Protocol):
    """Told about the producer's troubles (a connector: status events and book resyncs)."""

    def delivery_failed(self, reason: str) -> None:
        """Records could not be delivered; the producer is being replaced."""

    def chains_broken(self, chains: list[tuple[str, bytes | None]]) -> None:
        """Records of these (topic, key) chains may not have reached Kafka: until a SNAPSHOT
        of each is published, its deltas are dropped."""

    def delivery_recovered(self, reason: str) -> None:
        """A new producer works; the records held meanwhile are sent."""


@dataclass(slots=True)
class _Out:
    """A record handed to the queue and not acknowledged yet."""

    topic: str
    value: bytes
    key: bytes | None
    headers: list[tuple[str, bytes]]
    timestamp_ms: int | None
    chain: int = 0  # 0: none, 1: a delta of its (topic, key) chain, 2: a chain start (snapshot)
    generation: int = -1  # the producer generation it was sent with (-1: not sent yet)


@dataclass
class _Recovery:
    task: asyncio.Task[None]
    again: bool = False  # another failure while recovering: start over
    reasons: list[str] = field(default_factory=list)


class _CommitOnRevoke(ConsumerRebalanceListener):
    def __init__(self, queue: KafkaQueue) -> None:
        self._queue = queue

    async def on_partitions_revoked(self, revoked: Any) -> None:
        await self._queue.commit()

    async def on_partitions_assigned(self, assigned: Any) -> None:
        pass


class KafkaQueue(IQueue):
    """Publish events to their venue/channel topics; consume decoded events from topics.

    A queue given no `topics` and no `pattern` only publishes.
    """

    def __init__(
        self,
        bootstrap_servers: str,
        *,
        topics: Sequence[str] = (),
        pattern: str | None = None,
        group_id: str | None = None,
        prefix: str = DEFAULT_PREFIX,
        codec: Codec | None = None,
        from_beginning: bool = False,
        commit_interval: float = 1.0,
        dead_letter_topic: str | None = None,
        connect_timeout: float = 30.0,
        producer_options: dict[str, Any] | None = None,
        consumer_options: dict[str, Any] | None = None,
        linger_ms: dict[str, int] | None = None,
        channels: Iterable[str] | None = None,
    ) -> None:
        """`linger_ms`: per-channel lingers over the defaults (`linger.py`; a `linger_ms` in
        `producer_options` sets every channel not named here). `channels`: the channels this
        queue publishes, so only their linger classes get a producer (None: every channel's;
        a queue that consumes, none but the one its dead letters need). LingerError on a
        linger that cannot work."""
        self.bootstrap_servers = bootstrap_servers
        self.topics = tuple(topics)
        self.pattern = pattern
        self.group_id = group_id
        self.prefix = prefix
        self.codec = codec or DEFAULT_CODEC
        self.from_beginning = from_beginning
        self.commit_interval = commit_interval
        self.dead_letter_topic = dead_letter_topic
        self.connect_timeout = connect_timeout
        self.stats = QueueStats()
        self._producer_options = {**producer_defaults(), **(producer_options or {})}
        for key in client_options():  # security comes from the cluster settings, not twice
            self._producer_options.pop(key, None)
        self._lingers, self._other_linger = channel_lingers(producer_options, linger_ms)
        if channels is None and self.consumes:
            channels = ()
        # One producer per class, lowest linger first; topic -> its producer's index.
        self.linger_classes = linger_classes(self._lingers, self._other_linger, channels)
        self._routes: dict[str, int] = {}
        self._consumer_options = consumer_options or {}
        # The producers, one per linger class (None: not started, or being replaced).
        self._producers: list[AIOKafkaProducer] | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._buffer: deque[tuple[ConsumerRecord[bytes, bytes], Event]] = deque()
        self._current: ConsumerRecord[bytes, bytes] | None = None
        self._handled: dict[TopicPartition, int] = {}  # next offset to commit, per partition
        self._committed: dict[TopicPartition, int] = {}
        self._last_commit = time.monotonic()
        # Every record not acknowledged yet, in publish order (ids grow).
        self._unacked: dict[int, _Out] = {}
        self._next_id = 0
        self._generation = 0  # bumped whenever the producer is replaced
        self._recovery: _Recovery | None = None
        self._broken_chains: set[tuple[str, bytes | None]] = set()
        self._listeners: list[DeliveryListener] = []
        self._room = asyncio.Event()  # set while fewer than MAX_UNACKED records are held
        self._room.set()
        self._closing = False
        self._started = False
        self._handovers = Handovers()  # sends whose publisher was cancelled, per topic
        self.last_delivery_error = ""
        self._log = RateLimitedLog(log)
        # Called with (topic, value) of every record the broker acknowledged (tests, audits).
        self.on_acknowledged: Callable[[str, bytes], None] | None = None

    @property
    def consumes(self) -> bool:
        return bool(self.topics or self.pattern)

    # ------------------------------------------------------------------ lifecycle

    def _new_producer(self, linger: int) -> AIOKafkaProducer:
        return AIOKafkaProducer(bootstrap_servers=self.bootstrap_servers, **client_options(),
                                **{**self._producer_options, "linger_ms": linger})

    def _route(self, topic: str) -> int:
        """The index of the producer `topic`'s records go through (always the same one)."""
        index = self._routes.get(topic)
        if index is None:
            linger = self._lingers.get(topic_channel(topic), self._other_linger)
            # A class this queue has no producer for (a channel it was not told of): the
            # lowest linger, so no record waits longer than its channel asks.
            index = self._routes[topic] = (self.linger_classes.index(linger)
                                           if linger in self.linger_classes else 0)
        return index

    def producer_for(self, topic: str) -> AIOKafkaProducer | None:
        """The producer `topic`'s records go through now (None: not started, or replaced)."""
        producers = self._producers
        return None if producers is None else producers[self._route(topic)]

    async def _start_producers(self, since: float | None = None) -> list[AIOKafkaProducer]:
        """One started producer per linger class. `since` (a recovery: when the failure
        was): keep trying while the broker is away; else fail with KafkaUnavailableError after
        the connect timeout, the ones started already stopped."""
        started: list[AIOKafkaProducer] = []
        producer: AIOKafkaProducer | None = None
        try:
            for linger in self.linger_classes:
                producer = self._new_producer(linger)
                while True:
                    try:
                        await start_with_retry(producer, self.bootstrap_servers,
                                               self.connect_timeout)
                        break
                    except KafkaUnavailableError as exc:
                        if since is None:
                            raise
                        self._log.error("recover", "Kafka still unavailable (%.0fs since the "
                                        "failure): %s", time.monotonic() - since, exc)
                        producer = self._new_producer(linger)
                started.append(producer)
                producer = None
        except BaseException:  # a failed start, or a stop() meanwhile: nothing left running
            for p in [*started, *([producer] if producer is not None else [])]:
                await _abandon(p)
            raise
        return started

    def add_listener(self, listener: DeliveryListener) -> None:
        """Be told about delivery failures, broken chains and recoveries."""
        if listener not in self._listeners:
            self._listeners.append(listener)

    def remove_listener(self, listener: DeliveryListener) -> None:
        with contextlib.suppress(ValueError):
            self._listeners.remove(listener)

    @property
    def pending(self) -> int:
        """Records handed to the queue and not acknowledged yet."""
        return len(self._unacked)

    @property
    def healthy(self) -> bool:
        """False while the producer is being replaced after a delivery failure."""
        return self._recovery is None

    async def start(self) -> KafkaQueue:
        limit_aiokafka_logs()
        self._closing = False
        self._producers = await self._start_producers()
        for producer in self._producers:
            self._watch_sender(producer)
        self._started = True
        if self.consumes:
            self._consumer = AIOKafkaConsumer(
                bootstrap_servers=self.bootstrap_servers,
                group_id=self.group_id,
                enable_auto_commit=False,
                auto_offset_reset="earliest" if self.from_beginning else "latest",
                **{**client_options(), **self._consumer_options},
            )
            listener = _CommitOnRevoke(self)
            if self.pattern:
                self._consumer.subscribe(pattern=self.pattern, listener=listener)
            else:
                self._consumer.subscribe(list(self.topics), listener=listener)
            await start_with_retry(self._consumer, self.bootstrap_servers, self.connect_timeout)
        return self

    async def wait_assigned(self, timeout: float = 30.0) -> set[TopicPartition]:
        """Wait until the group has given this consumer partitions, and fix its start positions
        (so that with from_beginning=False, records published after this call are seen)."""
        if self._consumer is None:
            raise RuntimeError("KafkaQueue.wait_assigned on a queue that does not consume")
        deadline = time.monotonic() + timeout
        while not self._consumer.assignment():
            if time.monotonic() > deadline:
                raise TimeoutError(f"no partitions assigned within {timeout}s "
                                   f"(topics {self.topics or self.pattern})")
            # getmany drives the group join; nothing can be fetched before an assignment.
            batches = await self._consumer.getmany(timeout_ms=100)
            for records in batches.values():
                for record in records:
                    await self._decode_into_buffer(record)
        assigned = set(self._consumer.assignment())
        for tp in assigned:
            await self._consumer.position(tp)
        return assigned

    async def position(self, tp: TopicPartition) -> int:
        """The offset of the next record this queue reads from an assigned partition."""
        if self._consumer is None:
            raise RuntimeError("KafkaQueue.position on a queue that does not consume")
        return int(await self._consumer.position(tp))

    def seek(self, offsets: dict[TopicPartition, int]) -> None:
        """Read these assigned partitions from these offsets next (records already fetched
        from them are dropped), e.g. back to the latest book snapshots for a late joiner."""
        if self._consumer is None:
            raise RuntimeError("KafkaQueue.seek on a queue that does not consume")
        self._buffer = deque((r, e) for r, e in self._buffer
                             if TopicPartition(r.topic, r.partition) not in offsets)
        for tp, offset in offsets.items():
            self._consumer.seek(tp, offset)

    async def stop(self, flush_timeout: float | None = 60.0) -> None:
        """Flush what was published (waiting up to `flush_timeout` while the broker is away;
        what is still not acknowledged then is declared lost, loudly), commit what was
        handled, close both clients."""
        try:
            if self._producers is not None or self._recovery is not None:
                try:
                    await self.flush(timeout=flush_timeout)
                except TimeoutError:
                    n = len(self._unacked)
                    self.stats.lost += n
                    log.error("Kafka queue stopping with %d record(s) not acknowledged after "
                              "%.0fs: declared lost", n, flush_timeout)
                    self._unacked.clear()
            if self._consumer is not None:
                await self.commit()
        finally:
            self._closing = True
            self._started = False
            self._handovers.cancel()
            recovery, self._recovery = self._recovery, None
            if recovery is not None:
                recovery.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await recovery.task
            if self._consumer is not None:
                await self._consumer.stop()
                self._consumer = None
            producers, self._producers = self._producers or [], None
            for producer in producers:  # together: what is left unacknowledged is lost
                if self._unacked:
                    await _abandon(producer)
                else:
                    await producer.stop()

    async def __aenter__(self) -> KafkaQueue:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ producing

    async def publish(self, event: Event) -> None:
        topic = topic_for(event, self.prefix)
        framing = self.codec.producer_framing()
        if framing is not None:  # Confluent format: the schema id, asked once, off the loop
            et = self.codec.event_type(event)
            if not framing.has_id(topic, et):
                await asyncio.to_thread(framing.schema_id, topic, et)
        value = self.codec.encode_for(event, topic)
        ts = event.exchange_ts // 1000 or None
        chain = 0
        if event.__class__ is OrderBook:
            chain = 2 if event.update_type is UpdateType.SNAPSHOT else 1  # type: ignore[attr-defined]
        await self.publish_raw(
            topic, value, key_for(event),
            [(TYPE_HEADER, event.SCHEMA.encode())], ts, chain=chain,
        )

    async def publish_raw(
        self,
        topic: str,
        value: bytes,
        key: bytes | None = None,
        headers: Iterable[tuple[str, bytes]] | None = None,
        timestamp_ms: int | None = None,
        *,
        chain: int = 0,
    ) -> None:
        """Append an already-encoded record (replays, dead letters) to the producer's batch.

        `chain`: 1 for a delta of its (topic, key) chain, 2 for a chain start (a SNAPSHOT); a
        delta of a broken chain is dropped (counted) until the chain's next start."""
        if not self._started:
            raise RuntimeError("KafkaQueue.publish before start()")
        self.stats.published += 1
        if chain and self._broken_chains:
            ck = (topic, key)
            if ck in self._broken_chains:
                if chain == 1:
                    self.stats.chain_dropped += 1
                    return
                self._broken_chains.discard(ck)
        if not self._room.is_set():
            await self._room.wait()
        out = _Out(topic, value, key, list(headers or ()), timestamp_ms, chain)
        rid = self._next_id
        self._next_id = rid + 1
        self._unacked[rid] = out
        if len(self._unacked) >= MAX_UNACKED:
            self._room.clear()
        if self._recovery is not None:
            return  # held until a new producer works; the recovery sends it in order
        if self._handovers.pending(topic):
            # A record of this topic handed over (its publisher was cancelled) is not sent
            # yet: this one goes behind it, through the same chain, not past it.
            self._hand_over(rid, topic)
            return
        await self._send(rid, out)

    async def _send(self, rid: int, out: _Out) -> None:
        producer = self.producer_for(out.topic)
        assert producer is not None
        generation = out.generation = self._generation
        try:
            fut = await producer.send(out.topic, value=out.value, key=out.key,
                                      headers=out.headers, timestamp_ms=out.timestamp_ms)
        except asyncio.CancelledError:
            # The publishing task was cancelled (a connector's REST snapshot task when its
            # connection closes) while aiokafka waited — for a topic's first metadata (aiokafka
            # 0.13+ starts knowing no topic, so every topic's first send waits a round trip),
            # for room in a full batch. aiokafka had not taken the record then, yet the queue
            # has: it is sent from a task of its own, not left to be declared lost at stop().
            out.generation = -1  # not sent: a recovery meanwhile sends it, as never sent
            self._hand_over(rid, out.topic)
            raise
        except RECORD_ERRORS as exc:
            self._lose(rid, exc)
            return
        except KafkaError as exc:  # no metadata / no buffer space within request_timeout_ms
            if generation == self._generation:
                self.stats.delivery_errors += 1
                self._failed(exc)
            return
        fut.add_done_callback(lambda f: self._delivered(rid, generation, f))

    def _hand_over(self, rid: int, topic: str) -> None:
        """Send record `rid` from a task of the queue's own (its publisher was cancelled, or
        a record of its topic before it was), after any record of its topic handed over
        before it."""
        if self._closing:
            return  # stop() gave up on it: it is counted lost there

        async def send() -> None:
            out = self._unacked.get(rid)
            # A recovery under way sends every held record itself, in order.
            if (out is not None and out.generation < 0 and self._recovery is None
                    and self._producers is not None and not self._closing):
                await self._send(rid, out)

        def failed(exc: BaseException) -> None:
            # Cancelled by stop(), which counts what is not acknowledged as lost; anything
            # else leaves the record unacknowledged: flush() waits for it, stop() counts it.
            if not isinstance(exc, asyncio.CancelledError):
                log.error("sending a record handed over for %s failed: %s: %s", topic,
                          type(exc).__name__, exc)

        self._handovers.hand_over(topic, send, failed)

    def _delivered(self, rid: int, generation: int, fut: asyncio.Future[Any]) -> None:
        if fut.cancelled():
            exc: BaseException | None = asyncio.CancelledError("delivery cancelled")
        else:
            exc = fut.exception()
        if exc is None:
            out = self._unacked.pop(rid, None)
            if out is not None:
                self.stats.acknowledged += 1
                if self.on_acknowledged is not None:
                    self.on_acknowledged(out.topic, out.value)
                if not self._room.is_set() and len(self._unacked) < MAX_UNACKED:
                    self._room.set()
            return
        if generation != self._generation or rid not in self._unacked:
            return  # a producer already replaced: the recovery has taken over its records
        self.stats.delivery_errors += 1
        if isinstance(exc, RECORD_ERRORS):
            self._lose(rid, exc)
        else:
            self._failed(exc)

    def _lose(self, rid: int, exc: BaseException) -> None:
        """The broker refused this record for what it is: declared lost (a chain breaks)."""
        out = self._unacked.pop(rid, None)
        if out is None:
            return
        if len(self._unacked) < MAX_UNACKED:
            self._room.set()
        self.stats.lost += 1
        self._log.error("refused", "Kafka refused a record for %s: %s: %s (declared lost; "
                        "%d lost so far)", out.topic, type(exc).__name__, exc, self.stats.lost)
        if out.chain:
            self._break_chains({(out.topic, out.key)}, self._broken_chains | {(out.topic, out.key)})

    def _break_chains(self, chains: set[tuple[str, bytes | None]],
                      broken: set[tuple[str, bytes | None]]) -> None:
        """`chains` lost records; `broken`: every chain now waiting for a snapshot."""
        self._broken_chains = broken
        for listener in list(self._listeners):
            try:
                listener.chains_broken(sorted(chains, key=lambda c: (c[0], c[1] or b"")))
            except Exception:
                log.exception("a delivery listener failed")

    def _failed(self, exc: BaseException) -> None:
        """A delivery failed: the producer is replaced (once, however many records failed)."""
        reason = f"{type(exc).__name__}: {exc}"
        self.last_delivery_error = reason
        self._log.error("delivery", "Kafka delivery failed (%d so far): %s; replacing the "
                        "producer", self.stats.delivery_errors, reason)
        if self._recovery is not None:
            self._recovery.again = True
            return
        if self._closing:
            return
        self._recovery = _Recovery(asyncio.ensure_future(self._recover()), reasons=[reason])
        self._notify("delivery_failed", f"Kafka delivery failed: {reason}; "
                     f"{len(self._unacked)} record(s) not acknowledged")

    def _watch_sender(self, producer: AIOKafkaProducer) -> None:
        """A producer whose sender task ended (aiokafka ends it on OutOfOrderSequenceNumber or
        ProducerFenced) accepts records it will never send: replace it, even when no batch
        was pending to carry the error."""
        task = getattr(getattr(producer, "_sender", None), "sender_task", None)
        if task is None:
            return
        generation = self._generation

        def ended(t: asyncio.Future[Any]) -> None:
            if (self._closing or generation != self._generation
                    or producer not in (self._producers or ())):
                return
            exc = None if t.cancelled() else t.exception()
            self.stats.delivery_errors += 1
            self._failed(exc or RuntimeError("the producer's sender stopped"))

        task.add_done_callback(ended)

    def _notify(self, what: str, reason: str) -> None:
        for listener in list(self._listeners):
            try:
                getattr(listener, what)(reason)
            except Exception:
                log.exception("a delivery listener failed")

    async def _recover(self) -> None:
        """Replace the producers until new ones work and every held record went out through
        them. All of them, whichever failed: they share the broker (a failure is nearly always
        the broker's), and one recovery keeps one generation, one publish order to resend in
        and one set of counters."""
        recovery = self._recovery
        assert recovery is not None
        started = time.monotonic()
        while True:
            recovery.again = False
            old, self._producers = self._producers or [], None
            self._generation += 1
            for producer in old:
                await _abandon(producer)
            await asyncio.sleep(0)  # callbacks of deliveries done before the abandon run now
            # Records of a chain sent and not acknowledged may or may not be on the topic:
            # declared lost, their chains broken; held deltas of a broken chain are dropped up
            # to the chain's next snapshot. Everything else is resent in order.
            lost: set[tuple[str, bytes | None]] = set()
            broken = set(self._broken_chains)
            for rid, out in list(self._unacked.items()):
                if not out.chain:
                    continue
                ck = (out.topic, out.key)
                if out.generation >= 0:
                    del self._unacked[rid]
                    self.stats.lost += 1
                    lost.add(ck)
                    broken.add(ck)
                elif ck in broken:
                    if out.chain == 1:
                        del self._unacked[rid]
                        self.stats.chain_dropped += 1
                    else:
                        broken.discard(ck)  # a held snapshot starts it again
            if len(self._unacked) < MAX_UNACKED:
                self._room.set()
            if lost:
                log.error("Kafka: %d book chain(s) broken by the failure (their unacknowledged "
                          "records declared lost; %d lost so far)", len(lost), self.stats.lost)
                self._break_chains(lost, broken)
            # publishes keep being held meanwhile: the recovery is not over
            self._producers = await self._start_producers(since=started)
            self.stats.producer_replacements += 1
            for producer in self._producers:
                self._watch_sender(producer)
            generation = self._generation
            resent = 0
            while not recovery.again:
                todo = [(rid, out) for rid, out in self._unacked.items()
                        if out.generation != generation]
                if not todo:
                    break
                for rid, out in todo:
                    if rid not in self._unacked:
                        continue
                    if out.generation >= 0:
                        resent += 1
                        self.stats.resent += 1
                    await self._send(rid, out)
                    if recovery.again:
                        break
            if not recovery.again:
                break
        self._recovery = None
        summary = (f"Kafka producer replaced after {time.monotonic() - started:.1f}s "
                   f"({recovery.reasons[0]}); {resent} record(s) resent in order, "
                   f"{self.stats.lost} lost so far")
        log.warning("%s", summary)
        self._notify("delivery_recovered", summary)

    async def flush(self, timeout: float | None = None) -> None:
        """Wait until every record published so far is acknowledged (or declared lost)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self._unacked or self._recovery is not None:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError(f"{len(self._unacked)} record(s) not acknowledged after "
                                   f"{timeout}s")
            producers = self._producers
            if self._recovery is None and producers is not None:
                # bounded, so a recovery starting meanwhile is noticed; our own loop waits
                with contextlib.suppress(KafkaError, TimeoutError):
                    await asyncio.wait_for(
                        asyncio.gather(*(p.flush() for p in producers)), 1.0)
            if self._unacked or self._recovery is not None:
                await asyncio.sleep(0.01)

    # ------------------------------------------------------------------ consuming

    async def poll(self) -> Event:
        if self._consumer is None:
            raise RuntimeError("KafkaQueue.poll on a queue that does not consume (give topics)")
        self.task_done()
        while not self._buffer:
            await self._maybe_commit()
            batches = await self._consumer.getmany(timeout_ms=200, max_records=1000)
            for records in batches.values():
                for record in records:
                    await self._decode_into_buffer(record)
        record, event = self._buffer.popleft()
        self._current = record
        self.stats.consumed += 1
        await self._maybe_commit()
        return event

    def task_done(self) -> None:
        record = self._current
        if record is not None:
            self._handled[TopicPartition(record.topic, record.partition)] = record.offset + 1
            self._current = None

    async def _decode_into_buffer(self, record: ConsumerRecord[bytes, bytes]) -> None:
        try:
            if record.value is None:
                raise CodecError("empty record value (tombstone)")
            await fetch_writer_schema(self.codec, record.value)
            event = decode_record(self.codec, record)
        except CodecError as exc:
            await self._malformed(record, exc)
            return
        self._buffer.append((record, event))

    async def _malformed(self, record: ConsumerRecord[bytes, bytes], exc: CodecError) -> None:
        self.stats.malformed += 1
        if isinstance(exc, REGISTRY_ERRORS):
            self.stats.schema_registry_errors += 1
        # Rate-limit the log: the first few, then every 1000th.
        if self.stats.malformed <= 10 or self.stats.malformed % 1000 == 0:
            log.warning("skipping undecodable record %s[%d]@%d (%d so far): %s",
                        record.topic, record.partition, record.offset, self.stats.malformed, exc)
        if self.dead_letter_topic and self._started:
            headers = [
                ("ttxt-error", str(exc)[:500].encode()),
                ("ttxt-source", f"{record.topic}:{record.partition}:{record.offset}".encode()),
            ]
            await self.publish_raw(self.dead_letter_topic, record.value or b"", record.key, headers)
            self.stats.dead_lettered += 1
        # Nothing will handle it: it counts as handled, so the group moves past it.
        self._handled[TopicPartition(record.topic, record.partition)] = record.offset + 1

    async def _maybe_commit(self) -> None:
        if time.monotonic() - self._last_commit >= self.commit_interval:
            await self.commit()

    async def commit(self) -> None:
        """Commit the offsets of every handled record (no-op without a group)."""
        self._last_commit = time.monotonic()
        if self._consumer is None or self.group_id is None:
            return
        todo = {tp: off for tp, off in self._handled.items() if self._committed.get(tp) != off}
        if not todo:
            return
        assigned = self._consumer.assignment()
        todo = {tp: off for tp, off in todo.items() if tp in assigned}
        if not todo:
            return
        try:
            await self._consumer.commit(
                {tp: OffsetAndMetadata(off, "") for tp, off in todo.items()}
            )
        except (KafkaError, KafkaConnectionError) as exc:
            log.warning("offset commit failed (will retry): %s", exc)
            return
        self._committed.update(todo)
        self.stats.commits += 1


async def _abandon(producer: AIOKafkaProducer) -> None:
    """Close a producer that cannot deliver, without flushing (that would wait for a broker
    which is gone, or resend with a broken sequence): its records are the queue's business.
    aiokafka has no abort, so this cancels its sender, closes its connections (which fails the
    requests in flight) and waits a little for the sender to finish."""
    producer._closed = True  # type: ignore[attr-defined]
    sender = getattr(producer, "_sender", None)
    task = getattr(sender, "sender_task", None)
    if task is not None and not task.done():
        task.cancel()
    with contextlib.suppress(Exception):
        await asyncio.wait_for(asyncio.shield(producer.client.close()), 5.0)
    if task is not None and not task.done():
        await asyncio.wait([task], timeout=5.0)
