"""Where replayed records go: replay topics, any IQueue (typed events), or stdout.

The Kafka sink republishes each record as it was: key, timestamp, headers and value bytes
unchanged, on `<prefix>.replay.<run-id>.<venue>.<channel>`, into the partition it came from
(the replay topics are created with as many partitions as the recording used, and with
`retention.ms=-1`: see REPLAY_TOPIC_CONFIGS), with the platform's producer settings —
pipelined, never one awaited round trip per record.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import sys
from collections.abc import Mapping
from typing import Any, TextIO

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner

from ttxt_kafka.admin import ensure_topics
from ttxt_kafka.archive.ocf import FileRecord
from ttxt_kafka.bus.handover import Handovers
from ttxt_kafka.bus.interfaces import IQueue
from ttxt_kafka.bus.kafka_queue import producer_defaults, start_with_retry
from ttxt_kafka.cluster import client_options
from ttxt_kafka.codec import DEFAULT_CODEC, Codec, CodecError
from ttxt_kafka.events import Event
from ttxt_kafka.render import event_to_dict
from ttxt_kafka.topics import DEFAULT_PREFIX, replay_topic

from .selection import venue_channel

log = logging.getLogger(__name__)

# Kafka's time retention goes by record timestamps: replayed history keeps its old timestamps,
# so with the broker's default (7 days) a replay of older data would be deleted at the next
# retention check, minutes after it was written. Replay topics keep everything until deleted.
REPLAY_TOPIC_CONFIGS = {"retention.ms": "-1"}


class Decoder:
    """Records -> typed events; records that are not ttxt events are counted and skipped."""

    def __init__(self, codec: Codec | None = None) -> None:
        self.codec = codec or DEFAULT_CODEC
        self.undecodable = 0

    def __call__(self, record: FileRecord) -> Event | None:
        try:
            return self.codec.decode(record["value"] or b"")
        except CodecError as exc:
            self.failed(record["topic"], record["partition"], record["offset"], exc)
            return None

    def failed(self, topic: str, partition: int, offset: int, exc: CodecError) -> None:
        """Count and log (rate-limited) a record that is not a ttxt event."""
        self.undecodable += 1
        if self.undecodable <= 10 or self.undecodable % 1000 == 0:
            log.warning("%s[%d]@%d skipped (%d so far): %s", topic, partition, offset,
                        self.undecodable, exc)


class KafkaSink:
    """Records -> replay topics, through aiokafka's batch API.

    One open batch per target partition: records are appended to it and the batch is handed to
    the producer when full, when the replay pauses (`flush`) and at the end. This skips the
    per-record bookkeeping of `producer.send()` (a future, a partitioner call and an
    accumulator lookup per record), which is most of what a replay costs; the producer settings
    (idempotence, acks=all, compression) are the platform's, and a batch waits while the
    previous one of its partition is still being delivered, so memory stays bounded.

    Nothing is dropped silently, even when the replay is cancelled (Ctrl-C, a caller's timeout)
    while aiokafka waits to take a batch (for room behind the partition's previous one, for a
    topic's metadata): `sent` counts the records the sink took (a cancelled `put_many` took
    those before the record it stopped at), and `close()` — which `run_replay` calls, cancelled
    or not — delivers every one of them, in its partition's order: the open batches, and those
    a cancelled `put_many`/`flush` was handing over (sent from a task of the sink's own,
    `Handovers`, as the bus does). A record not delivered (the broker refused it, no room
    within the request timeout, `close()` itself cancelled) is counted in `errors` and logged.
    After `close()`: `sent` == records on the replay topics + `errors`.
    """

    def __init__(self, bootstrap: str, run_id: str, prefix: str = DEFAULT_PREFIX,
                 producer_options: dict[str, Any] | None = None,
                 topic_configs: dict[str, str] | None = None) -> None:
        self.bootstrap = bootstrap
        self.run_id = run_id
        self.prefix = prefix
        self.sent = 0
        self.errors = 0
        self._options = {**producer_defaults(), **(producer_options or {})}
        self.topic_configs = REPLAY_TOPIC_CONFIGS if topic_configs is None else topic_configs
        self._producer: AIOKafkaProducer | None = None
        self._partitions: dict[str, list[int]] = {}
        # (source topic, source partition) -> (target topic, target partition or None: by key)
        self._routes: dict[tuple[str, int], tuple[str, int | None]] = {}
        self._open: dict[tuple[str, int], Any] = {}  # (target, partition) -> BatchBuilder
        self._partitioner = DefaultPartitioner()
        self._handovers = Handovers()  # batches whose put_many/flush was cancelled, per slot

    def target(self, source_topic: str) -> str:
        venue, channel = venue_channel(source_topic)
        return replay_topic(self.run_id, venue, channel, self.prefix)

    async def start(self, source_partitions: Mapping[str, int]) -> list[str]:
        """Create the replay topics for the source topics (topic -> partitions it had, at
        least) and start the producer; returns the replay topics."""
        by_target: dict[str, int] = {}
        for source, n in source_partitions.items():
            t = self.target(source)
            by_target[t] = max(by_target.get(t, 1), n)
        for n in sorted(set(by_target.values())):
            await ensure_topics(self.bootstrap, [t for t, k in by_target.items() if k == n],
                                partitions=n, configs=self.topic_configs)
        self._producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap,
                                          **{**client_options(), **self._options})
        await start_with_retry(self._producer, self.bootstrap, 30.0)
        for t in by_target:  # what the topics really have (they may have existed before)
            self._partitions[t] = sorted(await self._producer.partitions_for(t))
        return sorted(by_target)

    def _route(self, topic: str, partition: int) -> tuple[str, int | None]:
        target = self.target(topic)
        if target not in self._partitions:
            raise KeyError(f"{topic} was not announced to KafkaSink.start()")
        # Same partition as on the source when the replay topic has it, else by key.
        return target, partition if partition < len(self._partitions[target]) else None

    async def put_many(self, records: list[FileRecord]) -> None:
        routes, open_batches = self._routes, self._open
        last: tuple[str, int] | None = None  # records come in runs of one source partition
        slot: tuple[str, int] = ("", 0)
        keyed = False
        record: FileRecord | None = None
        try:
            for record in records:
                source = (record["topic"], record["partition"])
                if source != last:
                    route = routes.get(source)
                    if route is None:
                        route = routes[source] = self._route(*source)
                    last = source
                    keyed = route[1] is None
                    slot = (route[0], route[1] or 0)
                if keyed:
                    parts = self._partitions[slot[0]]
                    slot = (slot[0], self._partitioner(record["key"], parts, parts))
                batch = open_batches.get(slot)
                if batch is None:
                    batch = open_batches[slot] = self._new_batch()
                headers = [(h["key"], h["value"]) for h in record["headers"]]
                if batch.append(timestamp=record["timestamp"], key=record["key"],
                                value=record["value"], headers=headers) is None:
                    # Full: out of `_open` before it is handed over, then the next one.
                    full, batch = batch, self._new_batch()
                    open_batches[slot] = batch
                    await self._submit(slot, full)
                    if batch.append(timestamp=record["timestamp"], key=record["key"],
                                    value=record["value"], headers=headers) is None:
                        raise ValueError(f"record {record['topic']}[{record['partition']}]@"
                                         f"{record['offset']} is larger than a producer batch")
        except BaseException:
            # Cancelled (or failed) at `record`: the records before it are the sink's (in
            # batches it delivers or counts failed), that one and those after it are not.
            self.sent += next(i for i, r in enumerate(records) if r is record)
            raise
        self.sent += len(records)

    def _new_batch(self) -> Any:
        assert self._producer is not None, "KafkaSink.start() first"
        return self._producer.create_batch()

    async def _submit(self, slot: tuple[str, int], batch: Any) -> None:
        """Hand a batch to aiokafka, after any batch of its partition handed over before."""
        try:
            if self._handovers.pending(slot):
                await self._handovers.ahead(slot)
            await self._send(slot, batch)
        except asyncio.CancelledError:
            # Cancelled while aiokafka waited (for room behind the partition's previous batch,
            # for a topic's metadata): aiokafka had not taken the batch, the sink had. It is
            # sent from a task of the sink's own, in its partition's order; close() waits.
            self._handovers.hand_over(slot, functools.partial(self._send, slot, batch),
                                      functools.partial(self._not_sent, batch.record_count()))
            raise
        except Exception as exc:  # no room within request_timeout_ms, producer closed, ...
            self._not_sent(batch.record_count(), exc)
            raise

    async def _send(self, slot: tuple[str, int], batch: Any) -> None:
        if self._producer is None:
            raise RuntimeError("the replay sink is closed")
        fut = await self._producer.send_batch(batch, slot[0], partition=slot[1])
        fut.add_done_callback(functools.partial(self._delivered, batch.record_count()))

    async def flush(self) -> None:
        """Hand every open batch to the producer (the replay is about to wait). One at a time
        out of `_open`: if the flush is cancelled, those not handed yet stay there."""
        open_batches = self._open
        for slot in list(open_batches):
            batch = open_batches.pop(slot)
            if batch.record_count():
                await self._submit(slot, batch)

    def _delivered(self, records: int, fut: asyncio.Future[Any]) -> None:
        if fut.cancelled() or fut.exception() is not None:
            self._not_sent(records, asyncio.CancelledError("delivery cancelled")
                           if fut.cancelled() else fut.exception())

    def _not_sent(self, records: int, exc: BaseException | None) -> None:
        self.errors += records
        log.error("replay delivery of %d records failed (%d so far): %s", records,
                  self.errors, "cancelled" if isinstance(exc, asyncio.CancelledError) else exc)

    async def close(self) -> None:
        """Deliver everything the sink took: the open batches, the batches handed over by a
        cancelled put_many/flush, what the producer holds. If the close itself is cancelled or
        fails, what was not delivered is counted in `errors`: every record counted in `sent`
        is then either on its replay topic or in `errors`."""
        if self._producer is None:
            return
        try:
            await self.flush()
            await self._handovers.wait()
            await self._producer.flush()
        finally:
            self._handovers.cancel()
            await self._handovers.wait()
            left = sum(b.record_count() for b in self._open.values())
            self._open.clear()
            if left:
                self._not_sent(left, RuntimeError("the replay stopped before they were sent"))
            try:
                await self._producer.stop()  # delivers (or fails) what aiokafka holds
            finally:
                self._producer = None
            await asyncio.sleep(0)  # delivery callbacks of the last batches run now


class QueueSink:
    """Typed events into any IQueue (an AsyncioQueue for a backtest, a KafkaQueue, ...)."""

    def __init__(self, queue: IQueue, decoder: Decoder | None = None) -> None:
        self.queue = queue
        self.decode = decoder or Decoder()
        self.sent = 0

    async def put_many(self, records: list[FileRecord]) -> None:
        decode, queue = self.decode, self.queue
        for record in records:
            event = decode(record)
            if event is not None:
                await queue.publish(event)
                self.sent += 1

    async def flush(self) -> None:
        pass

    async def close(self) -> None:
        await self.queue.flush()


class PrintSink:
    """One JSON object per event on stdout (as `ttxt tail --meta` prints them)."""

    def __init__(self, out: TextIO | None = None, decoder: Decoder | None = None) -> None:
        self.out = out or sys.stdout
        self.decode = decoder or Decoder()
        self.sent = 0

    async def put_many(self, records: list[FileRecord]) -> None:
        for record in records:
            event = self.decode(record)
            if event is None:
                continue
            line = event_to_dict(event)
            line.update(_topic=record["topic"], _partition=record["partition"],
                        _offset=record["offset"], _ts=record["timestamp"])
            self.out.write(json.dumps(line, separators=(",", ":")) + "\n")
            self.sent += 1

    async def flush(self) -> None:
        self.out.flush()

    async def close(self) -> None:
        self.out.flush()
