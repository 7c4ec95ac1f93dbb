"""The Kafka bus: IQueue over aiokafka.

Producing: idempotent, `acks=all`, batched (linger) and compressed; `publish` appends to the
producer's batch and returns — delivery is confirmed in the background, never one awaited round
trip per event. Delivery failures are counted and logged; `flush()` waits for everything.

Consuming: a consumer group with manual commits. `poll()` returns the next decoded event and
marks the previous one handled; offsets of handled events are committed every
`commit_interval` seconds, on partition revocation and on `stop()` (at-least-once).
Records that do not decode (garbage, unknown schema) are logged, counted, optionally copied to a
dead-letter topic, and skipped — they never stop the loop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.codec import has_lz4
from aiokafka.errors import KafkaConnectionError, KafkaError
from aiokafka.structs import OffsetAndMetadata

from ..cluster import client_options
from ..codec import DEFAULT_CODEC, Codec, CodecError
from ..events import Event
from ..topics import DEFAULT_PREFIX, TYPE_HEADER, key_for, topic_for
from .interfaces import IQueue

log = logging.getLogger(__name__)


class KafkaUnavailableError(ConnectionError):
    """The broker could not be reached within the connect timeout."""


@dataclass
class QueueStats:
    published: int = 0
    delivery_errors: int = 0
    consumed: int = 0
    malformed: int = 0
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
            # A failed start leaves background tasks behind; close before retrying.
            await client.stop()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise KafkaUnavailableError(
                    f"Kafka at {bootstrap} is not reachable after {timeout:.0f}s "
                    f"({attempt} attempts; last error: {type(exc).__name__}: {exc}). Start a local "
                    f"broker with `ttxt kafka start`, or set KAFKA_BOOTSTRAP_SERVERS."
                ) from exc
            log.warning("Kafka at %s not reachable yet (attempt %d: %s); retrying",
                        bootstrap, attempt, exc)
            await asyncio.sleep(min(delay, remaining))
            delay = min(delay * 2, 5.0)


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
    ) -> None:
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
        self._consumer_options = consumer_options or {}
        self._producer: AIOKafkaProducer | None = None
        self._consumer: AIOKafkaConsumer | None = None
        self._buffer: deque[tuple[ConsumerRecord[bytes, bytes], Event]] = deque()
        self._current: ConsumerRecord[bytes, bytes] | None = None
        self._handled: dict[TopicPartition, int] = {}  # next offset to commit, per partition
        self._committed: dict[TopicPartition, int] = {}
        self._last_commit = time.monotonic()
        self._pending: set[asyncio.Future[Any]] = set()

    @property
    def consumes(self) -> bool:
        return bool(self.topics or self.pattern)

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> KafkaQueue:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap_servers, **client_options(), **self._producer_options
        )
        await start_with_retry(self._producer, self.bootstrap_servers, self.connect_timeout)
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

    async def stop(self) -> None:
        """Flush what was published, commit what was handled, close both clients."""
        try:
            if self._producer is not None:
                await self.flush()
            if self._consumer is not None:
                await self.commit()
        finally:
            if self._consumer is not None:
                await self._consumer.stop()
                self._consumer = None
            if self._producer is not None:
                await self._producer.stop()
                self._producer = None

    async def __aenter__(self) -> KafkaQueue:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ producing

    async def publish(self, event: Event) -> None:
        value = self.codec.encode(event)
        ts = event.exchange_ts // 1000 or None
        await self.publish_raw(
            topic_for(event, self.prefix), value, key_for(event),
            [(TYPE_HEADER, event.SCHEMA.encode())], ts,
        )

    async def publish_raw(
        self,
        topic: str,
        value: bytes,
        key: bytes | None = None,
        headers: Iterable[tuple[str, bytes]] | None = None,
        timestamp_ms: int | None = None,
    ) -> None:
        """Append an already-encoded record (replays, dead letters) to the producer's batch."""
        if self._producer is None:
            raise RuntimeError("KafkaQueue.publish before start()")
        fut = await self._producer.send(
            topic, value=value, key=key, headers=list(headers or ()), timestamp_ms=timestamp_ms
        )
        self.stats.published += 1
        self._pending.add(fut)
        fut.add_done_callback(self._delivered)

    def _delivered(self, fut: asyncio.Future[Any]) -> None:
        self._pending.discard(fut)
        if fut.cancelled():
            self.stats.delivery_errors += 1
            return
        exc = fut.exception()
        if exc is not None:
            self.stats.delivery_errors += 1
            log.error("Kafka delivery failed: %s: %s", type(exc).__name__, exc)

    async def flush(self) -> None:
        if self._producer is not None:
            await self._producer.flush()
        if self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

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
            event = self.codec.decode(record.value)
        except CodecError as exc:
            await self._malformed(record, exc)
            return
        self._buffer.append((record, event))

    async def _malformed(self, record: ConsumerRecord[bytes, bytes], exc: CodecError) -> None:
        self.stats.malformed += 1
        # Rate-limit the log: the first few, then every 1000th.
        if self.stats.malformed <= 10 or self.stats.malformed % 1000 == 0:
            log.warning("skipping undecodable record %s[%d]@%d (%d so far): %s",
                        record.topic, record.partition, record.offset, self.stats.malformed, exc)
        if self.dead_letter_topic and self._producer is not None:
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
