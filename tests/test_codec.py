"""Avro single-object encoding: round trips, plain-Avro interop, evolution, bad bytes."""

from __future__ import annotations

import contextlib
import copy
import io
import random
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar

import pytest
from fastavro import parse_schema, schemaless_reader, schemaless_writer
from samples import T0, all_samples

from ttxt_kafka.codec import (
    Codec,
    CodecError,
    CorruptRecordError,
    NotSingleObjectError,
    UnknownSchemaError,
    decode,
    encode,
)
from ttxt_kafka.events import CreateOrder, Event, OrderBook, Side, Trades
from ttxt_kafka.fingerprint import canonical_form, crc64_avro, schema_fingerprint
from ttxt_kafka.registry import REGISTRY, Registry
from ttxt_kafka.schemas import load_schema, plain_times, schema_names

SAMPLES = all_samples()
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _all_fields(schema: Any) -> list[dict[str, Any]]:
    """Every field of every record in a schema (nested records too)."""
    found: list[dict[str, Any]] = []
    if isinstance(schema, list):
        for branch in schema:
            found += _all_fields(branch)
    elif isinstance(schema, dict):
        for f in schema.get("fields", []):
            found.append(f)
            found += _all_fields(f["type"])
        for key in ("items", "values"):
            if key in schema:
                found += _all_fields(schema[key])
    return found


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: f"{e.SCHEMA}-{e.venue}")
def test_round_trip_is_exact(event: Event) -> None:
    data = encode(event)
    back = decode(data)
    assert back == event
    assert type(back) is type(event)
    # Enums come back as enum members, not bare strings.
    for name in ("update_type", "side", "status", "command_type", "order_type"):
        if hasattr(event, name):
            assert type(getattr(back, name)) is type(getattr(event, name))


def test_prices_keep_their_exact_strings() -> None:
    book = SAMPLES[0]
    assert isinstance(book, OrderBook)
    back = decode(encode(book))
    assert isinstance(back, OrderBook)
    assert back.bids[0] == ["60000.10000000", "1.50000000"]  # trailing zeros kept
    assert [list(x) for x in back.asks] == [["60000.2", "0.001"]]


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: e.SCHEMA)
def test_single_object_framing_readable_by_a_plain_avro_reader(event: Event) -> None:
    """Any Avro implementation decodes our records with nothing but the .avsc file."""
    data = encode(event)
    schema = load_schema(event.SCHEMA)
    assert data[:2] == b"\xc3\x01"
    assert data[2:10] == crc64_avro(canonical_form(schema).encode()).to_bytes(8, "little")
    record = schemaless_reader(io.BytesIO(data[10:]), parse_schema(schema), None)
    assert record["venue"] == event.venue
    # The times are annotated timestamp-micros: a plain reader shows them as timestamps.
    assert record["exchange_ts"] == EPOCH + timedelta(microseconds=event.exchange_ts)
    assert record["receive_ts"] == EPOCH + timedelta(microseconds=event.receive_ts)


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: f"{e.SCHEMA}-{e.venue}")
def test_records_written_before_the_timestamp_annotation_still_decode(event: Event) -> None:
    """The schemas before the times were annotated (plain longs): same fingerprint (logical
    types are not in the canonical form), same bytes, and the events keep int microseconds."""
    before = plain_times(load_schema(event.SCHEMA))
    assert schema_fingerprint(before) == REGISTRY.by_class[type(event)].fingerprint
    record = REGISTRY.by_class[type(event)].to_record(event)
    buf = io.BytesIO()
    buf.write(b"\xc3\x01" + schema_fingerprint(before))
    schemaless_writer(buf, parse_schema(before), record)
    assert buf.getvalue() == encode(event)
    for codec in (Codec(), Codec(fast=False)):
        back = codec.decode(buf.getvalue())
        assert back == event
        assert type(back.exchange_ts) is int and type(back.receive_ts) is int


def test_every_time_in_microseconds_is_annotated_and_only_those() -> None:
    for name in schema_names():
        for f in _all_fields(load_schema(name)):
            micros = "microseconds since the Unix epoch" in f.get("doc", "")
            branches = f["type"] if isinstance(f["type"], list) else [f["type"]]
            annotated = {"type": "long", "logicalType": "timestamp-micros"} in branches
            assert micros == annotated, f"{name}.{f['name']}"


def test_crc64_avro_matches_the_spec_value() -> None:
    # Java's SchemaNormalization.parsingFingerprint64 of the schema "int".
    assert crc64_avro(b'"int"') == 8247732601305521295
    assert schema_fingerprint("int") == (8247732601305521295).to_bytes(8, "little")


# ------------------------------------------------------------------ schema evolution

V1 = {
    "type": "record", "name": "PriceTick", "namespace": "test.evolution",
    "fields": [
        {"name": "venue", "type": "string"}, {"name": "symbol", "type": "string"},
        {"name": "native_symbol", "type": "string", "default": ""},
        {"name": "exchange_ts", "type": "long"}, {"name": "receive_ts", "type": "long"},
        {"name": "sequence", "type": ["null", "long"], "default": None},
        {"name": "price", "type": "string"},
    ],
}
V2 = copy.deepcopy(V1)
V2["fields"].append({"name": "source", "type": "string", "default": "exchange"})


@dataclass(slots=True, kw_only=True)
class PriceTickV1(Event):
    SCHEMA: ClassVar[str] = "PriceTick"
    price: str


@dataclass(slots=True, kw_only=True)
class PriceTickV2(Event):
    SCHEMA: ClassVar[str] = "PriceTick"
    price: str
    source: str = "exchange"


def _codec(cls: type[Event], schema: dict[str, object], also_knows: dict[str, object]) -> Codec:
    registry = Registry()
    registry.register(cls, schema, handler="on_price_tick", channel="ticks")
    registry.add_writer_schema(also_knows)
    return Codec(registry)


def test_evolution_adding_a_field_with_a_default() -> None:
    old, new = _codec(PriceTickV1, V1, V2), _codec(PriceTickV2, V2, V1)
    hdr = dict(venue="binance", symbol="BTC/USDT", exchange_ts=1, receive_ts=2)
    old_bytes = old.encode(PriceTickV1(**hdr, price="60000.1"))
    new_bytes = new.encode(PriceTickV2(**hdr, price="60000.2", source="simulator"))
    assert old_bytes[2:10] != new_bytes[2:10]  # different writer fingerprints
    # New code reads old records: the added field takes its default.
    assert new.decode(old_bytes) == PriceTickV2(**hdr, price="60000.1", source="exchange")
    # Old code reads new records (it was told the new writer schema): the field is dropped.
    assert old.decode(new_bytes) == PriceTickV1(**hdr, price="60000.2")
    # Both still read their own.
    assert new.decode(new_bytes).source == "simulator"  # type: ignore[attr-defined]


def test_a_writer_schema_nobody_registered_is_a_clear_error() -> None:
    new_only = Codec(_reg(PriceTickV2, V2))
    old_bytes = _codec(PriceTickV1, V1, V2).encode(
        PriceTickV1(venue="v", symbol="s", exchange_ts=0, receive_ts=0, price="1"))
    with pytest.raises(UnknownSchemaError, match="unknown writer schema fingerprint"):
        new_only.decode(old_bytes)


def _reg(cls: type[Event], schema: dict[str, object]) -> Registry:
    r = Registry()
    r.register(cls, schema, handler="on_price_tick", channel="ticks")
    return r


# ------------------------------------------------------------------ bad bytes


def test_garbage_is_named_as_such() -> None:
    with pytest.raises(NotSingleObjectError, match="not an Avro single-object record"):
        decode(b"hello world, this is not avro")
    with pytest.raises(NotSingleObjectError, match="looks like JSON"):
        decode(b'{"e":"depthUpdate","s":"BTCUSDT"}')
    with pytest.raises(NotSingleObjectError):
        decode(b"")
    with pytest.raises(NotSingleObjectError):
        decode(b"\xc3\x01\x00")  # header cut short


def test_unknown_fingerprint_names_it() -> None:
    data = b"\xc3\x01" + bytes.fromhex("0102030405060708") + b"\x00"
    with pytest.raises(UnknownSchemaError, match="0102030405060708"):
        decode(data)


def test_truncated_body_says_truncated_and_which_type() -> None:
    data = encode(SAMPLES[0])
    with pytest.raises(CorruptRecordError, match="truncated OrderBook"):
        decode(data[:-7])


def test_trailing_bytes_are_rejected() -> None:
    with pytest.raises(CorruptRecordError, match="trailing bytes"):
        decode(encode(SAMPLES[4]) + b"\x00\x01")


def test_fuzzed_bodies_only_ever_raise_codec_errors() -> None:
    """Random corruption of valid records: a CodecError or a valid event, nothing else."""
    rng = random.Random(7)
    encoded = [encode(e) for e in SAMPLES]
    outcomes = {"error": 0, "decoded": 0}
    for _ in range(20_000):
        data = bytearray(rng.choice(encoded))
        for _ in range(rng.randint(1, 4)):
            pos = rng.randrange(10, len(data))
            data[pos] = rng.randrange(256)
        if rng.random() < 0.3:
            data = data[: rng.randrange(10, len(data))]
        try:
            decode(bytes(data))
            outcomes["decoded"] += 1
        except CodecError:
            outcomes["error"] += 1
    assert outcomes["error"] > 1000


def test_encoding_an_invalid_event_is_a_codec_error() -> None:
    bad = copy.copy(SAMPLES[4])
    bad.bid_price = 1.5  # type: ignore[attr-defined]  # a float price must not slip through
    with pytest.raises(CodecError, match="cannot encode BBO"):
        encode(bad)


# ------------------------------------------------------------------ the fast path
#
# `avro_fastpath` compiles each schema into a Python encoder/decoder. Contract: it returns
# exactly what the fastavro path returns, or raises and the codec falls back to fastavro. These
# tests compare `Codec()` with `Codec(fast=False)` (fastavro only) on everything we can think of.

FASTAVRO_ONLY = Codec(fast=False)


def _outcome(fn: Callable[[Any], Any], arg: Any) -> Any:
    try:
        return ("ok", fn(arg))
    except Exception as exc:  # compare the exception the caller would see
        return ("error", type(exc), str(exc))


def test_every_builtin_event_type_has_a_fast_path() -> None:
    for et in REGISTRY.by_name.values():
        assert et.fast_encode is not None and et.fast_decode is not None, et.name


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: f"{e.SCHEMA}-{e.venue}")
def test_fast_path_matches_fastavro_on_samples(event: Event) -> None:
    et = REGISTRY.by_class[type(event)]
    assert et.fast_encode is not None and et.fast_decode is not None
    data = FASTAVRO_ONLY.encode(event)
    assert et.fast_encode(event) == data
    back = et.fast_decode(data)
    assert back == FASTAVRO_ONLY.decode(data) == event
    assert [type(getattr(back, f.name)) for f in fields(back)] == [
        type(getattr(event, f.name)) for f in fields(event)]


def _random_text(rng: random.Random) -> str:
    n = rng.choice([0, 1, 5, 14, 63, 64, 65, 200, 9000])  # 1-, 2- and 3-byte length prefixes
    return "".join(rng.choices("0123456789.-abcXYZ/_ é€😀", k=n))


def _random_int(rng: random.Random, bits: int = 64) -> int:
    edge = [0, 1, -1, 63, 64, -64, -65, 127, 128, 2**31 - 1, -(2**31), 2**53, T0, -T0,
            2**63 - 1, -(2**63)]
    if bits == 32:
        edge = [x for x in edge if -(2**31) <= x < 2**31]
    if rng.random() < 0.5:
        return rng.choice(edge)
    return rng.randrange(-(2 ** (bits - 1)), 2 ** (bits - 1))


def _randomized(event: Event, rng: random.Random) -> Event:
    """A copy of a sample event with every field replaced by a random valid value."""
    new = copy.deepcopy(event)
    for f in fields(new):
        value = getattr(new, f.name)
        if isinstance(value, StrEnum):
            setattr(new, f.name, rng.choice(list(type(value))))
        elif isinstance(value, bool):
            setattr(new, f.name, rng.random() < 0.5)
        elif isinstance(value, int):
            setattr(new, f.name, _random_int(rng, 32 if f.name == "depth" else 64))
        elif value is None or "None" in str(f.type):  # optional: None or a value
            setattr(new, f.name, None if rng.random() < 0.3 else (
                _random_int(rng) if "int" in str(f.type) else _random_text(rng)))
        elif isinstance(value, str):
            setattr(new, f.name, _random_text(rng))
        elif isinstance(value, dict):
            setattr(new, f.name, {_random_text(rng): _random_text(rng)
                                  for _ in range(rng.randint(0, 3))})
        elif f.name in ("bids", "asks"):
            levels = [[_random_text(rng), _random_text(rng)] for _ in range(rng.randint(0, 30))]
            setattr(new, f.name, levels if rng.random() < 0.7 else [tuple(x) for x in levels])
        elif isinstance(value, list):  # nested records
            items = [copy.deepcopy(rng.choice(value)) for _ in range(rng.randint(0, 5))]
            setattr(new, f.name, [_randomized_item(it, rng) for it in items])
    return new


def _randomized_item(item: Any, rng: random.Random) -> Any:
    for f in fields(item):
        value = getattr(item, f.name)
        if isinstance(value, StrEnum):
            setattr(item, f.name, rng.choice(list(type(value))))
        elif isinstance(value, int):
            setattr(item, f.name, _random_int(rng))
        else:
            setattr(item, f.name, None if value is None and rng.random() < 0.5
                    else _random_text(rng))
    return item


def _levels_as_lists(event: Event) -> Event:
    if isinstance(event, OrderBook):
        event = copy.copy(event)
        event.bids = [list(x) for x in event.bids]
        event.asks = [list(x) for x in event.asks]
    return event


def test_fast_path_matches_fastavro_on_random_events() -> None:
    rng = random.Random(11)
    decoded_fast = 0
    for i in range(1000):
        event = _randomized(SAMPLES[i % len(SAMPLES)], rng)
        et = REGISTRY.by_class[type(event)]
        assert et.fast_encode is not None and et.fast_decode is not None
        data = FASTAVRO_ONLY.encode(event)  # valid events: both encode
        assert et.fast_encode(event) == data, event  # the fast function itself, no fallback
        back = _levels_as_lists(event)  # Avro arrays come back as lists
        assert decode(data) == FASTAVRO_ONLY.decode(data) == back
        with contextlib.suppress(Exception):
            decoded_fast += et.fast_decode(data) == back
    assert decoded_fast == 1000  # valid records never need the fallback


@pytest.mark.parametrize("field_name, bad", [
    ("sequence", True),  # a bool where a long is expected
    ("sequence", 2**63),  # out of range
    ("sequence", 1.0),
    ("exchange_ts", "1"),
    ("exchange_ts", -(2**63) - 1),
    ("depth", 2**40),  # "int" field: fastavro writes it anyway, so must we
    ("depth", None),
    ("venue", None),
    ("venue", 5),
    ("venue", b"binance"),
    ("native_symbol", StrEnum("S", {"X": "BTCUSDT"}).X),  # a str subclass
    ("update_type", "DELTA"),  # the symbol string instead of the member
    ("update_type", "delta"),
    ("update_type", Side.BUY),
    ("bids", (("1", "2"),)),
    ("bids", [("1", 2)]),
    ("bids", [["1", "2", "3"]]),
    ("bids", iter([["1", "2"]])),
    ("bids", "12"),
    ("checksum", False),
])
def test_fast_path_gives_way_on_unusual_values(field_name: str, bad: Any) -> None:
    def event() -> Event:  # a fresh one per codec: the iterator case is consumed by encoding
        e = copy.copy(SAMPLES[0])
        setattr(e, field_name, copy.copy(bad))
        return e

    assert _outcome(encode, event()) == _outcome(FASTAVRO_ONLY.encode, event())


def test_fast_path_gives_way_on_unusual_nested_and_map_values() -> None:
    trades = next(e for e in SAMPLES if isinstance(e, Trades))
    order = next(e for e in SAMPLES if isinstance(e, CreateOrder))
    cases: list[Event] = []
    for bad in (None, "x", 5, (copy.copy(trades.trades[0]),), [{"trade_id": "1"}]):
        t = copy.copy(trades)
        t.trades = bad  # type: ignore[assignment]
        cases.append(t)
    t = copy.deepcopy(trades)
    t.trades[0].side = "SELL"  # type: ignore[assignment]
    cases.append(t)
    for bad_extras in ({"a": 1}, {1: "a"}, {"a": None}, [("a", "b")]):
        o = copy.copy(order)
        o.extras = bad_extras  # type: ignore[assignment]
        cases.append(o)
    o = copy.copy(order)
    o.price = StrEnum("P", {"X": "60000.1"}).X  # type: ignore[assignment]  # nullable string
    cases.append(o)
    for event in cases:
        assert _outcome(encode, event) == _outcome(FASTAVRO_ONLY.encode, event), event


def test_fast_path_decodes_fuzzed_bytes_exactly_like_fastavro() -> None:
    rng = random.Random(5)
    encoded = [encode(e) for e in SAMPLES] + [
        encode(_randomized(SAMPLES[i % len(SAMPLES)], rng)) for i in range(200)]
    for _ in range(20_000):
        data = bytearray(rng.choice(encoded))
        for _ in range(rng.randint(1, 4)):
            pos = rng.randrange(10, len(data))
            data[pos] = rng.randrange(256)
        roll = rng.random()
        if roll < 0.2:
            data = data[: rng.randrange(10, len(data))]
        elif roll < 0.3:
            data += bytes(rng.randrange(256) for _ in range(rng.randint(1, 12)))
        blob = bytes(data)
        assert _outcome(decode, blob) == _outcome(FASTAVRO_ONLY.decode, blob), blob.hex()


def test_fast_path_leaves_non_canonical_and_long_varints_to_fastavro() -> None:
    book = SAMPLES[0]
    assert isinstance(book, OrderBook)
    data = bytearray(encode(book))
    # the update_type enum index (DELTA = 1 -> 0x02) written in two bytes: 0x82 0x00
    i = data.index(bytes([2 * len(book.bids)]), 10) - 1  # the byte before the bids count
    assert data[i] == 0x02
    odd = bytes(data[:i]) + b"\x82\x00" + bytes(data[i + 1:])
    assert _outcome(decode, odd) == _outcome(FASTAVRO_ONLY.decode, odd)
    assert decode(odd) == book
    # the extreme longs take 10 bytes; still the fast path's
    big = copy.copy(book)
    big.exchange_ts, big.receive_ts = -(2**63), 2**63 - 1
    data = encode(big)
    et = REGISTRY.by_class[OrderBook]
    assert et.fast_decode is not None and et.fast_decode(data) == big
    assert decode(data) == FASTAVRO_ONLY.decode(data) == big
    # varints overflowing 64 bits: whatever fastavro's C arithmetic makes of them
    i = data.index(b"BTCUSDT") + len(b"BTCUSDT")  # exchange_ts starts here (10 bytes)
    for varint in (b"\xff" * 10 + b"\x7f", b"\x80" * 9 + b"\x02", b"\x80" * 9 + b"\x00"):
        odd = data[:i] + varint + data[i + 10:]
        assert _outcome(decode, odd) == _outcome(FASTAVRO_ONLY.decode, odd)


def test_a_schema_the_fast_path_does_not_compile_still_works() -> None:
    schema = copy.deepcopy(V1)
    schema["name"] = "Reading"
    schema["fields"].append({"name": "value", "type": "double"})

    @dataclass(slots=True, kw_only=True)
    class Reading(Event):
        SCHEMA: ClassVar[str] = "Reading"
        price: str
        value: float

    registry = Registry()
    et = registry.register(Reading, schema, handler="on_reading", channel="readings")
    assert et.fast_encode is None and et.fast_decode is None
    codec = Codec(registry)
    r = Reading(venue="v", symbol="s", exchange_ts=1, receive_ts=2, price="1", value=0.5)
    assert codec.decode(codec.encode(r)) == r


def test_old_writer_schemas_still_resolve_through_fastavro() -> None:
    old, new = _codec(PriceTickV1, V1, V2), _codec(PriceTickV2, V2, V1)
    hdr = dict(venue="binance", symbol="BTC/USDT", exchange_ts=1, receive_ts=2)
    old_bytes = old.encode(PriceTickV1(**hdr, price="60000.1"))
    assert old_bytes[2:10] not in new.registry.fast_decoders  # not the reader's schema
    assert new.decode(old_bytes) == PriceTickV2(**hdr, price="60000.1", source="exchange")


def test_fast_decoder_is_the_compiled_function_for_the_records_header() -> None:
    from ttxt_kafka.codec import DEFAULT_CODEC

    for event in SAMPLES:
        data = encode(event)
        fast = DEFAULT_CODEC.fast_decoder(data)
        assert fast is not None, event.SCHEMA
        assert fast(data) == event
    book = encode(next(e for e in SAMPLES if isinstance(e, OrderBook)))
    assert DEFAULT_CODEC.fast_decoder(b"\x00\x00\x00\x00\x01" + book[10:]) is None  # Confluent
    assert DEFAULT_CODEC.fast_decoder(b"garbage") is None
    assert DEFAULT_CODEC.fast_decoder(book[:2] + b"\x00" * 8 + book[10:]) is None  # unknown
    assert Codec(fast=False).fast_decoder(book) is None
