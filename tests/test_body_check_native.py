"""The recorder's body check compiled (`ttxt_kafka/archive/_skip.c`) against the generated
skipper it replaces (`skip.compile_skipper`, itself checked against fastavro in
test_recorder_format.py): the same answer on every event schema's samples and on a schema of
every Avro type, valid, cut, extended and randomly edited, varints of any length, negative
counts and indexes; malformed programs refused; nothing leaked."""

from __future__ import annotations

import io
import random
from typing import Any

import pytest
from fastavro import parse_schema, schemaless_writer
from memory_support import memory_left_by
from samples import all_samples

from ttxt_kafka.archive import skip
from ttxt_kafka.codec import encode
from ttxt_kafka.registry import REGISTRY

EVERY_TYPE: dict[str, Any] = {
    "type": "record", "name": "All", "namespace": "t", "fields": [
        {"name": "b", "type": "boolean"}, {"name": "i", "type": "int"},
        {"name": "l", "type": "long"}, {"name": "f", "type": "float"},
        {"name": "d", "type": "double"}, {"name": "s", "type": "string"},
        {"name": "y", "type": "bytes"},
        {"name": "e", "type": {"type": "enum", "name": "E", "symbols": ["A", "B", "C"]}},
        {"name": "x", "type": {"type": "fixed", "name": "F", "size": 3}},
        {"name": "u", "type": ["null", "string", {"type": "array", "items": "long"}]},
        {"name": "m", "type": {"type": "map", "values": ["null", "E"]}},
        {"name": "a", "type": {"type": "array", "items": {"type": "array", "items": "F"}}},
        {"name": "n", "type": {"type": "array", "items": "null"}},
        {"name": "r", "type": {"type": "record", "name": "Inner", "fields": [
            {"name": "e2", "type": "E"}, {"name": "z", "type": "null"}]}},
    ]}


def _every_type_value(rng: random.Random) -> dict[str, Any]:
    def text() -> str:
        return "é" * rng.choice([0, 1, 40, 70])
    return {
        "b": rng.random() < 0.5, "i": rng.choice([0, -1, 2**31 - 1]),
        "l": rng.choice([0, 63, -64, 2**62, -(2**63)]), "f": 1.5, "d": -2.25, "s": text(),
        "y": bytes(rng.choice([0, 3, 200])), "e": rng.choice("ABC"), "x": b"xyz",
        "u": rng.choice([None, text(), [rng.randrange(-9, 9) for _ in range(rng.randrange(5))]]),
        "m": {text() + str(k): rng.choice([None, "B"]) for k in range(rng.randrange(4))},
        "a": [[b"abc"] * rng.randrange(3) for _ in range(rng.randrange(4))],
        "n": [None] * rng.randrange(70), "r": {"e2": "C", "z": None},
    }


def _bodies_of(value: bytes, start: int, rng: random.Random, edits: int) -> list[bytes]:
    """The value, every cut of it, a byte too many, and `edits` random edits after `start`."""
    out = [value, value + b"\x00"] + [value[:k] for k in range(start, len(value))]
    for _ in range(edits):
        data = bytearray(value)
        for _ in range(rng.choice((1, 1, 2, 3))):
            at = rng.randrange(start, len(data) + 1)
            byte = rng.choice((0x00, 0x01, 0x02, 0x03, 0x7F, 0x80, 0xFF, rng.randrange(256)))
            action = rng.randrange(3)
            if action == 0 and at < len(data):
                data[at] = byte
            elif action == 1:
                data[at:at] = bytes([byte]) * rng.choice((1, 1, 9, 12))
            elif at < len(data):
                del data[at]
        out.append(bytes(data))
    return out


def test_the_install_built_the_compiled_check() -> None:
    assert skip.NATIVE, ("ttxt_kafka/archive/_skip.c was not compiled: `pip install -e .` "
                         "needs a C compiler and Python's headers")
    for _, et in REGISTRY.writers.values():
        assert type(skip.compile_checker(et.schema)).__name__ == "Checker", et.name


def test_every_event_schema_gets_the_generated_skippers_answers() -> None:
    rng = random.Random(23)
    compared = valid = 0
    for event in all_samples():
        value = encode(event)
        et = REGISTRY.writers[value[2:10]][1]
        native, reference = skip.compile_checker(et.schema), skip.compile_skipper(et.schema)
        assert native is not None and reference is not None
        for body in _bodies_of(value, 10, rng, 400):
            answer = reference(body, 10)
            assert native(body, 10) is answer, (et.name, body)
            compared += 1
            valid += answer
    assert compared > 5_000 and valid > 300


def test_a_schema_of_every_avro_type_gets_the_generated_skippers_answers() -> None:
    rng = random.Random(31)
    parsed = parse_schema(EVERY_TYPE)
    native, reference = skip.compile_checker(EVERY_TYPE), skip.compile_skipper(EVERY_TYPE)
    assert type(native).__name__ == "Checker" and reference is not None
    valid = 0
    for _ in range(60):
        fo = io.BytesIO()
        schemaless_writer(fo, parsed, _every_type_value(rng))
        value = fo.getvalue()
        assert native(value, 0) is True
        for body in _bodies_of(value, 0, rng, 150):
            answer = reference(body, 0)
            assert native(body, 0) is answer, body
            valid += answer
    assert valid > 100


@pytest.mark.parametrize("body, expect", [
    (b"\x00", True),  # union branch 0: null
    (b"\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00", True),  # the same, 12 bytes long
    (b"\x01", True),  # -1: the last branch (null), counted from the end
    (b"\x03", False),  # -2: no such branch
    (b"\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", False),  # 2^70: no such branch
    (b"\x04", True),  # 2: the last branch (null)
    (b"\x06", False),  # 3: no such branch
    (b"\x02\x03\x02\x00\x00\x00", True),  # a block of count -2 with its byte size, 2 longs
    (b"\x02\x01\x02\x00\x00", True),  # count -1, size 1, one long, then the end
    (b"\x02\x01\x02\x00", False),  # no end of the array
    (b"\x02\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", False),  # a count past the body
    (b"\x02\x02\x80", False),  # a varint cut short
])
def test_varints_counts_and_indexes(body: bytes, expect: bool) -> None:
    schema = ["null", {"type": "array", "items": "long"}, "null"]
    native, reference = skip.compile_checker(schema), skip.compile_skipper(schema)
    assert type(native).__name__ == "Checker" and reference is not None
    assert reference(body, 0) is expect
    assert native(body, 0) is expect


@pytest.mark.parametrize("program", [
    [], [99, 2], [skip._native.OP_NULL, 3], [skip._native.OP_RECORD, 5, 2, 0, 2],
    [skip._native.OP_UNION, 3, 0], [skip._native.OP_ARRAY, 2], [skip._native.OP_SKIP, 3, -1],
    [skip._native.OP_LONG, 2, 0], [skip._native.OP_LONG, 2**40],
])
def test_a_malformed_program_is_refused(program: list[int]) -> None:
    with pytest.raises((ValueError, OverflowError)):
        skip._native.Checker(program)


def test_out_of_range_positions_and_odd_arguments() -> None:
    check = skip.compile_checker("long")
    assert check is not None
    assert check(b"\x02", 0) is True and check(b"\x02", 1) is False
    assert check(b"\x02", 5) is False and check(b"\x02", -1) is False
    assert check(memoryview(b"\x02"), 0) is True
    with pytest.raises(TypeError):
        check("text", 0)  # type: ignore[arg-type]


def test_the_compiled_check_leaks_nothing() -> None:
    event = next(e for e in all_samples() if type(e).__name__ == "OrderBook")
    value = encode(event)
    check = skip.compile_checker(REGISTRY.writers[value[2:10]][1].schema)
    assert check is not None
    bodies = [value, value[:-1], value + b"\x00"]

    def run() -> None:
        for body in bodies:
            check(body, 10)

    assert memory_left_by(run, warm_up=100, times=20_000) < 32_000
