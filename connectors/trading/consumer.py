"""The connector's side of the orders topic: a consumer group whose offsets move only past
commands whose acks are in Kafka.

One group per venue and account (`ttxt-connector.<venue>.<credentials>` by default), so two
connectors of one account share the work and never place one command twice. Rules:

* records come in batches; the caller handles every record of a batch, flushes the producer
  (the acks are durably in Kafka), and only then calls `commit(batch)`;
* a group seen for the first time starts at the end of the topic (and commits that position):
  commands written before the connector ever ran are never replayed, while commands written
  while it is down are handled when it comes back;
* each record says whether it may have been handled before (`possibly_seen`): it was already
  in the topic when this consumer got its partition, at or after the committed offset, so a
  previous owner may have sent it and crashed before committing;
* a rebalance waits for the batch in hand (`lock`), so a partition changes hands between
  batches, never inside one;
* with `instance_id` (Kafka static membership) a restarted connector takes its partitions
  back at once, instead of waiting for its crashed predecessor's session to time out.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.abc import ConsumerRebalanceListener
from aiokafka.errors import KafkaError
from aiokafka.structs import OffsetAndMetadata

from ttxt_kafka.bus.kafka_queue import start_with_retry
from ttxt_kafka.cluster import client_options

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CommandRecord:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    timestamp: int  # ms
    possibly_seen: bool

    @property
    def source(self) -> str:
        return f"{self.topic}[{self.partition}]@{self.offset}"


class CommandConsumer(ConsumerRebalanceListener):
    def __init__(self, bootstrap: str, topic: str, group_id: str, *,
                 instance_id: str | None = None, connect_timeout: float = 30.0,
                 max_records: int = 500) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.group_id = group_id
        self.instance_id = instance_id
        self.connect_timeout = connect_timeout
        self.max_records = max_records
        self.lock = asyncio.Lock()  # held while a batch is handled
        self._consumer: AIOKafkaConsumer | None = None
        self._seen_below: dict[TopicPartition, int] = {}  # end offset when assigned
        self.assigned = asyncio.Event()
        self.commits = 0

    async def start(self) -> None:
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, group_id=self.group_id,
            group_instance_id=self.instance_id, enable_auto_commit=False,
            auto_offset_reset="latest", **client_options())
        self._consumer.subscribe([self.topic], listener=self)
        await start_with_retry(self._consumer, self.bootstrap, self.connect_timeout)

    async def stop(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None

    @property
    def consumer(self) -> AIOKafkaConsumer:
        if self._consumer is None:
            raise RuntimeError("CommandConsumer used before start()")
        return self._consumer

    # ------------------------------------------------------------------ rebalance

    async def on_partitions_revoked(self, revoked: Any) -> None:
        async with self.lock:  # the batch in hand finishes (and commits) first
            for tp in revoked:
                self._seen_below.pop(tp, None)
            if not self._seen_below:
                self.assigned.clear()

    async def on_partitions_assigned(self, assigned: Any) -> None:
        consumer = self.consumer
        tps = list(assigned)
        if not tps:
            return
        ends = await consumer.end_offsets(tps)
        fresh = {}
        for tp in tps:
            committed = await consumer.committed(tp)
            self._seen_below[tp] = ends[tp]
            if committed is None:  # a new group: start at the end, replay nothing
                consumer.seek(tp, ends[tp])
                fresh[tp] = OffsetAndMetadata(ends[tp], "")
            elif committed < ends[tp]:
                log.info("%s: %d command(s) at or after the committed offset %d may have been "
                         "handled before a restart: checked before sending",
                         f"{tp.topic}[{tp.partition}]", ends[tp] - committed, committed)
        if fresh:
            await consumer.commit(fresh)
        self.assigned.set()

    # ------------------------------------------------------------------ batches

    async def fetch(self, timeout_ms: int = 200) -> list[CommandRecord]:
        batches = await self.consumer.getmany(timeout_ms=timeout_ms,
                                              max_records=self.max_records)
        out = []
        for tp, records in batches.items():
            seen_below = self._seen_below.get(tp, 0)
            out += [CommandRecord(r.topic, r.partition, r.offset, r.key, r.value, r.timestamp,
                                  r.offset < seen_below) for r in records]
        return out

    def owned(self, batch: list[CommandRecord]) -> list[CommandRecord]:
        """The records of partitions this consumer still owns (call with `lock` held: a
        partition revoked since the fetch is the next owner's, and it will see them)."""
        assigned = self.consumer.assignment()
        return [r for r in batch if TopicPartition(r.topic, r.partition) in assigned]

    async def commit(self, batch: list[CommandRecord]) -> bool:
        """Commit past every record of a handled batch (call after the acks are flushed)."""
        offsets: dict[TopicPartition, int] = {}
        for r in batch:
            tp = TopicPartition(r.topic, r.partition)
            offsets[tp] = max(offsets.get(tp, 0), r.offset + 1)
        assigned = self.consumer.assignment()
        todo = {tp: OffsetAndMetadata(off, "") for tp, off in offsets.items() if tp in assigned}
        if not todo:
            return False
        try:
            await self.consumer.commit(todo)
        except KafkaError as exc:  # the next owner re-checks these commands: nothing doubles
            log.warning("%s: offset commit failed: %s", self.topic, exc)
            return False
        self.commits += 1
        return True
