"""`schemas/` as other Avro tools load it: one name table, each named type defined once.

Checked with the official Python `avro` package (Apache's own implementation, independent of
the fastavro the platform uses): the whole folder loads into one `Names` table (a type defined
twice fails there with "already in use", as Java's `Schema.Parser` fails with "Can't
redefine"), each file still parses alone (with the shared types), and the fingerprints are
those of the self-contained schemas the platform has always written.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import avro.errors
import avro.name
import avro.schema
import pytest

from ttxt_kafka import events as ev
from ttxt_kafka.codec import Codec
from ttxt_kafka.fingerprint import schema_fingerprint
from ttxt_kafka.local_kafka import cache_root
from ttxt_kafka.registry import REGISTRY, Registry
from ttxt_kafka.schemas import (
    expand_shared_types,
    load_schema,
    plain_times,
    previous_schemas,
    schema_dir,
    schema_names,
    shared_types,
)

# The fingerprints before the shared types moved to schemas/types/ (and before the times were
# annotated timestamp-micros): neither change may change them, or every record already written
# would stop decoding.
FINGERPRINTS = {
    "AmendOrder": "9fcec5c61469bcea", "BBO": "a0431decd4b9f2cf",
    "CancelAllOrders": "9008469157ee7ed5", "CancelOrder": "3700e6751754b918",
    "ConnectorStatus": "1b2a086a7b5abebb", "CreateOrder": "533b386e122c372f",
    "Fill": "2264b3fc6e043d9f", "InstrumentInfo": "01b22b7fb0ca7914",
    "Kline": "9c46e9778e8480fc", "OrderAck": "5e50f2af142942e6",
    "OrderBook": "8754ef779c185f7c", "OrderUpdate": "472aadbea834420b",
    "PositionUpdate": "47f182e443f46349", "Trades": "e1e25f5403828070",
    "Wallet": "9a97a338bcb84a9b",
}
JAVA_DIR = Path(__file__).parent / "java_avro"
PREVIOUS_FINGERPRINTS = {
    "AmendOrder.v1": "9d6cdb11081e537b", "CancelAllOrders.v1": "7e4f1643b21be947",
    "CancelOrder.v1": "e3178a38423214a7", "CreateOrder.v1": "38da515848a5a020",
}


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _type_files() -> list[Path]:
    return sorted((schema_dir() / "types").glob("*.avsc"))


def _event_files() -> list[Path]:
    return sorted(schema_dir().glob("*.avsc"))


def _with_shared_types() -> avro.name.Names:
    names = avro.name.Names()
    for path in _type_files():
        avro.schema.make_avsc_object(_json(path), names)
    return names


def test_the_shared_types_have_their_own_files() -> None:
    assert [p.stem for p in _type_files()] == ["OrderType", "Side", "TimeInForce"]
    assert set(shared_types()) == {"ttxt.events.OrderType", "ttxt.events.Side",
                                   "ttxt.events.TimeInForce"}


def test_every_avsc_loads_into_one_avro_name_table() -> None:
    names = _with_shared_types()
    parsed = {p.stem: avro.schema.make_avsc_object(_json(p), names) for p in _event_files()}
    assert sorted(parsed) == schema_names()
    assert {cls.SCHEMA for cls in ev.BUILTIN_EVENTS} == parsed.keys()


def _plain_avro(path: Path, names: avro.name.Names) -> avro.schema.Schema:
    """Python avro 1.12 keeps `{"type":"long"}` in the canonical form of a long that has a
    logical type (the spec's [PRIMITIVES] rule makes it `"long"`, as Java's SchemaNormalization
    and fastavro do), so its fingerprints are compared on the files without the annotations."""
    return avro.schema.make_avsc_object(plain_times(_json(path)), names)


def test_the_fingerprints_did_not_change() -> None:
    """Canonical form inlines a named type at its first use and drops logical types: the
    by-name files, the self-contained schemas the codec registers and the files as they were
    are one schema, by Apache's implementation and by ours."""
    names = avro.name.Names()
    for path in _type_files():
        _plain_avro(path, names)
    for path in _event_files():
        name = path.stem
        assert _plain_avro(path, names).fingerprint().hex() == FINGERPRINTS[name] == \
            REGISTRY.by_name[name].fingerprint.hex() == \
            schema_fingerprint(plain_times(load_schema(name))).hex(), name


def test_a_type_defined_twice_is_what_the_avro_parser_refuses() -> None:
    """What the name-table test guards against (the old files defined Side in four)."""
    names = _with_shared_types()
    with pytest.raises(avro.errors.SchemaParseException, match="already in use"):
        avro.schema.make_avsc_object(_json(schema_dir() / "types" / "Side.avsc"), names)


def test_each_event_file_parses_alone_with_the_shared_types() -> None:
    for path in _event_files():
        avro.schema.make_avsc_object(_json(path), _with_shared_types())


def test_each_event_schema_is_self_contained_as_loaded() -> None:
    """What a tool without the types folder (or a Schema Registry) gets: `load_schema`."""
    for name in schema_names():
        avro.schema.make_avsc_object(load_schema(name), avro.name.Names())
        alone = avro.schema.make_avsc_object(plain_times(load_schema(name)), avro.name.Names())
        assert alone.fingerprint().hex() == FINGERPRINTS[name]


def test_previous_versions_are_self_contained_and_keep_their_fingerprints() -> None:
    paths = sorted((schema_dir() / "previous").glob("*.avsc"))
    assert [p.stem for p in paths] == sorted(PREVIOUS_FINGERPRINTS)
    for path in paths:
        schema = avro.schema.make_avsc_object(_json(path), avro.name.Names())
        assert schema.fingerprint().hex() == PREVIOUS_FINGERPRINTS[path.stem], path.name
    assert len(previous_schemas()) == len(paths)
    previous = {fp.hex() for fp, (_, et) in REGISTRY.writers.items() if fp != et.fingerprint}
    assert previous == set(PREVIOUS_FINGERPRINTS.values())


def test_expansion_inlines_first_use_only_and_leaves_other_names() -> None:
    schema = {"type": "record", "name": "X", "namespace": "ttxt.events", "fields": [
        {"name": "a", "type": "Side"}, {"name": "b", "type": ["null", "ttxt.events.Side"]},
        {"name": "c", "type": {"type": "array", "items": "Unknown"}}]}
    out = expand_shared_types(schema)
    assert out["fields"][0]["type"]["symbols"] == ["BUY", "SELL", "UNKNOWN"]
    assert "namespace" not in out["fields"][0]["type"]  # as an inline definition is written
    assert out["fields"][1]["type"] == ["null", "ttxt.events.Side"]
    assert out["fields"][2]["type"]["items"] == "Unknown"  # the parser's error to raise
    assert schema["fields"][0]["type"] == "Side"  # the input is not changed


@dataclass(slots=True, kw_only=True)
class Liquidation(ev.Event):
    SCHEMA: ClassVar[str] = "Liquidation"

    side: ev.Side
    qty: str


def test_a_custom_event_may_refer_to_a_shared_type_by_name() -> None:
    schema = {"type": "record", "name": "Liquidation", "namespace": "example.custom", "fields": [
        *load_schema("BBO")["fields"][:6],
        {"name": "side", "type": "ttxt.events.Side"}, {"name": "qty", "type": "string"}]}
    registry = Registry()
    et = registry.register(Liquidation, schema, handler="on_liquidation", channel="liq")
    assert et.fast_encode is not None and et.fast_decode is not None
    event = Liquidation(venue="v", symbol="A/B", exchange_ts=1, receive_ts=2, side=ev.Side.SELL,
                        qty="0.5")
    for fast in (True, False):
        codec = Codec(registry, fast=fast)
        back = codec.decode(codec.encode(event))
        assert back == event and back.side is ev.Side.SELL


def _java_avro() -> Path:
    """Java Avro's jars, fetched once with mvn (tests/java_avro/pom.xml) into the cache."""
    libs = cache_root() / "tests" / "java-avro-1.12.0"
    if any(libs.glob("avro-1.12.0.jar")):
        return libs
    mvn, java = shutil.which("mvn"), shutil.which("java")
    if mvn is None or java is None:
        pytest.skip("Java Avro needs java and mvn (as the local broker does)")
    work = libs.with_name(libs.name + f".{os.getpid()}")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    shutil.copy(JAVA_DIR / "pom.xml", work / "pom.xml")
    proc = subprocess.run([mvn, "-B", "-q", "-f", str(work / "pom.xml"),
                           "dependency:copy-dependencies", f"-DoutputDirectory={work / 'libs'}"],
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    shutil.rmtree(libs, ignore_errors=True)
    (work / "libs").rename(libs)
    shutil.rmtree(work, ignore_errors=True)
    return libs


def test_java_avro_loads_the_folder_into_one_parser_and_agrees_on_the_fingerprints() -> None:
    """The tool of the original report (Java Avro: "Can't redefine: ttxt.events.Side"), and the
    reference for fingerprints: the timestamp annotations leave them as they were."""
    libs = _java_avro()
    proc = subprocess.run(["java", "-cp", f"{libs}/*", str(JAVA_DIR / "SchemaFolder.java"),
                           str(schema_dir())], capture_output=True, text=True, timeout=300,
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert dict(line.split() for line in proc.stdout.splitlines()) == FINGERPRINTS
