"""A block's records as (exchange time, value, offset, topic, partition): what a typed replay
needs.

`ocf.decode_records` gives every field of every record as a dict (fastavro, ~4-6 µs a record):
more than decoding the event in it takes to build, for fields a typed replay never reads. Here
the block body is walked by hand: the exchange time, the value, the offset, the topic and the
partition are read (the topic decoded once a block), the other fields (type, Kafka timestamp,
key, headers) are stepped over, no object is built for them.

Same contract as `avro_fastpath`: the walk returns exactly what `decode_records` holds for the
same block (those five fields), or gives up, and then `decode_records` runs and decides — the
same records or the same `FormatError`. It gives up on anything not written the usual way:
multi-byte union indexes, negative lengths or counts, varints past 64 bits, type names, keys
and header keys of 64 bytes or more, a body that does not end with its last record. Like
`skip.py`, it does not check that the strings it steps over are valid UTF-8.

The same walk is compiled from `_values.c` when the package is installed (`hatch_build.py`)
and is what runs (`NATIVE`): stricter (it also checks the text it steps over, reads any 64-bit
varint) and several times faster. This module's walk runs where no C compiler was found.
"""

from __future__ import annotations

import struct

from ttxt_kafka.avro_fastpath import _varint

from .ocf import RawBlock, decode_records, decompress

try:
    from ._values import lean_records as _lean_native
except ImportError:  # built without a C compiler: the walk below reads every block
    _lean_native = None  # type: ignore[assignment]
NATIVE = _lean_native is not None

# (exchange time µs, the Kafka value, the Kafka offset, topic, partition)
Lean = tuple[int, bytes | None, int, str, int]

_U64 = struct.Struct("<Q").unpack_from


class _GiveUp(Exception):
    pass


def lean_records(body: bytes, count: int) -> list[Lean]:
    """The `count` records of a decompressed block body; _GiveUp, IndexError (or another
    error of `_varint`) when the body is not what the recorder writes. Written out in one
    loop (no helper call in the usual case: calls are most of the cost at this size)."""
    out: list[Lean] = []
    append = out.append
    pos = 0
    end = len(body)
    u64 = _U64
    last_raw, topic, partition = b"", "", 0
    # A block holds one partition's records, mostly of one type, one key and the same headers:
    # the bytes of (type, topic, partition) and of (key, headers) repeat from record to record.
    # Once walked, each run is kept; a later record holding the same bytes there steps over
    # them whole (identical bytes parse identically: the result is the walk's). Anything else
    # is walked field by field and becomes the run compared next.
    same1, len1, same2, len2 = b"", 0, b"", 0
    ts_hi, ts_half, kts_hi = b"", 0, b""  # see the times below
    for _ in range(count):
        # ts: a µs timestamp, an 8-byte varint. Records of a block are close in time: the
        # varint's last 5 bytes (bits 21 and up) mostly repeat the previous one's, and then
        # only the first 3 bytes are read (a positive time: the zigzag bit is clear).
        b0 = body[pos]
        if (b0 & body[pos + 1] & body[pos + 2] & 0x80 and not b0 & 1 and ts_hi
                and body.startswith(ts_hi, pos + 3)):
            ts = ts_half + (((b0 & 0x7F) | (body[pos + 1] & 0x7F) << 7
                             | (body[pos + 2] & 0x7F) << 14) >> 1)
            pos += 8
        else:
            if pos + 8 <= end:  # read as one word (see avro_fastpath._varint)
                q = u64(body, pos)[0]
                stops = ~q & 0x8080808080808080
                if not stops:
                    raise _GiveUp
                last = stops & -stops
                q &= (last - 1) & 0x7F7F7F7F7F7F7F7F
                q = (q & 0x007F007F007F007F) | ((q & 0x7F007F007F007F00) >> 1)
                q = (q & 0x00003FFF00003FFF) | ((q & 0x3FFF00003FFF0000) >> 2)
                q = (q & 0x000000000FFFFFFF) | ((q & 0x0FFFFFFF00000000) >> 4)
                n = last.bit_length() >> 3
                pos += n
                if n == 8 and not q & 1:  # kept for the next records
                    ts_hi, ts_half = body[pos - 5:pos], (q & ~0x1FFFFF) >> 1
            else:
                q, pos = _varint(body, pos)
            ts = (q >> 1) ^ -(q & 1)
        if len1 and body.startswith(same1, pos):
            pos += len1
        else:
            first = pos
            n = body[pos]  # the event type (a string), stepped over
            if n & 0x81:
                raise _GiveUp  # a length of 64 or more, or negative
            pos += 1 + (n >> 1)
            n = body[pos]  # topic: string
            if n < 0x80:
                start = pos + 1
            else:
                n, start = _varint(body, pos)
            if n & 1:
                raise _GiveUp
            n >>= 1
            if n != len(last_raw) or not body.startswith(last_raw, start):  # compared in place
                last_raw = body[start:start + n]
                topic = last_raw.decode()
            pos = start + n
            partition = body[pos]  # int
            if partition < 0x80:
                pos += 1
            else:
                partition, pos = _varint(body, pos)
            partition = (partition >> 1) ^ -(partition & 1)
            same1 = body[first:pos]
            len1 = pos - first
        offset = body[pos]  # long: 1-4 bytes written out (offsets below 2^27)
        if offset < 0x80:
            pos += 1
        else:
            k = body[pos + 1]
            offset = (offset & 0x7F) | (k & 0x7F) << 7
            if k < 0x80:
                pos += 2
            else:
                k = body[pos + 2]
                offset |= (k & 0x7F) << 14
                if k < 0x80:
                    pos += 3
                else:
                    k = body[pos + 3]
                    offset |= (k & 0x7F) << 21
                    if k < 0x80:
                        pos += 4
                    else:
                        offset, pos = _varint(body, pos)
        offset = (offset >> 1) ^ -(offset & 1)
        # Kafka timestamp: long (ms: 6 bytes), stepped over; its last 4 bytes mostly repeat
        # the previous one's (as the exchange time's do), else it is read as one word
        if body[pos] & body[pos + 1] & 0x80 and kts_hi and body.startswith(kts_hi, pos + 2):
            pos += 6
        elif pos + 8 <= end:
            stops = ~u64(body, pos)[0] & 0x8080808080808080
            if not stops:
                raise _GiveUp
            n = (stops & -stops).bit_length() >> 3
            pos += n
            if n == 6:
                kts_hi = body[pos - 4:pos]
        else:
            while body[pos] & 0x80:
                pos += 1
            pos += 1
        if len2 and body.startswith(same2, pos):
            pos += len2
        else:
            first = pos
            b = body[pos]  # key: ["null", "bytes"]
            if b == 2:
                n = body[pos + 1]
                if n & 0x81:
                    raise _GiveUp
                pos += 2 + (n >> 1)
            elif b == 0:
                pos += 1
            else:
                raise _GiveUp
            while True:  # headers: array of {key: string, value: ["null", "bytes"]}
                n = body[pos]
                pos += 1
                if n == 0:
                    break
                if n & 0x81:
                    raise _GiveUp  # a sized (negative) block or a long count: not ours
                for _ in range(n >> 1):
                    k = body[pos]
                    if k & 0x81:
                        raise _GiveUp
                    pos += 1 + (k >> 1)
                    b = body[pos]
                    if b == 2:
                        k = body[pos + 1]
                        if k & 0x81:
                            raise _GiveUp
                        pos += 2 + (k >> 1)
                    elif b == 0:
                        pos += 1
                    else:
                        raise _GiveUp
            same2 = body[first:pos]
            len2 = pos - first
        b = body[pos]  # value: ["null", "bytes"]
        if b == 2:
            n = body[pos + 1]
            if n < 0x80:
                start = pos + 2
            else:
                k = body[pos + 2]
                if k < 0x80:  # the usual 2-byte length (64..8191 bytes)
                    n = (n & 0x7F) | (k << 7)
                    start = pos + 3
                else:
                    n, start = _varint(body, pos + 1)
            if n & 1:
                raise _GiveUp
            pos = start + (n >> 1)
            if pos > end:
                raise _GiveUp
            value: bytes | None = body[start:pos]
        elif b == 0:
            pos += 1
            value = None
        else:
            raise _GiveUp
        append((ts, value, offset, topic, partition))
    if pos != end:
        raise _GiveUp
    return out


def decode_lean(block: RawBlock, codec: str) -> list[Lean]:
    """The records of a block as `Lean` tuples, checked against its count; FormatError as
    `decode_records` raises it."""
    data = decompress(codec, block.body)
    if _lean_native is not None:
        lean: list[Lean] | None = _lean_native(data, block.count)
        if lean is not None:
            return lean
    else:
        try:
            return lean_records(data, block.count)
        except Exception:  # anything unusual: the general reader decides
            pass
    return [(r["ts"], r["value"], r["offset"], r["topic"], r["partition"])
            for r in decode_records(block, codec)]
