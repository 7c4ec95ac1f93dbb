"""Where the Avro schemas live and how to load them.

`schemas/` at the repository top is the single source of truth; a built wheel carries the same
files as `ttxt_kafka/_schemas`:

- `schemas/<Event>.avsc`: one event type each;
- `schemas/types/<Type>.avsc`: named types several events share (`Side`, `OrderType`,
  `TimeInForce`), each defined once; the event files refer to them by name, so the whole folder
  loads into one Avro parser (Java's `Schema.Parser`, Python `avro`'s `Names`, code generators)
  with `types/` first;
- `schemas/previous/<Event>.v<N>.avsc`: earlier versions, self-contained (each as it was written,
  shared types inline), read only to resolve old records.

`load_schema` gives an event's schema self-contained: each shared type inlined at its first use,
as the Parsing Canonical Form does anyway, so fingerprints are those of the self-contained files
and a Schema Registry needs no schema references.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

_PRIMITIVES = frozenset(("null", "boolean", "int", "long", "float", "double", "bytes", "string"))
_NAMED = ("record", "enum", "fixed")


@cache
def schema_dir() -> Path:
    packaged = Path(__file__).parent / "_schemas"
    if packaged.is_dir():
        return packaged
    source = Path(__file__).resolve().parent.parent / "schemas"
    if source.is_dir():
        return source
    raise FileNotFoundError(f"Avro schemas not found in {packaged} or {source}")


def _read(path: Path) -> Any:
    with path.open(encoding="utf-8") as fh:
        return json.load(fh)


def _fullname(name: str, namespace: str | None) -> str:
    return name if "." in name or not namespace else f"{namespace}.{name}"


@cache
def _shared_types() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for path in sorted((schema_dir() / "types").glob("*.avsc")):
        schema = _read(path)
        found[_fullname(schema["name"], schema.get("namespace"))] = schema
    return found


def shared_types() -> dict[str, dict[str, Any]]:
    """The shared named types of `schemas/types/`, by full name (e.g. `ttxt.events.Side`)."""
    return copy.deepcopy(_shared_types())


def expand_shared_types(schema: Any, types: dict[str, dict[str, Any]] | None = None) -> Any:
    """The schema with each shared named type it refers to defined inline at its first use
    (later uses stay references, as Avro requires). Names the schema defines itself and names
    no shared type has are left as they are (an unknown name is the Avro parser's error)."""
    table = _shared_types() if types is None else types
    defined: set[str] = set()

    def walk(s: Any, ns: str | None) -> Any:
        if isinstance(s, str):
            full = _fullname(s, ns)
            if s in _PRIMITIVES or full in defined or full not in table:
                return s
            inline = copy.deepcopy(table[full])
            if inline.get("namespace") == ns:  # written exactly as an inline definition would be
                del inline["namespace"]
            return walk(inline, ns)
        if isinstance(s, list):
            return [walk(branch, ns) for branch in s]
        if not isinstance(s, dict):
            return s
        kind = s.get("type")
        if kind in _NAMED:
            name = s["name"]
            own_ns = name.rsplit(".", 1)[0] if "." in name else s.get("namespace", ns)
            defined.add(_fullname(name, own_ns))
            if kind == "record":
                return {**s, "fields": [{**f, "type": walk(f["type"], own_ns)}
                                        for f in s["fields"]]}
            return s
        if kind == "array":
            return {**s, "items": walk(s["items"], ns)}
        if kind == "map":
            return {**s, "values": walk(s["values"], ns)}
        if isinstance(kind, list | dict) or (isinstance(kind, str) and kind not in _PRIMITIVES):
            return {**s, "type": walk(kind, ns)}
        return s

    return walk(schema, None)


def load_schema(name: str) -> dict[str, Any]:
    """The schema of one event type, self-contained, e.g. load_schema("OrderBook")."""
    schema: dict[str, Any] = expand_shared_types(_read(schema_dir() / f"{name}.avsc"))
    return schema


def schema_names() -> list[str]:
    """The event types of `schemas/` (not the shared types of `schemas/types/`)."""
    return sorted(p.stem for p in schema_dir().glob("*.avsc"))


def previous_schemas() -> list[dict[str, Any]]:
    """Earlier versions of the schemas, kept so that records written with them still decode:
    `schemas/previous/<Name>.v<N>.avsc` (each a copy of the file before a field was added)."""
    return [expand_shared_types(_read(path))
            for path in sorted((schema_dir() / "previous").glob("*.avsc"))]


# Avro's timestamp logical types on `long`. The schemas annotate every time (microseconds since
# the Unix epoch) with one so that SQL tools, polars, DuckDB... show timestamps; the platform's
# events keep the integer microseconds, so the codec reads and writes the plain `long`.
_TIMESTAMPS = frozenset(("timestamp-micros", "timestamp-millis",
                         "local-timestamp-micros", "local-timestamp-millis"))


def plain_times(schema: Any) -> Any:
    """The schema with each timestamp logical type replaced by its plain `long`: the same bytes
    and the same fingerprint (logical types are not in the Parsing Canonical Form), but fastavro
    reads ints, not datetimes. The codec and the archive reader parse this form."""
    if isinstance(schema, list):
        return [plain_times(branch) for branch in schema]
    if not isinstance(schema, dict):
        return schema
    if schema.get("type") == "long" and schema.get("logicalType") in _TIMESTAMPS:
        return "long"
    out = dict(schema)
    if "fields" in out:
        out["fields"] = [{**f, "type": plain_times(f["type"])} for f in out["fields"]]
    for key in ("items", "values"):
        if key in out:
            out[key] = plain_times(out[key])
    if isinstance(out.get("type"), dict | list):
        out["type"] = plain_times(out["type"])
    return out
