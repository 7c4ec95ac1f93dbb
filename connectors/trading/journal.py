"""Which commands already have their ack on the executions topic: the topic is the journal.

A command can come back after a crash (its offset was not committed): if its ack made it to the
topic before the crash, it must not be acked (or sent) again. The connector remembers the acks
it publishes, and for commands it may have handled before (see `CommandRecord.possibly_seen`)
reads the executions topic back from a little before the command's time, once: every
`OrderAck` there names its command id. Only the `ttxt-type` header is looked at for the other
records, so the scan is cheap.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict

from aiokafka import AIOKafkaConsumer, TopicPartition

from ttxt_kafka.cluster import client_options
from ttxt_kafka.codec import DEFAULT_CODEC, Codec, CodecError
from ttxt_kafka.events import OrderAck
from ttxt_kafka.topics import TYPE_HEADER

log = logging.getLogger(__name__)

MAX_REMEMBERED = 1_000_000  # command ids kept in memory (oldest forgotten first)


class AckJournal:
    def __init__(self, bootstrap: str, executions_topic: str, *, margin_s: float = 300.0,
                 codec: Codec | None = None) -> None:
        self.bootstrap = bootstrap
        self.topic = executions_topic
        self.margin_ms = int(margin_s * 1000)
        self.codec = codec or DEFAULT_CODEC
        self._acked: OrderedDict[str, None] = OrderedDict()
        self._scanned_since: int | None = None  # ms; the topic was read from here to its end
        self.scans = 0

    def __contains__(self, command_id: object) -> bool:
        return command_id in self._acked

    def add(self, command_id: str) -> None:
        if not command_id:
            return
        self._acked[command_id] = None
        self._acked.move_to_end(command_id)
        if len(self._acked) > MAX_REMEMBERED:
            self._acked.popitem(last=False)

    async def ensure_scanned(self, command_ts_ms: int) -> None:
        """Make sure every ack published after `command_ts_ms - margin` is known."""
        since = max(0, command_ts_ms - self.margin_ms)
        if self._scanned_since is not None and self._scanned_since <= since:
            return
        await self._scan(since)
        self._scanned_since = since

    async def _scan(self, since_ms: int) -> None:
        started = time.monotonic()
        consumer = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, enable_auto_commit=False,
                                    **client_options())
        await consumer.start()
        found = read = 0
        try:
            await consumer.topics()
            tps = [TopicPartition(self.topic, p)
                   for p in sorted(consumer.partitions_for_topic(self.topic) or ())]
            if not tps:
                return
            consumer.assign(tps)
            starts = await consumer.offsets_for_times({tp: since_ms for tp in tps})
            ends = await consumer.end_offsets(tps)
            remaining = {}
            for tp in tps:
                start = starts[tp].offset if starts.get(tp) is not None else ends[tp]
                if start < ends[tp]:
                    consumer.seek(tp, start)
                    remaining[tp] = ends[tp]
            while remaining:
                batches = await consumer.getmany(*remaining, timeout_ms=500)
                for tp, records in batches.items():
                    for r in records:
                        if r.offset >= remaining.get(tp, 0):
                            continue
                        read += 1
                        if dict(r.headers).get(TYPE_HEADER) == OrderAck.SCHEMA.encode():
                            try:
                                ack = self.codec.decode(r.value or b"")
                            except CodecError:
                                continue
                            if isinstance(ack, OrderAck):
                                self.add(ack.command_id)
                                found += 1
                    if records and records[-1].offset + 1 >= remaining.get(tp, 0):
                        remaining.pop(tp, None)
        finally:
            await consumer.stop()
            self.scans += 1
        log.info("%s: %d acks found in %d records read back (%.2fs)", self.topic, found, read,
                 time.monotonic() - started)
