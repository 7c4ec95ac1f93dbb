"""The Python event classes correspond 1:1 to the Avro schemas, field by field."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from enum import StrEnum

import pytest

from ttxt_kafka import events as ev
from ttxt_kafka.schemas import load_schema, schema_dir, schema_names

HEADER = ["venue", "symbol", "native_symbol", "exchange_ts", "receive_ts", "sequence"]
CLASSES = {cls.SCHEMA: cls for cls in ev.BUILTIN_EVENTS}
CATALOGUE = {
    "OrderBook", "Trades", "Kline", "BBO", "ConnectorStatus", "CreateOrder", "CancelOrder",
    "AmendOrder", "CancelAllOrders", "OrderAck", "OrderUpdate", "Fill", "Wallet",
    "PositionUpdate", "InstrumentInfo",
}


def test_one_schema_per_catalogue_event_and_one_class_per_schema() -> None:
    assert set(schema_names()) == CATALOGUE
    assert set(CLASSES) == CATALOGUE


def _named(schema: typing.Any, found: dict[str, typing.Any]) -> dict[str, typing.Any]:
    if isinstance(schema, list):
        for s in schema:
            _named(s, found)
    elif isinstance(schema, dict):
        if schema.get("type") in ("record", "enum"):
            found[schema["name"]] = schema
        for key in ("fields",):
            for f in schema.get(key, []):
                _named(f["type"], found)
        for key in ("items", "values"):
            if key in schema:
                _named(schema[key], found)
    return found


def _check_type(avro: typing.Any, py: typing.Any, named: dict[str, typing.Any], where: str) -> None:
    """Assert that a Python annotation matches an Avro type."""
    if isinstance(avro, list):  # union: only ["null", T] is used
        assert avro[0] == "null" and len(avro) == 2, where
        args = typing.get_args(py)
        assert isinstance(py, types.UnionType) and type(None) in args, f"{where}: not Optional"
        rest = [a for a in args if a is not type(None)]
        assert len(rest) == 1, where
        _check_type(avro[1], rest[0], named, where)
        return
    if isinstance(avro, str) and avro in named:
        avro = named[avro]
    if isinstance(avro, dict) and avro.get("logicalType") == "timestamp-micros":
        assert avro["type"] == "long" and py is int, f"{where}: a time is int microseconds"
        return
    if isinstance(avro, dict):
        kind = avro["type"]
        if kind == "enum":
            assert isinstance(py, type) and issubclass(py, StrEnum), where
            assert [m.value for m in py] == avro["symbols"], f"{where}: enum symbols differ"
        elif kind == "array":
            items = avro["items"]
            if isinstance(items, dict) and items.get("type") == "array":  # book levels
                assert py == list[ev.Level], where
            else:
                assert typing.get_origin(py) is list, where
                item_cls = typing.get_args(py)[0]
                item_schema = named[items] if isinstance(items, str) else items
                _check_record(item_schema, item_cls, named)
        elif kind == "map":
            assert py == dict[str, str], where
        else:
            raise AssertionError(f"{where}: unexpected Avro type {kind}")
        return
    expected = {"string": str, "long": int, "int": int, "boolean": bool}[avro]
    assert py is expected, f"{where}: {py} is not {expected}"


def _check_record(schema: dict[str, typing.Any], cls: type, named: dict[str, typing.Any]) -> None:
    fields = dataclasses.fields(cls)
    hints = typing.get_type_hints(cls)
    assert [f.name for f in fields] == [f["name"] for f in schema["fields"]], cls.__name__
    for py_field, avro_field in zip(fields, schema["fields"], strict=True):
        where = f"{cls.__name__}.{py_field.name}"
        _check_type(avro_field["type"], hints[py_field.name], named, where)
        has_py_default = (py_field.default is not dataclasses.MISSING
                          or py_field.default_factory is not dataclasses.MISSING)
        if "default" in avro_field:
            assert has_py_default, f"{where}: schema has a default, class has none"
            py_default = (py_field.default if py_field.default is not dataclasses.MISSING
                          else py_field.default_factory())  # type: ignore[misc]
            assert py_default == avro_field["default"], where
        elif py_field.name not in ("sequence",):
            assert not has_py_default, f"{where}: class has a default the schema lacks"


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_class_matches_schema_field_by_field(name: str) -> None:
    schema = load_schema(name)
    _check_record(schema, CLASSES[name], _named(schema, {}))


@pytest.mark.parametrize("name", sorted(CATALOGUE))
def test_every_schema_starts_with_the_common_header(name: str) -> None:
    schema = load_schema(name)
    assert [f["name"] for f in schema["fields"][: len(HEADER)]] == HEADER
    reference = load_schema("OrderBook")["fields"][: len(HEADER)]
    assert schema["fields"][: len(HEADER)] == reference


def test_no_schema_holds_a_price_in_a_float() -> None:
    for path in schema_dir().glob("*.avsc"):
        text = path.read_text()
        assert '"float"' not in text and '"double"' not in text, path.name
        json.loads(text)  # and each file is plain JSON


def test_decimal_conversion_is_exact() -> None:
    assert str(ev.to_decimal("0.10000000")) == "0.10000000"
    assert ev.to_decimal(None) is None
    bbo = ev.BBO(venue="x", symbol="A/B", exchange_ts=0, receive_ts=0, bid_price="0.1",
                 bid_qty="1", ask_price="0.2", ask_qty="1")
    assert str(bbo.mid()) == "0.15"


def test_positional_constructors_build_the_same_events() -> None:
    trade = ev.new_trade("7", "0.35280000", "58.00000000", ev.Side.SELL, 5)
    assert trade == ev.Trade(trade_id="7", price="0.35280000", qty="58.00000000",
                             side=ev.Side.SELL, exchange_ts=5)
    trades = ev.new_trades("binance", "NKN/USDT", "NKNUSDT", 1, 2, 7, [trade])
    assert trades == ev.Trades(venue="binance", symbol="NKN/USDT", native_symbol="NKNUSDT",
                               exchange_ts=1, receive_ts=2, sequence=7, trades=[trade])
    book = ev.new_orderbook("bybit_spot", "BTC/USDT", "BTCUSDT", 1, 2, 3, ev.UpdateType.DELTA,
                            [["1", "2"]], [], 0, None, None, None)
    assert book == ev.OrderBook(venue="bybit_spot", symbol="BTC/USDT", native_symbol="BTCUSDT",
                                exchange_ts=1, receive_ts=2, sequence=3,
                                update_type=ev.UpdateType.DELTA, bids=[["1", "2"]], asks=[])
    with pytest.raises(TypeError):
        ev.new_trade("7", "1", "2")  # every field is required
