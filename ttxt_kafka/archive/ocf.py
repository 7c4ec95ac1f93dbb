"""The recorder's file format: standard Avro Object Container Files, written block by block.

A file is the OCF header (magic `Obj\\x01`, metadata map with `avro.schema` and `avro.codec`,
16-byte sync marker) followed by blocks: record count, byte size, the records (compressed with
the file's codec), the sync marker. Any Avro reader (`fastavro.reader`, `avro-tools tojson`,
Spark, DuckDB's avro extension) reads these files as they are.

We write the blocks ourselves rather than through `fastavro.Writer` because the recorder needs
what the writer hides: the byte position and extent of every block (for the index and for
cutting a torn tail), one write call per block, and the fsync in between. The records of a block
are encoded in one C call by treating them as an Avro array: an array is `count, items..., 0`,
so the block body is that encoding without its first varint and its last byte.
"""

from __future__ import annotations

import io
import json
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any, TypedDict

from fastavro import parse_schema, schemaless_reader, schemaless_writer

from ttxt_kafka.schemas import plain_times

MAGIC = b"Obj\x01"
SYNC_SIZE = 16
FORMAT_VERSION = "1"
CODECS = ("null", "deflate", "zstandard")
# The recorder's default: deflate, which every Avro reader reads (DuckDB's avro extension,
# polars, Python `avro`, fastavro, Java avro-tools), where zstandard is refused by DuckDB and
# polars and needs an extra package for Python `avro`/fastavro. Level 1: measured on the
# benchmark's book deltas, within a few % of zstandard's speed and ~10% larger files, where
# the zlib default (6) is ~1.5x slower for ~4% smaller files (README, Recorder performance).
DEFAULT_CODEC = "deflate"
DEFLATE_LEVEL = 1

_isal: ModuleType | None
try:  # Intel's ISA-L: the same raw DEFLATE stream at ~3x zlib's speed (level 1, ratio no worse)
    from isal import isal_zlib as _isal
except ImportError:  # a platform without its wheel: zlib, slower, same format
    _isal = None

# Metadata keys of our own, beside Avro's `avro.schema` / `avro.codec`.
META_FORMAT = "ttxt.format"
META_STREAM = "ttxt.stream"
META_CREATED = "ttxt.created_us"


class FormatError(ValueError):
    """Bytes that are not (or no longer) a valid recorder file or block."""


class Header(TypedDict):
    key: str
    value: bytes | None


class FileRecord(TypedDict):
    """One Kafka record as stored in a file (the Avro record `ttxt.recorder.KafkaRecord`)."""

    ts: int
    type: str
    topic: str
    partition: int
    offset: int
    timestamp: int
    key: bytes | None
    headers: list[Header]
    value: bytes | None


RECORD_SCHEMA: dict[str, Any] = {
    "type": "record",
    "name": "KafkaRecord",
    "namespace": "ttxt.recorder",
    "doc": "One Kafka record, kept byte for byte, plus the exchange time and event type "
    "read from the event's header at record time (so seeks and merges never decode values).",
    "fields": [
        {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-micros"},
         "doc": "Exchange time, microseconds since the Unix epoch, from the event header; "
                "the Kafka timestamp x 1000 when the value is not a ttxt event."},
        {"name": "type", "type": "string",
         "doc": "Event type (Avro record name, e.g. OrderBook); empty when the value is not "
                "a known ttxt event."},
        {"name": "topic", "type": "string"},
        {"name": "partition", "type": "int"},
        {"name": "offset", "type": "long"},
        {"name": "timestamp", "type": {"type": "long", "logicalType": "timestamp-millis"},
         "doc": "Kafka record timestamp, milliseconds."},
        {"name": "key", "type": ["null", "bytes"]},
        {"name": "headers", "type": {"type": "array", "items": {
            "type": "record", "name": "Header",
            "fields": [{"name": "key", "type": "string"},
                       {"name": "value", "type": ["null", "bytes"]}],
        }}},
        {"name": "value", "type": ["null", "bytes"], "doc": "The Kafka value, exactly."},
    ],
}

# Files name the times' logical types (other readers show timestamps); ours reads the ints.
_ARRAY = parse_schema({"type": "array", "items": plain_times(RECORD_SCHEMA)})
_META = parse_schema({"type": "map", "values": "bytes"})
SCHEMA_JSON = json.dumps(RECORD_SCHEMA, separators=(",", ":"))


# ---------------------------------------------------------------- varints (Avro long)


def encode_long(n: int) -> bytes:
    """Avro `long`: zigzag, then base-128 varint."""
    n = (n << 1) ^ (n >> 63)
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def decode_long(buf: bytes | memoryview, pos: int) -> tuple[int, int]:
    """(value, position after it); IndexError when the buffer ends inside the varint."""
    b = buf[pos]
    pos += 1
    n = b & 0x7F
    shift = 7
    while b & 0x80:
        if shift > 63:
            raise FormatError("varint longer than 10 bytes")
        b = buf[pos]
        pos += 1
        n |= (b & 0x7F) << shift
        shift += 7
    return (n >> 1) ^ -(n & 1), pos


# ---------------------------------------------------------------- codecs


_ZSTD: Any = None


def _zstd() -> Any:
    """The zstd module, imported once (a failed import is not cached by Python: retrying
    `compression.zstd` for every block cost more than the decompression)."""
    global _ZSTD
    if _ZSTD is None:
        try:
            from compression import zstd  # type: ignore[import-not-found]  # Python 3.14+
        except ImportError:
            from backports import zstd  # type: ignore[import-not-found,no-redef]
        _ZSTD = zstd
    return _ZSTD


def check_codec(codec: str) -> str:
    if codec not in CODECS:
        raise ValueError(f"unknown codec {codec!r}: use one of {', '.join(CODECS)}")
    return codec


def compress(codec: str, data: bytes) -> bytes:
    if codec == "null":
        return data
    if codec == "deflate":  # Avro's deflate is raw DEFLATE (RFC 1951): no zlib header
        if _isal is not None:
            return _isal.compress(data, DEFLATE_LEVEL, -15)
        c = zlib.compressobj(DEFLATE_LEVEL, zlib.DEFLATED, -15)
        return c.compress(data) + c.flush()
    if codec == "zstandard":
        return bytes(_zstd().compress(data))
    raise ValueError(f"unknown codec {codec!r}")


def decompress(codec: str, data: bytes) -> bytes:
    if codec == "null":
        return data
    try:
        if codec == "deflate":
            return (_isal or zlib).decompress(data, -15)
        if codec == "zstandard":
            return bytes(_zstd().decompress(data))
    except Exception as exc:  # zlib.error, zstd.ZstdError: all mean "not valid compressed data"
        raise FormatError(f"{codec} data does not decompress ({exc})") from exc
    raise FormatError(f"unsupported codec {codec!r}")


# ---------------------------------------------------------------- header


@dataclass(frozen=True, slots=True)
class FileHeader:
    codec: str
    sync: bytes
    meta: dict[str, bytes]
    size: int  # bytes from the start of the file to the first block

    @property
    def stream(self) -> str:
        return self.meta.get(META_STREAM, b"").decode()


def encode_header(codec: str, sync: bytes, meta: Mapping[str, bytes]) -> bytes:
    if len(sync) != SYNC_SIZE:
        raise ValueError("sync marker must be 16 bytes")
    buf = io.BytesIO()
    buf.write(MAGIC)
    full = {"avro.schema": SCHEMA_JSON.encode(), "avro.codec": check_codec(codec).encode(),
            META_FORMAT: FORMAT_VERSION.encode(), **meta}
    schemaless_writer(buf, _META, full)
    buf.write(sync)
    return buf.getvalue()


def read_header(data: bytes) -> FileHeader:
    """Parse the header at the start of `data` (which must hold all of it)."""
    if data[:4] != MAGIC:
        raise FormatError("not an Avro object container file (bad magic)")
    fo = io.BytesIO(data)
    fo.seek(4)
    try:
        meta = schemaless_reader(fo, _META, None)
    except Exception as exc:
        raise FormatError(f"unreadable header ({type(exc).__name__}: {exc})") from exc
    if not isinstance(meta, dict):
        raise FormatError("unreadable header metadata")
    sync = fo.read(SYNC_SIZE)
    if len(sync) != SYNC_SIZE:
        raise FormatError("header ends before its sync marker")
    codec = meta.get("avro.codec", b"null").decode()
    if codec not in CODECS:
        raise FormatError(f"unsupported codec {codec!r}")
    schema = json.loads(meta.get("avro.schema", b"{}"))
    if schema.get("name") != RECORD_SCHEMA["name"] or schema.get("namespace") != "ttxt.recorder":
        raise FormatError(f"not a ttxt recorder file (schema {schema.get('name')!r})")
    return FileHeader(codec, sync, meta, fo.tell())


# ---------------------------------------------------------------- blocks


def encode_block(records: list[FileRecord], codec: str) -> bytes:
    """One OCF block without its trailing sync marker: count, size, (compressed) records.
    The writer appends the file's sync marker."""
    count = len(records)
    if count == 0:
        raise ValueError("empty block")
    buf = io.BytesIO()
    schemaless_writer(buf, _ARRAY, records)
    array = buf.getbuffer()
    head = encode_long(count)
    return frame_block(count, bytes(array[len(head):-1]), codec)


def frame_block(count: int, data: bytes, codec: str) -> bytes:
    """One OCF block from its records' bytes (`count` Avro `KafkaRecord`s one after the other,
    uncompressed), without the trailing sync marker."""
    body = compress(codec, data)
    return b"".join((encode_long(count), encode_long(len(body)), body))


@dataclass(frozen=True, slots=True)
class RawBlock:
    count: int
    body: bytes  # still compressed
    end: int  # position after the sync marker


def parse_block(buf: bytes | memoryview, pos: int, sync: bytes) -> RawBlock:
    """The block starting at `pos` in `buf`. Raises IndexError when `buf` ends inside it
    (a block not yet, or only partly, written) and FormatError when it is not a block."""
    count, p = decode_long(buf, pos)
    size, p = decode_long(buf, p)
    if count <= 0 or size < 0:
        raise FormatError(f"bad block header (count {count}, size {size})")
    end = p + size + SYNC_SIZE
    if end > len(buf):
        raise IndexError("block extends past the end of the data")
    if bytes(buf[p + size:end]) != sync:
        raise FormatError("sync marker mismatch after the block")
    return RawBlock(count, bytes(buf[p:p + size]), end)


def decode_records(block: RawBlock, codec: str) -> list[FileRecord]:
    """The records of a block, checked against its count."""
    data = decompress(codec, block.body)
    fo = io.BytesIO(b"".join((encode_long(block.count), data, b"\x00")))
    try:
        records = schemaless_reader(fo, _ARRAY, None)
    except Exception as exc:  # fastavro raises many kinds on garbage
        raise FormatError(f"records do not decode ({type(exc).__name__}: {exc})") from exc
    if not isinstance(records, list) or len(records) != block.count or fo.tell() != len(
        fo.getbuffer()
    ):
        raise FormatError(f"block holds other than the {block.count} records it announces")
    return records  # type: ignore[return-value]
