"""Read an event's type, symbol and exchange time from its bytes without decoding the body.

Every ttxt event schema starts with the common header `venue, symbol, native_symbol (string),
exchange_ts (long)` (see `ttxt_kafka.events.Event`). In Avro binary those are three
length-prefixed strings and a varint right after the 10-byte single-object prefix, so reading
them costs a few varint steps — the recorder does it for every record it stores, and the Kafka
replayer for every record it merges.

A value whose fingerprint is known but whose body does not decode with that schema (cut short,
bytes after its end) is not an event: `peek` says None, so it is stored raw, never filed under
an event type with a time read from its first bytes. The body is checked by stepping over it
(`skip.compile_checker`: a regular expression for the usual records), not by decoding it.
"""

from __future__ import annotations

import io
from typing import Any, NamedTuple

from fastavro import schemaless_reader

from ttxt_kafka.registry import MAGIC, REGISTRY, Registry

from .ocf import FormatError
from .ocf import decode_long as _long
from .skip import Skipper, compile_checker

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
    fields = schema.get("fields", []) if isinstance(schema, dict) else []
    return len(fields) >= 4 and all(
        f.get("name") == name and f.get("type") == kind
        for f, (name, kind) in zip(fields, _COMMON, strict=False)
    )


class Peeker:
    """`peek(value)` for the writer schemas a registry knows (cached per fingerprint)."""

    def __init__(self, registry: Registry | None = None) -> None:
        self._registry = registry or REGISTRY
        self._types: dict[bytes, str | None] = {}  # fingerprint -> type name, None: no header
        self._symbols: dict[bytes, str] = {}
        self._checks: dict[bytes, Skipper] = {}  # fingerprint -> body check

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
        if value is None or len(value) < 14 or value[0] != _MAGIC0 or value[1] != _MAGIC1:
            return None
        name = self._types.get(value[2:10]) or self._type_of(value[2:10])
        if name is None:
            return None
        # The recorder calls this for every record: the usual one-byte string lengths
        # (even bytes below 0x80: zigzag of a small positive length) are handled inline.
        try:
            n = value[10]
            pos = 11 + (n >> 1) if n < 0x80 and not n & 1 else _string(value, 10)[1]  # venue
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
        if not self._checks[value[2:10]](value, 10):
            return None  # a known fingerprint, a body that does not decode: not an event
        return name, symbol, ts, pos, end

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
