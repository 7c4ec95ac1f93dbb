"""Which commands already have their ack on the executions topic: the topic is the journal.

A command can come back after a crash (its offset was not committed): if its ack made it to the
topic before the crash, it must not be acked (or sent) again. The connector remembers the acks
it publishes, and for commands it may have handled before (see `CommandRecord.possibly_seen`)
reads the executions topic back from a little before the command's time, once: every
`OrderAck` there names its command id. Only the `ttxt-type` header is looked at for the other
records, so the scan is cheap. An ack that does not decode (a schema this connector does not
know, a Confluent id its registry cannot resolve) names no command: it is counted
(`undecodable`) and logged as an error, since a command it answered could be sent again.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict

from ttxt_kafka.admin import TopicNotFound, records_since
from ttxt_kafka.bus.kafka_queue import fetch_writer_schema
from ttxt_kafka.codec import DEFAULT_CODEC, Codec, CodecError
from ttxt_kafka.events import OrderAck
from ttxt_kafka.topics import TYPE_HEADER

log = logging.getLogger(__name__)
_ACK_TYPE = OrderAck.SCHEMA.encode()  # the `ttxt-type` header value of an ack

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
        self.undecodable = 0  # acks read back that did not decode (their command is unknown)

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
        found = read = 0
        try:
            async for r in records_since(self.bootstrap, self.topic, since_ms):
                read += 1
                if dict(r.headers).get(TYPE_HEADER) != _ACK_TYPE:
                    continue
                await fetch_writer_schema(self.codec, r.value)  # a Confluent id: off the loop
                try:
                    ack = self.codec.decode(r.value or b"")
                except CodecError as exc:
                    self.undecodable += 1
                    log.error("%s[%d]@%d: an ack that does not decode (%s; %d so far): its "
                              "command, if it comes back, is not known as answered and may be "
                              "sent again", self.topic, r.partition, r.offset, exc,
                              self.undecodable)
                    continue
                if isinstance(ack, OrderAck):
                    self.add(ack.command_id)
                    found += 1
        except TopicNotFound:
            return
        finally:
            self.scans += 1
        log.info("%s: %d acks found in %d records read back (%.2fs)", self.topic, found, read,
                 time.monotonic() - started)
