"""Kafka records straight to the Avro bytes of `KafkaRecord`, the recorder's hot path.

`ocf.encode_block` hands fastavro one dict per record; building those dicts and having fastavro
interpret the 9-field schema for each was most of the recorder's cost per record. The fields of
a record repeat a lot — topic and partition per partition, key per ticker, headers per event
type — so here each of those is encoded once and cached, the value is copied as it is, and only
the exchange time, offset and Kafka timestamp are encoded per record. A record becomes a few
byte strings appended to its block's list, joined once per block (`ocf.frame_block`).

`tests/test_recorder_format.py` checks that the bytes equal fastavro's for the same records.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

from .naming import UNKNOWN_SYMBOL, stream_name
from .ocf import encode_long

_CACHE_MAX = 4096  # entries per cache: keys, header sets, streams (tickers of a recorder)

# Varint of a zigzagged non-negative number below 2**14 (one or two bytes), and the 2-byte
# group of 14 bits with both continuation bits set, for the longer ones.
_SMALL = [bytes([n]) if n < 0x80 else bytes([(n & 0x7F) | 0x80, n >> 7]) for n in range(1 << 14)]
_GROUP = [bytes([(n & 0x7F) | 0x80, (n >> 7) | 0x80]) for n in range(1 << 14)]


def zz_long(n: int) -> bytes:
    """Avro `long` (as `ocf.encode_long`), by table for the common sizes."""
    z = (n << 1) ^ (n >> 63)
    if z < 0x4000:
        return _SMALL[z]
    if z < 0x10000000:  # offsets below 2**27
        return _GROUP[z & 0x3FFF] + _SMALL[z >> 14]
    if z < 0x40000000000:  # timestamps in ms until 2109
        return _GROUP[z & 0x3FFF] + _GROUP[(z >> 14) & 0x3FFF] + _SMALL[z >> 28]
    out = [_GROUP[z & 0x3FFF]]
    z >>= 14
    while z >= 0x4000:
        out.append(_GROUP[z & 0x3FFF])
        z >>= 14
    out.append(_SMALL[z])
    return b"".join(out)


def avro_string(text: str) -> bytes:
    raw = text.encode()
    return encode_long(len(raw)) + raw


class RecordEncoder:
    """Caches of encoded fields, and which stream (file series) a record belongs to."""

    def __init__(self, venue_of: object) -> None:
        self._venue_of = venue_of  # topic -> venue (Router.venue_of)
        self._types: dict[str, bytes] = {}
        self._tps: dict[tuple[str, int], bytes] = {}
        self._keys: dict[bytes | None, bytes] = {None: b"\x00"}
        self._headers: dict[Sequence[tuple[str, bytes]], bytes] = {}
        self._streams: dict[tuple[str, str], str] = {}

    def type_bytes(self, name: str) -> bytes:
        found = self._types.get(name)
        if found is None:
            found = self._types[name] = avro_string(name)
        return found

    def tp_bytes(self, topic: str, partition: int) -> bytes:
        found = self._tps.get((topic, partition))
        if found is None:
            found = avro_string(topic) + encode_long(partition)
            if len(self._tps) < _CACHE_MAX:
                self._tps[(topic, partition)] = found
        return found

    def key_bytes(self, key: bytes | None) -> bytes:
        found = self._keys.get(key)
        if found is None:
            assert key is not None
            found = b"\x02" + encode_long(len(key)) + key
            if len(self._keys) < _CACHE_MAX:
                self._keys[key] = found
        return found

    def headers_bytes(self, headers: Sequence[tuple[str, bytes | None]]) -> bytes:
        try:
            return self._headers[headers]  # type: ignore[index]
        except (KeyError, TypeError):
            pass
        if not headers:
            found = b"\x00"
        else:
            parts = [encode_long(len(headers))]
            for k, v in headers:
                parts.append(avro_string(k))
                parts.append(b"\x00" if v is None else b"\x02" + encode_long(len(v)) + v)
            parts.append(b"\x00")
            found = b"".join(parts)
        if len(self._headers) < _CACHE_MAX:
            with contextlib.suppress(TypeError):  # an unhashable sequence: not cached
                self._headers[headers] = found  # type: ignore[index]
        return found

    def stream_of(self, topic: str, symbol: str) -> str:
        found = self._streams.get((topic, symbol))
        if found is None:
            found = stream_name(self._venue_of(topic), symbol)  # type: ignore[operator]
            if len(self._streams) < 100_000:
                self._streams[(topic, symbol)] = found
        return found


def symbol_from_key(key: bytes | None) -> str:
    """The ticker a record that is not an event belongs to: its key, if it is text."""
    if not key:
        return UNKNOWN_SYMBOL
    try:
        return key.decode()
    except UnicodeDecodeError:
        return UNKNOWN_SYMBOL
