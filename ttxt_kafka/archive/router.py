"""From a Kafka record to what the recorder stores, and in which stream.

A ttxt event (recognized by its single-object prefix and known schema) gives its type, symbol
and exchange time from its header fields (`peek`). Anything else on a market-data topic —
garbage, a schema this recorder does not know, a tombstone — is still archived exactly as it
is (the files are the archive of the topics: a replay must give back what was there, and a gap
in the offsets would look like loss), with `type` empty, `ts` = the Kafka timestamp, in the
stream of the ticker its key names (`<EXCHANGE>_UNKNOWN` without a usable key). Those records
are counted and logged; the typed in-process replay skips them, the Kafka replay republishes them.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from typing import Any

from ttxt_kafka.archive.encoder import symbol_from_key
from ttxt_kafka.archive.naming import stream_name
from ttxt_kafka.archive.ocf import FileRecord, Header
from ttxt_kafka.archive.peek import Peeker
from ttxt_kafka.topics import DEFAULT_PREFIX, parse_topic

log = logging.getLogger(__name__)

_MAX_CACHED_HEADERS = 4096


class Router:
    def __init__(self, prefix: str = DEFAULT_PREFIX, peeker: Peeker | None = None) -> None:
        self.prefix = prefix
        self.peeker = peeker or Peeker()
        self._peek = self.peeker.peek
        self._venues: dict[str, str] = {}
        self._headers: dict[Sequence[tuple[str, bytes]], list[Header]] = {}
        self.unparsed = 0

    def venue_of(self, topic: str) -> str:
        venue = self._venues.get(topic)
        if venue is None:
            parsed = parse_topic(topic, self.prefix)
            # A topic outside the naming scheme (a custom --topics regex): its name stands in.
            venue = self._venues[topic] = parsed.venue if parsed else topic
        return venue

    def headers_of(self, headers: Sequence[tuple[str, bytes]]) -> list[Header]:
        # Records of a topic nearly always carry the same headers: convert each set once.
        # The lists are shared between records and never mutated.
        try:
            return self._headers[headers]
        except (KeyError, TypeError):
            pass
        converted: list[Header] = [{"key": k, "value": v} for k, v in headers]
        if len(self._headers) < _MAX_CACHED_HEADERS:
            with contextlib.suppress(TypeError):  # an unhashable sequence: not cached
                self._headers[headers] = converted
        return converted

    def route(self, record: Any) -> tuple[str, str, FileRecord]:
        """(stream, symbol, stored record) of an aiokafka ConsumerRecord."""
        value = record.value
        peeked = self._peek(value)
        if peeked is not None:
            kind, symbol, ts = peeked
        else:
            self.unparsed += 1
            if self.unparsed <= 10 or self.unparsed % 1000 == 0:  # rate-limited
                log.warning("%s[%d]@%d is not a ttxt event (%d so far): kept as raw bytes",
                            record.topic, record.partition, record.offset, self.unparsed)
            kind, ts = "", (record.timestamp or 0) * 1000
            symbol = symbol_from_key(record.key)
        stream = stream_name(self.venue_of(record.topic), symbol)
        return stream, symbol, {
            "ts": ts, "type": kind, "topic": record.topic, "partition": record.partition,
            "offset": record.offset, "timestamp": record.timestamp or 0, "key": record.key,
            "headers": self.headers_of(record.headers), "value": value,
        }

