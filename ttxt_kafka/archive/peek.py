"""Read an event's type, symbol and exchange time from its bytes without decoding the body.

Every ttxt event schema starts with the common header `venue, symbol, native_symbol (string),
exchange_ts (long)` (see `ttxt_kafka.events.Event`). In Avro binary those are three
length-prefixed strings and a varint right after the 10-byte single-object prefix, so reading
them costs a few varint steps — the recorder does it for every record it stores, and the Kafka
replayer for every record it merges.

A record in the Confluent wire format (`00` + 4-byte schema id) has the same body after its
5-byte prefix; its type comes from the schema the registry holds under the id (asked once per id
through the codec's Confluent reader). An id that does not resolve (unknown, registry
unreachable, no registry configured) makes the record "not a ttxt event": the recorder keeps it
as raw bytes, as it does any record it cannot read.

A value whose fingerprint is known but whose body does not decode with that schema (cut short,
bytes after its end) is not an event: `peek` says None, so it is stored raw, never filed under
an event type with a time read from its first bytes. The body is checked by stepping over it
(`skip.compile_checker`: a regular expression for the usual records), not by decoding it.
"""

from __future__ import annotations

import io
import logging
from typing import Any, NamedTuple

from fastavro import parse_schema, schemaless_reader

from ttxt_kafka.codec import DEFAULT_CODEC, Codec, CodecError
from ttxt_kafka.registry import MAGIC, REGISTRY, Registry
from ttxt_kafka.schemas import plain_times

from .ocf import FormatError
from .ocf import decode_long as _long
from .skip import Skipper, compile_checker

log = logging.getLogger(__name__)

_MAGIC0, _MAGIC1 = MAGIC
_COMMON = (("venue", "string"), ("symbol", "string"), ("native_symbol", "string"),
           ("exchange_ts", "long"))


class Peek(NamedTuple):
    type: str
    symbol: str
    exchange_ts: int  # microseconds


# Body checkers per writer fingerprint, shared by every Peeker (compiling one takes a moment).
_CHECKERS: dict[bytes, Skipper | None] = {}


def _checker(fp: bytes, schema: Any) -> Skipper | None:
    try:
        return _CHECKERS[fp]
    except KeyError:
        check = _CHECKERS[fp] = compile_checker(schema)
        return check


def _has_common_header(schema: Any) -> bool:
    fields = plain_times(schema).get("fields", []) if isinstance(schema, dict) else []
    return len(fields) >= 4 and all(
        f.get("name") == name and f.get("type") == kind
        for f, (name, kind) in zip(fields, _COMMON, strict=False)
    )


class Peeker:
    """`peek(value)` for the writer schemas a registry knows (cached per fingerprint)."""

    def __init__(self, registry: Registry | None = None, codec: Codec | None = None) -> None:
        self._registry = registry or REGISTRY
        self._codec = codec or (DEFAULT_CODEC if self._registry is REGISTRY
                                else Codec(self._registry))
        self._types: dict[bytes, str | None] = {}  # fingerprint -> type name, None: no header
        self._ids: dict[bytes, str | None] = {}  # Confluent schema id (4 bytes) -> the same
        self._symbols: dict[bytes, str] = {}
        self._checks: dict[bytes, Skipper] = {}  # fingerprint or schema id -> body check
        self.unresolved_ids = 0  # Confluent records whose schema id did not resolve

    def _type_of_id(self, sid: bytes) -> str | None:
        try:
            return self._ids[sid]
        except KeyError:
            pass
        try:
            reader = self._codec.confluent_reader()
            fp, schema = reader.writer(int.from_bytes(sid, "big"))
        except CodecError as exc:  # not cached: the registry may answer later
            self.unresolved_ids += 1
            if self.unresolved_ids <= 10 or self.unresolved_ids % 1000 == 0:
                log.warning("Confluent schema id %d not resolved (%d so far): %s",
                            int.from_bytes(sid, "big"), self.unresolved_ids, exc)
            return None
        found = self._registry.by_name.get(str(schema.get("name", "")).rsplit(".", 1)[-1])
        name = found.name if found is not None and _has_common_header(schema) else None
        if name is not None:
            known = self._registry.writers.get(fp)
            parsed = known[1].parsed if known is not None else parse_schema(plain_times(schema))
            self._checks[sid] = _checker(fp, schema) or _decodes(parsed)
        self._ids[sid] = name
        return name

    def _type_of(self, fp: bytes) -> str | None:
        try:
            return self._types[fp]
        except KeyError:
            pass
        found = self._registry.writers.get(fp)
        name = None
        if found is not None and _has_common_header(found[1].schema):
            name = found[1].name
            check = _checker(fp, found[1].schema)
            # No checker (a schema it cannot compile, none of ours): fastavro decides.
            self._checks[fp] = check or _decodes(found[1].parsed)
        if found is not None:  # unknown fingerprints are not cached: they may be added later
            self._types[fp] = name
        return name

    def peek(self, value: bytes | None) -> Peek | None:
        """(type, symbol, exchange_ts) of a ttxt event, None for anything else."""
        found = self.peek_raw(value)
        return None if found is None else Peek(*found[:3])

    def peek_raw(self, value: bytes | None) -> tuple[str, str, int, int, int] | None:
        """As `peek`, plus where the exchange time's varint starts and ends in `value` (the
        recorder copies those bytes: they are the Avro `long` of its `ts` field)."""
        if value is None or len(value) < 9:
            return None
        if value[0] == _MAGIC0 and value[1] == _MAGIC1 and len(value) >= 14:
            key = value[2:10]
            name = self._types.get(key) or self._type_of(key)
            body = 10
        elif value[0] == 0:  # Confluent framing
            key = value[1:5]
            name = self._ids.get(key) or self._type_of_id(key)
            body = 5
        else:
            return None
        if name is None:
            return None
        # The recorder calls this for every record: the usual one-byte string lengths
        # (even bytes below 0x80: zigzag of a small positive length) are handled inline.
        try:
            n = value[body]
            pos = (body + 1 + (n >> 1) if n < 0x80 and not n & 1
                   else _string(value, body)[1])  # venue
            n = value[pos]
            if n < 0x80 and not n & 1:
                start = pos + 1
                pos = start + (n >> 1)
            else:
                start, pos = _string(value, pos)
            symbol = self._symbols.get(value[start:pos])
            if symbol is None:
                symbol = self._symbol(value[start:pos])
            n = value[pos]  # native_symbol
            pos = pos + 1 + (n >> 1) if n < 0x80 and not n & 1 else _string(value, pos)[1]
            ts, end = _long(value, pos)
        except (IndexError, FormatError, UnicodeDecodeError):
            return None
        if not self._checks[key](value, body):
            return None  # a known fingerprint, a body that does not decode: not an event
        return name, symbol, ts, pos, end

    def body_check(self, value: bytes) -> tuple[Skipper, int]:
        """The body check `peek_raw` ran for `value` (a value it said is an event), and where
        the body starts: the recorder runs it alone on the next records of the same ticker."""
        if value[0] == _MAGIC0:
            return self._checks[value[2:10]], 10
        return self._checks[value[1:5]], 5

    def _symbol(self, raw: bytes) -> str:
        symbol = raw.decode()
        if len(self._symbols) < 100_000:
            self._symbols[raw] = symbol
        return symbol


def _decodes(parsed: Any) -> Skipper:
    def check(data: bytes, pos: int) -> bool:
        fo = io.BytesIO(data)
        fo.seek(pos)
        try:
            schemaless_reader(fo, parsed, None)
        except Exception:  # fastavro raises many kinds on broken bodies
            return False
        return fo.tell() == len(data)

    return check


def _string(buf: bytes, pos: int) -> tuple[int, int]:
    """(start, end) of the Avro string at `pos`; IndexError if it does not fit."""
    n = buf[pos]
    if n < 0x80:  # the usual one-byte length
        length, pos = n >> 1, pos + 1
        if n & 1:
            raise IndexError("negative string length")
    else:
        length, pos = _long(buf, pos)
        if length < 0:
            raise IndexError("negative string length")
    end = pos + length
    if end > len(buf):
        raise IndexError("string runs past the end")
    return pos, end


DEFAULT_PEEKER = Peeker()
peek = DEFAULT_PEEKER.peek
