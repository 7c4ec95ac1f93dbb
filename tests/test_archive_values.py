"""The typed replay's lean block reader (`archive.values`) against the general one (fastavro):
the same (ts, value, offset, topic, partition) for every block, or the same FormatError. Both
walks are tested: the compiled one (`_values.c`, what runs) and the Python one (where no C
compiler was found); the compiled one also on damaged and mutated bodies."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
from memory_support import memory_left_by

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


def _python_walk(body: bytes, count: int) -> list[values.Lean] | None:
    try:
        return values.lean_records(body, count)
    except Exception:
        return None


def _compiled_walk(body: bytes, count: int) -> list[values.Lean] | None:
    assert values._lean_native is not None, "ttxt_kafka/archive/_values.c was not compiled"
    return values._lean_native(body, count)


Walk = Callable[[bytes, int], "list[values.Lean] | None"]
WALKS = pytest.mark.parametrize("walk", [_compiled_walk, _python_walk], ids=["c", "python"])


def test_the_install_built_the_compiled_walk() -> None:
    assert values.NATIVE, ("ttxt_kafka/archive/_values.c was not compiled: `pip install -e .` "
                           "needs a C compiler and Python's headers")


@pytest.mark.parametrize("codec", ["null", "deflate"])
def test_lean_equals_the_general_reader(codec: str) -> None:
    rng = random.Random(7)
    for n in range(1, 60):
        raw = _raw([_record(rng, i) for i in range(n)], codec)
        assert values.decode_lean(raw, codec) == _expected(raw, codec)


@WALKS
def test_the_usual_block_takes_the_lean_walk(walk: Walk) -> None:
    records = [FileRecord(ts=1_714_521_600_000_000 + i, type="OrderBook",
                          topic="ttxt.binance.book", partition=3, offset=100_000 + i,
                          timestamp=1_714_521_600_000, key=b"BTC/USDT",
                          headers=[{"key": "ttxt-type", "value": b"OrderBook"}],
                          value=b"\xc3\x01" + bytes(300)) for i in range(150)]
    raw = _raw(records, "null")
    lean = walk(decompress("null", raw.body), raw.count)  # no fallback
    assert lean == _expected(raw, "null")


@WALKS
def test_runs_that_repeat_then_change_are_read_as_walked(walk: Walk) -> None:
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
        lean = walk(decompress("null", raw.body), raw.count)  # no fallback
        assert lean == _expected(raw, "null")


def test_the_compiled_walk_reads_every_usual_block_and_nothing_fastavro_refuses() -> None:
    """Valid blocks of every shape `_record` makes are read (not left to the general reader);
    truncated, extended and 3,000 randomly edited bodies, and wrong counts, give either the
    general reader's records or None, never records the general reader would refuse."""
    rng = random.Random(29)
    read = 0
    for n in (1, 2, 9, 40):
        raw = _raw([_record(rng, i) for i in range(n)], "null")
        assert _compiled_walk(raw.body, raw.count) == _expected(raw, "null")
        bodies = [(raw.body[:cut], raw.count) for cut in range(0, len(raw.body), 7)]
        bodies += [(raw.body, raw.count + d) for d in (-1, 1, 10**12)]
        for _ in range(750):
            body = bytearray(raw.body)
            for _ in range(rng.choice((1, 2, 4))):
                body[rng.randrange(len(body))] = rng.choice((0, 1, 2, 0x7F, 0x80, 0xFF,
                                                             rng.randrange(256)))
            bodies.append((bytes(body), raw.count))
        for body, count in bodies:
            got = _compiled_walk(body, count)
            if got is not None:
                read += 1
                assert got == _expected(RawBlock(count, body, raw.end), "null")
    assert read > 300  # edits inside values, offsets and times still read


def test_text_that_is_not_utf8_is_left_to_the_general_reader() -> None:
    raw = _raw([FileRecord(ts=1, type="OrderBook", topic="t", partition=0, offset=i,
                           timestamp=0, key=None, headers=[{"key": "ttxt-type", "value": None}],
                           value=b"v") for i in range(3)], "null")
    for good, bad in ((b"OrderBook", b"Order\xffook"), (b"ttxt-type", b"ttxt\xc3type")):
        body = raw.body.replace(good, bad)
        assert _compiled_walk(body, raw.count) is None
        with pytest.raises(FormatError):
            values.decode_lean(RawBlock(raw.count, body, raw.end), "null")


def test_the_compiled_walk_leaks_nothing() -> None:
    rng = random.Random(5)
    raw = _raw([_record(rng, i) for i in range(30)], "null")
    bodies = [raw.body, raw.body[:-3], raw.body.replace(b"OrderBook", b"Order\xffook")]

    def run() -> None:
        for body in bodies:
            _compiled_walk(body, raw.count)

    grown = memory_left_by(run, warm_up=50, times=2_000)
    assert grown < 64_000, grown  # 6,000 walks of 30 records: a leak would be MBs


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
