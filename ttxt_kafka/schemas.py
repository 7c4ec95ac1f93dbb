"""Where the Avro schemas live and how to load them.

`schemas/` at the repository top is the single source of truth; a built wheel carries the same
files as `ttxt_kafka/_schemas`.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any


@cache
def schema_dir() -> Path:
    packaged = Path(__file__).parent / "_schemas"
    if packaged.is_dir():
        return packaged
    source = Path(__file__).resolve().parent.parent / "schemas"
    if source.is_dir():
        return source
    raise FileNotFoundError(f"Avro schemas not found in {packaged} or {source}")


def load_schema(name: str) -> dict[str, Any]:
    """The schema of one event type, e.g. load_schema("OrderBook")."""
    path = schema_dir() / f"{name}.avsc"
    with path.open(encoding="utf-8") as fh:
        schema: dict[str, Any] = json.load(fh)
    return schema


def schema_names() -> list[str]:
    return sorted(p.stem for p in schema_dir().glob("*.avsc"))


def previous_schemas() -> list[dict[str, Any]]:
    """Earlier versions of the schemas, kept so that records written with them still decode:
    `schemas/previous/<Name>.v<N>.avsc` (each a copy of the file before a field was added)."""
    out = []
    for path in sorted((schema_dir() / "previous").glob("*.avsc")):
        with path.open(encoding="utf-8") as fh:
            out.append(json.load(fh))
    return out
