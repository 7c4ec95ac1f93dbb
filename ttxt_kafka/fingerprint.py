"""CRC-64-AVRO schema fingerprints (Avro spec, "Schema Fingerprints")."""

from __future__ import annotations

from typing import Any

from fastavro.schema import to_parsing_canonical_form

_EMPTY = 0xC15D213AA4D7A795


def _table() -> list[int]:
    table = []
    for i in range(256):
        fp = i
        for _ in range(8):
            fp = (fp >> 1) ^ (_EMPTY & -(fp & 1))
        table.append(fp)
    return table


_TABLE = _table()


def crc64_avro(data: bytes) -> int:
    fp = _EMPTY
    for byte in data:
        fp = (fp >> 8) ^ _TABLE[(fp ^ byte) & 0xFF]
    return fp


def canonical_form(schema: Any) -> str:
    """The schema's Parsing Canonical Form (what the fingerprint is taken of)."""
    return str(to_parsing_canonical_form(schema))


def schema_fingerprint(schema: Any) -> bytes:
    """8-byte little-endian CRC-64-AVRO fingerprint, as single-object encoding writes it."""
    return crc64_avro(canonical_form(schema).encode("utf-8")).to_bytes(8, "little")
