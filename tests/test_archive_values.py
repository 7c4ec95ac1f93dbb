"""The typed replay's lean block reader (`archive.values`) against the general one (fastavro):
the same (ts, value, offset, topic, partition) for every block, or the same FormatError."""

from __future__ import annotations

import random

import pytest

from ttxt_kafka.archive import values
from ttxt_kafka.archive.ocf import (
    FileRecord,
    FormatError,
    RawBlock,
    decode_records,
    decompress,
    encode_block,
    parse_block,
)

SYNC = b"S" * 16


def _record(rng: random.Random, i: int) -> FileRecord:
    topic = rng.choice(["ttxt.binance.book", "t", "x" * 70, "lab.replay.r1.okx_swap.trades"])
    return FileRecord(
        ts=rng.choice([0, 1, -5, 1_714_521_600_123_456, rng.randrange(-(1 << 63), 1 << 63)]),
        type=rng.choice(["OrderBook", "", "T" * 80]),
        topic=topic,
        partition=rng.choice([0, 5, 63, 64, 1000, -1]),
        offset=rng.choice([i, 63, 64, 8191, 8192, 1 << 20, (1 << 27) + i, 1 << 40, -1]),
        timestamp=rng.choice([0, 1_714_521_600_123, -7]),
        key=rng.choice([None, b"", b"BTC/USDT", b"k" * 100]),
        headers=rng.choice([[], [{"key": "ttxt-type", "value": b"OrderBook"}],
                            [{"key": "a", "value": None}, {"key": "h" * 90, "value": b"v" * 70}]]),
        value=rng.choice([None, b"", b"\xc3\x01" + bytes(rng.randrange(256) for _ in range(30)),
                          bytes(200), bytes(9000), bytes(70_000)]),
    )


def _raw(records: list[FileRecord], codec: str) -> RawBlock:
    data = encode_block(records, codec) + SYNC
    return parse_block(data, 0, SYNC)


def _expected(raw: RawBlock, codec: str) -> list[values.Lean]:
    return [(r["ts"], r["value"], r["offset"], r["topic"], r["partition"])
            for r in decode_records(raw, codec)]


@pytest.mark.parametrize("codec", ["null", "deflate"])
def test_lean_equals_the_general_reader(codec: str) -> None:
    rng = random.Random(7)
    for n in range(1, 60):
        raw = _raw([_record(rng, i) for i in range(n)], codec)
        assert values.decode_lean(raw, codec) == _expected(raw, codec)


def test_the_usual_block_takes_the_lean_walk() -> None:
    records = [FileRecord(ts=1_714_521_600_000_000 + i, type="OrderBook",
                          topic="ttxt.binance.book", partition=3, offset=100_000 + i,
                          timestamp=1_714_521_600_000, key=b"BTC/USDT",
                          headers=[{"key": "ttxt-type", "value": b"OrderBook"}],
                          value=b"\xc3\x01" + bytes(300)) for i in range(150)]
    raw = _raw(records, "null")
    lean = values.lean_records(decompress("null", raw.body), raw.count)  # no fallback
    assert lean == _expected(raw, "null")


def test_runs_that_repeat_then_change_are_read_as_walked() -> None:
    """The walk keeps the bytes of (type, topic, partition), of (key, headers) and the last
    bytes of both times, and steps over a later record's identical bytes whole: records
    switching between a few of each, in runs and alone, still read exactly as the general
    reader reads them."""
    rng = random.Random(11)
    # times mostly of one size (8-byte µs, 6-byte ms varints) whose last bytes repeat, and
    # now and then another size or sign
    times = [1_714_521_600_000_000] * 8 + [-1_714_521_600_000_000, 1 << 40, 5]
    stamps = [1_714_521_600_000] * 8 + [-7, 1 << 33, 1 << 42]
    for n in (2, 5, 40, 300, 2000):
        records = []
        kinds = [rng.randrange(16) for _ in range(4)]
        for i in range(n):
            kind = kinds[i * 4 // n] if rng.random() < 0.8 else rng.randrange(16)
            records.append(FileRecord(
                ts=rng.choice(times) + i * rng.choice([1, 999, 1 << 21]),
                type=["OrderBook", "Trades"][kind & 1],
                topic=["ttxt.binance.book", "ttxt.binance.bookk"][kind >> 1 & 1],
                partition=[3, 4][kind >> 2 & 1], offset=1000 + i,
                timestamp=rng.choice(stamps) + i * rng.choice([1, 1 << 14]),
                key=[b"BTC/USDT", None][kind >> 3 & 1],
                headers=[[{"key": "ttxt-type", "value": b"OrderBook"}],
                         [{"key": "ttxt-type", "value": b"Trades"}]][kind & 1],
                value=b"\xc3\x01" + bytes(rng.randrange(300))))
        raw = _raw(records, "null")
        lean = values.lean_records(decompress("null", raw.body), raw.count)  # no fallback
        assert lean == _expected(raw, "null")


def test_damaged_blocks_give_the_general_readers_error() -> None:
    rng = random.Random(3)
    raw = _raw([_record(rng, i) for i in range(20)], "null")
    for cut in (1, 7, len(raw.body) // 2, len(raw.body) - 1):
        for body in (raw.body[:cut], raw.body + b"\x00" * cut):
            bad = RawBlock(raw.count, body, raw.end)
            with pytest.raises(FormatError):
                decode_records(bad, "null")
            with pytest.raises(FormatError):
                values.decode_lean(bad, "null")
    fewer = RawBlock(raw.count + 1, raw.body, raw.end)  # announces one record more
    with pytest.raises(FormatError):
        values.decode_lean(fewer, "null")
