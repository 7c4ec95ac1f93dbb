"""The event-type registry: one entry per event type, tying together its Avro schema, its Python
class, its handler method and its topic channel.

The built-in catalogue is registered at import. A custom event needs three things (see the
README, "Adding a custom event"): an `.avsc`, a class deriving from `Event`, and a handler method
name; `register_event` wires them in, and every codec, bus and handler then knows the event.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from fastavro import parse_schema

from . import events as ev
from .avro_fastpath import compile_decoder, compile_encoder
from .fingerprint import schema_fingerprint
from .schemas import expand_shared_types, load_schema, plain_times, previous_schemas

MAGIC = b"\xc3\x01"  # Avro single-object encoding marker

# Handler method and topic channel of each built-in event.
_BUILTIN_ROUTES: dict[str, tuple[str, str]] = {
    "OrderBook": ("on_orderbook", "book"),
    "Trades": ("on_trades", "trades"),
    "Kline": ("on_kline", "klines"),
    "BBO": ("on_bbo", "bbo"),
    "ConnectorStatus": ("on_connector_status", "status"),
    "InstrumentInfo": ("on_instrument_info", "instruments"),
    "CreateOrder": ("on_create_order", "orders"),
    "CancelOrder": ("on_cancel_order", "orders"),
    "AmendOrder": ("on_amend_order", "orders"),
    "CancelAllOrders": ("on_cancel_all_orders", "orders"),
    "OrderAck": ("on_order_ack", "executions"),
    "OrderUpdate": ("on_order_update", "executions"),
    "Fill": ("on_fill", "executions"),
    "Wallet": ("on_wallet", "account"),
    "PositionUpdate": ("on_position", "account"),
}


@dataclass(frozen=True, slots=True)
class EventType:
    """Everything the platform knows about one event type."""

    name: str
    cls: type[ev.Event]
    schema: dict[str, Any]
    parsed: Any  # fastavro parsed schema
    fingerprint: bytes
    prefix: bytes  # MAGIC + fingerprint: the first 10 bytes of every encoded record
    handler: str
    channel: str
    to_record: Callable[[ev.Event], dict[str, Any]]
    from_record: Callable[[dict[str, Any]], ev.Event]
    # Schema-specialized codec functions (``avro_fastpath``), None where the schema uses
    # something they do not compile. The codec falls back to fastavro whenever they raise.
    fast_encode: Callable[[ev.Event], bytes] | None = None
    fast_decode: Callable[[bytes], ev.Event] | None = None


class RegistryError(ValueError):
    pass


def _named_types(schema: Any, found: dict[str, Any]) -> dict[str, Any]:
    """Every named type (record, enum) defined anywhere inside a schema, by short name."""
    if isinstance(schema, list):
        for branch in schema:
            _named_types(branch, found)
    elif isinstance(schema, dict):
        kind = schema.get("type")
        if kind in ("record", "enum", "fixed"):
            found.setdefault(schema["name"].rsplit(".", 1)[-1], schema)
        if kind == "record":
            for f in schema["fields"]:
                _named_types(f["type"], found)
        elif kind == "array":
            _named_types(schema["items"], found)
        elif kind == "map":
            _named_types(schema["values"], found)
        elif isinstance(kind, dict | list):
            _named_types(kind, found)
    return found


def _enum_of(field_type: Any, named: dict[str, Any]) -> type[StrEnum] | None:
    """The Python enum for a field whose (possibly nullable) type is an Avro enum."""
    branches = field_type if isinstance(field_type, list) else [field_type]
    for b in branches:
        name = b.get("name") if isinstance(b, dict) and b.get("type") == "enum" else b
        if isinstance(name, str) and named.get(name, {}).get("type") == "enum":
            enum_cls = ev.ENUMS.get(name)
            if enum_cls is None:
                raise RegistryError(f"Avro enum {name} has no Python enum in ttxt_kafka.events")
            return enum_cls
    return None


def _nested_record_of(field_type: Any, named: dict[str, Any]) -> dict[str, Any] | None:
    """The item schema of a field of type array<record> (Trades.trades, Wallet.balances)."""
    if isinstance(field_type, dict) and field_type.get("type") == "array":
        items = field_type["items"]
        name = items.get("name") if isinstance(items, dict) else items
        if isinstance(name, str) and named.get(name, {}).get("type") == "record":
            return named[name]
    return None


def _enum_fields(record_schema: dict[str, Any], named: dict[str, Any]) -> list[tuple[str, Any]]:
    """(field name, value -> enum member map) for each enum-typed field of a record."""
    found = []
    for f in record_schema["fields"]:
        enum_cls = _enum_of(f["type"], named)
        if enum_cls is not None:
            found.append((f["name"], enum_cls._value2member_map_))
    return found


Converters = tuple[
    Callable[[ev.Event], dict[str, Any]],
    Callable[[dict[str, Any]], ev.Event],
    Callable[[ev.Event], bytes] | None,
    Callable[[bytes], ev.Event] | None,
]


def _converters(cls: type[ev.Event], schema: dict[str, Any], prefix: bytes) -> Converters:
    """Build the event <-> Avro-record functions for one event type, once, at registration,
    and the fast-path codec functions that follow the same conversions."""
    named = _named_types(schema, {})
    names = tuple(f["name"] for f in schema["fields"])
    enums = _enum_fields(schema, named)
    # (field, item class, item field names, item enum fields) for array<record> fields
    nested: list[tuple[str, type[Any], tuple[str, ...], list[tuple[str, Any]]]] = []
    for f in schema["fields"]:
        item_schema = _nested_record_of(f["type"], named)
        if item_schema is None:
            continue
        item_cls = ev.NESTED_RECORDS.get(item_schema["name"])
        if item_cls is None:
            raise RegistryError(f"Avro record {item_schema['name']} has no class in NESTED_RECORDS")
        item_names = tuple(x["name"] for x in item_schema["fields"])
        nested.append((f["name"], item_cls, item_names, _enum_fields(item_schema, named)))

    def to_record(event: ev.Event) -> dict[str, Any]:
        record = {n: getattr(event, n) for n in names}
        for fname, _cls, item_names, _enums in nested:
            record[fname] = [{n: getattr(it, n) for n in item_names} for it in record[fname]]
        return record

    def from_record(record: dict[str, Any]) -> ev.Event:
        for fname, members in enums:
            value = record[fname]
            if value is not None:
                record[fname] = members[value]
        for fname, item_cls, _names, item_enums in nested:
            items = record[fname]
            for item in items:
                for ename, members in item_enums:
                    item[ename] = members[item[ename]]
            record[fname] = [item_cls(**item) for item in items]
        return cls(**record)

    fast_enums = dict(enums)
    fast_nested = {fname: (item_cls, dict(item_enums))
                   for fname, item_cls, _names, item_enums in nested}
    fast_encode = compile_encoder(cls, schema, named, fast_enums, fast_nested, prefix)
    fast_decode = compile_decoder(cls, schema, named, fast_enums, fast_nested, len(prefix))
    return to_record, from_record, fast_encode, fast_decode


class Registry:
    """Event types by name, by class and by writer-schema fingerprint."""

    def __init__(self) -> None:
        self.by_name: dict[str, EventType] = {}
        self.by_class: dict[type[ev.Event], EventType] = {}
        # fingerprint -> (parsed writer schema, the event type it decodes into)
        self.writers: dict[bytes, tuple[Any, EventType]] = {}
        # fingerprint of a registered (reader) schema -> its fast-path decoder
        self.fast_decoders: dict[bytes, Callable[[bytes], ev.Event]] = {}

    def register(
        self,
        cls: type[ev.Event],
        schema: dict[str, Any] | None = None,
        *,
        handler: str | None = None,
        channel: str | None = None,
    ) -> EventType:
        """Register an event class with its schema (default: schemas/<SCHEMA>.avsc).

        The schema may refer to the shared types of `schemas/types/` by name (e.g.
        `"ttxt.events.Side"`); they are inlined at first use (the fingerprint is the same)."""
        name = cls.SCHEMA
        if not name:
            raise RegistryError(f"{cls.__name__} must set SCHEMA to its Avro record name")
        schema = load_schema(name) if schema is None else expand_shared_types(schema)
        if schema.get("name", "").rsplit(".", 1)[-1] != name:
            raise RegistryError(f"schema name {schema.get('name')!r} != {cls.__name__}.SCHEMA")
        builtin_handler, builtin_channel = _BUILTIN_ROUTES.get(name, (None, None))
        handler = handler or builtin_handler
        channel = channel or builtin_channel
        if not handler or not channel:
            raise RegistryError(f"{name}: a custom event needs handler= and channel=")
        self._check_fields(cls, schema)
        fp = schema_fingerprint(schema)
        # The codec's view: times as plain longs (the events' int microseconds), not datetimes.
        plain = plain_times(schema)
        to_record, from_record, fast_encode, fast_decode = _converters(cls, plain, MAGIC + fp)
        parsed = parse_schema(plain)
        et = EventType(name, cls, schema, parsed, fp, MAGIC + fp, handler, channel,
                       to_record, from_record, fast_encode, fast_decode)
        self.by_name[name] = et
        self.by_class[cls] = et
        self.writers[fp] = (parsed, et)
        # Records written with exactly this schema decode on the fast path (no resolution).
        if fast_decode is None:
            self.fast_decoders.pop(fp, None)
        else:
            self.fast_decoders[fp] = fast_decode
        return et

    def add_writer_schema(self, schema: dict[str, Any]) -> bytes:
        """Accept records written with another version of a registered schema.

        They decode into the registered (reader) version by Avro schema resolution.
        Returns the writer schema's fingerprint.
        """
        schema = expand_shared_types(schema)
        name = schema["name"].rsplit(".", 1)[-1]
        if name not in self.by_name:
            raise RegistryError(f"no registered event type {name} to resolve {name} records into")
        fp = schema_fingerprint(schema)
        self.writers.setdefault(fp, (parse_schema(plain_times(schema)), self.by_name[name]))
        return fp

    @staticmethod
    def _check_fields(cls: type[ev.Event], schema: dict[str, Any]) -> None:
        py = [f.name for f in dataclasses.fields(cls)]
        avro = [f["name"] for f in schema["fields"]]
        if py != avro:
            raise RegistryError(
                f"{cls.__name__} fields {py} do not match schema {schema['name']} fields {avro}"
            )


def _builtin_registry() -> Registry:
    registry = Registry()
    for cls in ev.BUILTIN_EVENTS:
        registry.register(cls)
    # Earlier versions of the schemas (schemas/previous/<Name>.v<N>.avsc): records written
    # with them, before a field was added, still decode (Avro resolution fills the default).
    for schema in previous_schemas():
        registry.add_writer_schema(schema)
    return registry


REGISTRY = _builtin_registry()


def register_event(
    cls: type[ev.Event],
    schema: dict[str, Any],
    *,
    handler: str,
    channel: str,
    registry: Registry | None = None,
) -> EventType:
    """Add a custom event type to the platform (the default registry unless one is given)."""
    return (registry or REGISTRY).register(cls, schema, handler=handler, channel=channel)
