"""Avro single-object encoding of events (and, through `ttxt_kafka.confluent`, the Confluent
wire format beside it).

Wire form (Avro spec, "Single object encoding"): `C3 01`, the 8-byte little-endian CRC-64-AVRO
fingerprint of the writer schema, then the Avro binary body. Any Avro implementation can decode
a record with the schemas in `schemas/`; no registry service is needed.

The decoder finds the writer schema by its fingerprint and, when it is an older or newer version
than the one this code was built with, resolves it against the reader schema by Avro's rules.
Records in the Confluent wire format (first byte `00`: schema id, then the Avro body) decode too,
whatever the serialization setting: the schema registry of the settings (`ttxt_kafka.
serialization`) resolves the id once, and the record then goes the single-object way. In the
`confluent` setting `encode_for(event, topic)` frames records with the registry's ids.

Bad bytes raise `CodecError` subclasses with a message saying what is wrong; they never escape
as anything else, so a consuming loop can catch one exception type, count it and go on.
"""

from __future__ import annotations

from collections.abc import Callable
from io import BytesIO
from typing import TYPE_CHECKING, Any

from fastavro import schemaless_reader, schemaless_writer

from . import serialization
from .events import Event
from .registry import MAGIC, REGISTRY, EventType, Registry

if TYPE_CHECKING:
    from .confluent import ConfluentFraming

HEADER_LEN = 10  # magic (2) + fingerprint (8)


class CodecError(ValueError):
    """Bytes that cannot be decoded into an event (or an event that cannot be encoded)."""


class NotSingleObjectError(CodecError):
    pass


class UnknownSchemaError(CodecError):
    pass


class CorruptRecordError(CodecError):
    pass


class NoSchemaRegistryError(UnknownSchemaError):
    """A Confluent-framed record in a process with no schema registry configured: its schema id
    cannot be resolved (counted with the registry's own failures)."""


def _describe(data: bytes) -> str:
    head = data[:12]
    hint = ""
    if head[:1] in (b"{", b"["):
        hint = " (looks like JSON)"
    elif head[:1] == b"\x00" and len(data) > 5:
        hint = " (looks like Confluent schema-registry framing)"
    return f"{len(data)} bytes starting {head.hex(' ')}{hint}"


class Codec:
    """Encodes events to single-object Avro and back, using a `Registry` of event types."""

    def __init__(self, registry: Registry | None = None, *, fast: bool = True,
                 confluent: ConfluentFraming | None = None) -> None:
        """``fast=False`` skips the schema-specialized functions (``avro_fastpath``) and always
        uses fastavro: same results, slower; the tests compare the two. ``confluent``: the
        Confluent framing to produce with and to read with (default: what the serialization
        settings describe)."""
        self.registry = registry or REGISTRY
        self.fast = fast
        self._confluent = confluent
        self._settings_seen = -1  # serialization.generation the cached settings come from
        self._framing: ConfluentFraming | None = None  # producing in the confluent format
        self._reader: ConfluentFraming | None = None  # resolving Confluent ids when consuming

    # ------------------------------------------------------------ framing

    def _refresh(self) -> None:
        if self._confluent is not None:
            self._framing = self._reader = self._confluent
            return
        if self._settings_seen == serialization.generation:
            return
        s = serialization.settings()
        self._settings_seen = serialization.generation
        from .confluent import ConfluentFraming

        self._reader = ConfluentFraming.from_settings(s) if s.registry_url else None
        self._framing = self._reader if s.confluent else None

    def producer_framing(self) -> ConfluentFraming | None:
        """The Confluent framing records are produced with, None for single-object."""
        if self._settings_seen != serialization.generation:  # (cheap: once per publish)
            self._refresh()
        return self._framing

    def confluent_reader(self) -> ConfluentFraming:
        """What resolves Confluent schema ids; CodecError when no registry is configured."""
        self._refresh()
        if self._reader is None:
            raise NoSchemaRegistryError(
                "a Confluent-framed record (00 + schema id), but no schema registry is "
                "configured to resolve its id: set TTXT_SCHEMA_REGISTRY_URL "
                "(or --schema-registry)")
        return self._reader

    def encode_for(self, event: Event, topic: str) -> bytes:
        """The record for `topic`: single-object, or Confluent-framed in that setting (the
        schema registered, or looked up, under the topic's subject the first time)."""
        framing = self.producer_framing()
        if framing is None:
            return self.encode(event)
        return framing.frame(self.encode(event), framing.schema_id(topic, self.event_type(event)))

    def _single_object(self, data: bytes) -> bytes:
        if isinstance(data, bytes | bytearray | memoryview) and data[:1] == b"\x00":
            return self.confluent_reader().to_single_object(bytes(data), self.registry)
        return data

    def event_type(self, event: Event) -> EventType:
        try:
            return self.registry.by_class[type(event)]
        except KeyError:
            raise CodecError(
                f"{type(event).__name__} is not a registered event type (see register_event)"
            ) from None

    def encode(self, event: Event) -> bytes:
        et = self.event_type(event)
        fast = et.fast_encode if self.fast else None
        if fast is not None:
            try:
                return fast(event)
            except Exception:  # anything unusual: the general path below decides
                pass
        buf = BytesIO()
        buf.write(et.prefix)
        try:
            schemaless_writer(buf, et.parsed, et.to_record(event))
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            raise CodecError(f"cannot encode {et.name}: {exc}") from exc
        return buf.getvalue()

    def writer_of(self, data: bytes) -> EventType:
        """The event type a record claims to be, from its header alone (no body decoding)."""
        data = self._single_object(data)
        self._check_header(data)
        found = self.registry.writers.get(bytes(data[2:HEADER_LEN]))
        if found is None:
            raise UnknownSchemaError(self._unknown(data))
        return found[1]

    def fast_decoder(self, data: bytes) -> Callable[[bytes], Event] | None:
        """The function compiled for records with `data`'s header (single-object encoding, a
        registered schema), or None. For loops over many records of one type (a typed
        replay): they check the header with `startswith`, call it, and call `decode` when it
        raises (the general path then gives the same event or the error)."""
        if self.fast and type(data) is bytes and data[:2] == MAGIC:
            return self.registry.fast_decoders.get(data[2:HEADER_LEN])
        return None

    def decode(self, data: bytes) -> Event:
        # Fast path: a record written with a registered schema, decoded by the function
        # compiled for it (``avro_fastpath``). It returns what the general path would, or raises
        # and the general path below runs: same result, or the same error.
        if self.fast and type(data) is bytes and data[:2] == MAGIC:
            fast = self.registry.fast_decoders.get(data[2:HEADER_LEN])
            if fast is not None:
                try:
                    return fast(data)
                except Exception:  # the general path decides: same event or same error
                    pass
        elif isinstance(data, bytes | bytearray | memoryview) and data[:1] == b"\x00":
            return self.decode(self._single_object(data))  # Confluent: a header swap
        et, record = self.decode_record(data)
        try:
            return et.from_record(record)
        except (TypeError, KeyError, ValueError) as exc:
            raise CorruptRecordError(f"{et.name} record does not fit its class: {exc}") from exc

    def decode_record(self, data: bytes) -> tuple[EventType, dict[str, Any]]:
        """Decode to the Avro record (a dict, reader-schema shaped) without building the class."""
        data = self._single_object(data)
        self._check_header(data)
        fp = bytes(data[2:HEADER_LEN])
        found = self.registry.writers.get(fp)
        if found is None:
            raise UnknownSchemaError(self._unknown(data))
        writer, et = found
        # Same schema as ours: no resolution needed (the fast path).
        reader = None if fp == et.fingerprint else et.parsed
        buf = BytesIO(data)
        buf.seek(HEADER_LEN)
        try:
            record = schemaless_reader(buf, writer, reader)
        except Exception as exc:  # fastavro raises many kinds on garbage bodies
            if isinstance(exc, EOFError) or buf.tell() >= len(data):
                # The reader wanted more than there is.
                raise CorruptRecordError(f"truncated {et.name} record: {_describe(data)}") from exc
            raise CorruptRecordError(
                f"corrupt {et.name} record ({type(exc).__name__}: {exc}): {_describe(data)}"
            ) from exc
        if buf.tell() != len(data):
            raise CorruptRecordError(
                f"{len(data) - buf.tell()} unexpected trailing bytes after a {et.name} record: "
                f"{_describe(data)}"
            )
        if not isinstance(record, dict):
            raise CorruptRecordError(f"{et.name} body is not a record: {_describe(data)}")
        return et, record

    @staticmethod
    def _check_header(data: bytes) -> None:
        if not isinstance(data, bytes | bytearray | memoryview):
            raise NotSingleObjectError(f"expected bytes, got {type(data).__name__}")
        if len(data) < HEADER_LEN or data[:2] != MAGIC:
            raise NotSingleObjectError(
                f"not an Avro single-object record (expected C3 01 + 8-byte fingerprint): "
                f"{_describe(bytes(data))}"
            )

    def _unknown(self, data: bytes) -> str:
        return (
            f"unknown writer schema fingerprint {bytes(data[2:HEADER_LEN]).hex()}: none of the "
            f"{len(self.registry.writers)} known schemas; register the writer's schema "
            f"(Registry.add_writer_schema) or upgrade ttxt-kafka"
        )


DEFAULT_CODEC = Codec()


def encode(event: Event) -> bytes:
    return DEFAULT_CODEC.encode(event)


def decode(data: bytes) -> Event:
    return DEFAULT_CODEC.decode(data)
