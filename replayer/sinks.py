"""Where replayed records go: replay topics, any IQueue (typed events), or stdout.

The Kafka sink republishes each record as it was: key, timestamp, headers and value bytes
unchanged, on `<prefix>.replay.<run-id>.<venue>.<channel>`, into the partition it came from
(the replay topics are created with as many partitions as the recording used, and with
`retention.ms=-1`: see REPLAY_TOPIC_CONFIGS), with the platform's producer settings —
pipelined, never one awaited round trip per record.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Mapping
from typing import Any, TextIO

from aiokafka import AIOKafkaProducer

from recorder.ocf import FileRecord
from ttxt_kafka.admin import ensure_topics
from ttxt_kafka.bus.interfaces import IQueue
from ttxt_kafka.bus.kafka_queue import producer_defaults, start_with_retry
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
            self.undecodable += 1
            if self.undecodable <= 10 or self.undecodable % 1000 == 0:
                log.warning("%s[%d]@%d skipped (%d so far): %s", record["topic"],
                            record["partition"], record["offset"], self.undecodable, exc)
            return None


class KafkaSink:
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
        self._routes: dict[tuple[str, int], tuple[str, int | None]] = {}
        self._partitions: dict[str, int] = {}

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
        self._producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, **self._options)
        await start_with_retry(self._producer, self.bootstrap, 30.0)
        for t in by_target:  # what the topics really have (they may have existed before)
            self._partitions[t] = len(await self._producer.partitions_for(t))
        return sorted(by_target)

    def _route(self, topic: str, partition: int) -> tuple[str, int | None]:
        target = self.target(topic)
        # Same partition as on the source when the replay topic has it, else by key.
        return target, partition if partition < self._partitions.get(target, 0) else None

    async def put(self, record: FileRecord) -> None:
        assert self._producer is not None, "KafkaSink.start() first"
        route = self._routes.get((record["topic"], record["partition"]))
        if route is None:
            route = self._routes[(record["topic"], record["partition"])] = self._route(
                record["topic"], record["partition"])
        fut = await self._producer.send(
            route[0], value=record["value"], key=record["key"], partition=route[1],
            timestamp_ms=record["timestamp"],
            headers=[(h["key"], h["value"]) for h in record["headers"]],
        )
        fut.add_done_callback(self._delivered)
        self.sent += 1

    def _delivered(self, fut: asyncio.Future[Any]) -> None:
        if fut.cancelled() or fut.exception() is not None:
            self.errors += 1
            if self.errors <= 10:
                log.error("replay delivery failed: %s",
                          "cancelled" if fut.cancelled() else fut.exception())

    async def close(self) -> None:
        if self._producer is not None:
            try:
                await self._producer.flush()
            finally:
                await self._producer.stop()
                self._producer = None


class QueueSink:
    """Typed events into any IQueue (an AsyncioQueue for a backtest, a KafkaQueue, ...)."""

    def __init__(self, queue: IQueue, decoder: Decoder | None = None) -> None:
        self.queue = queue
        self.decode = decoder or Decoder()
        self.sent = 0

    async def put(self, record: FileRecord) -> None:
        event = self.decode(record)
        if event is not None:
            await self.queue.publish(event)
            self.sent += 1

    async def close(self) -> None:
        await self.queue.flush()


class PrintSink:
    """One JSON object per event on stdout (as `ttxt tail --meta` prints them)."""

    def __init__(self, out: TextIO | None = None, decoder: Decoder | None = None) -> None:
        self.out = out or sys.stdout
        self.decode = decoder or Decoder()
        self.sent = 0

    async def put(self, record: FileRecord) -> None:
        event = self.decode(record)
        if event is None:
            return
        line = event_to_dict(event)
        line.update(_topic=record["topic"], _partition=record["partition"],
                    _offset=record["offset"], _ts=record["timestamp"])
        self.out.write(json.dumps(line, separators=(",", ":")) + "\n")
        self.sent += 1

    async def close(self) -> None:
        self.out.flush()
