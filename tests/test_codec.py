"""Avro single-object encoding: round trips, plain-Avro interop, evolution, bad bytes."""

from __future__ import annotations

import copy
import io
import random
from dataclasses import dataclass
from typing import ClassVar

import pytest
from fastavro import parse_schema, schemaless_reader
from samples import all_samples

from ttxt_kafka.codec import (
    Codec,
    CodecError,
    CorruptRecordError,
    NotSingleObjectError,
    UnknownSchemaError,
    decode,
    encode,
)
from ttxt_kafka.events import Event, OrderBook
from ttxt_kafka.fingerprint import canonical_form, crc64_avro, schema_fingerprint
from ttxt_kafka.registry import Registry
from ttxt_kafka.schemas import load_schema

SAMPLES = all_samples()


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
    assert record["venue"] == event.venue and record["exchange_ts"] == event.exchange_ts


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
