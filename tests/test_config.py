"""Connector configuration: the examples validate, and every mistake names its key."""

from __future__ import annotations

from pathlib import Path

import pytest

from ttxt_kafka.connectors.config import ConfigError, load_config, parse_config

# Connector configs; the pipeline files beside them are checked in test_pipeline.py.
EXAMPLES = sorted(p for p in (Path(__file__).resolve().parent.parent / "examples").glob("*.yaml")
                  if not p.name.startswith("pipeline_"))


def minimal(**overrides: object) -> dict[str, object]:
    connector: dict[str, object] = {"venue": "binance", "symbols": ["BTC/USDT"],
                                    "streams": {"book": True}}
    connector.update(overrides)
    return {"connectors": [connector]}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_configs_are_valid(path: Path) -> None:
    config = load_config(path)
    assert config.connectors and config.topic_prefix == "ttxt"


def test_defaults_and_switches() -> None:
    config = parse_config(minimal(streams={"book": True, "trades": True, "klines": True}))
    c = config.connectors[0]
    assert c.book_depth == 1000 and c.streams.klines is not None
    assert c.streams.klines.intervals == ["1m"] and c.streams.bbo is False
    assert c.snapshot_interval == 60 and c.endpoints.ws is None
    bybit = parse_config({"connectors": [{"venue": "bybit_linear", "symbols": ["BTCUSDT"],
                                          "streams": {"book": {"depth": 500}, "bbo": True}}]})
    assert bybit.connectors[0].book_depth == 500
    assert parse_config(minimal(streams={"book": False, "bbo": True})).connectors[0].streams.book \
        is None


@pytest.mark.parametrize("data, expected", [
    (minimal(venu="binance"), "connectors[0].venu: unknown key"),
    (minimal(venue="kraken"), "venue: Value error, unknown venue 'kraken'; known venues: binance,"),
    (minimal(symbols=[]), "connectors[0].symbols: List should have at least 1 item"),
    (minimal(symbols=["BTC/USDT", "BTC/USDT"]), "listed twice"),
    (minimal(streams={"book": {"depth": 7}}),
     "streams.book.depth 7 is not offered by binance; use one of 5, 10, 20"),
    (minimal(streams={"book": {"deep": 7}}), "connectors[0].streams.book.deep: unknown key"),
    (minimal(streams={"klines": {"intervals": ["2m"]}}),
     "connectors[0].streams.klines.intervals[0]: Input should be '1m'"),
    (minimal(streams={}), "no stream enabled"),
    (minimal(endpoints={"ws": "http://x"}), "connectors[0].endpoints.ws: Value error, must start"),
    (minimal(snapshot_interval=-1), "connectors[0].snapshot_interval: Input should be greater"),
    (minimal(reconnect={"initial_delay": 5, "max_delay": 1}), "max_delay must be >= initial"),
    ({"connectors": []}, "connectors: List should have at least 1 item"),
    ({}, "connectors: required key is missing"),
    ({**minimal(), "topic_prefix": "bad prefix"}, "topic_prefix: Value error, invalid prefix"),
    ({**minimal(), "kafka": {"bootstrap": "x"}}, "kafka.bootstrap: unknown key"),
    ({**minimal(), "kafka": {"linger_ms": {"books": 0}}},
     "kafka.linger_ms: Value error, linger_ms: unknown channel 'books' (channels: book, trades"),
    ({**minimal(), "kafka": {"linger_ms": {"trades": -1}}},
     "kafka.linger_ms: Value error, linger_ms.trades: linger must be a whole number of "
     "milliseconds >= 0, got -1"),
    ({**minimal(), "kafka": {"linger_ms": {"trades": "soon"}}},
     "kafka.linger_ms.trades: Input should be a valid integer"),
    ({**minimal(), "kafka": {"linger_ms": 0}}, "kafka.linger_ms: Input should be a valid "
     "dictionary"),
    ({**minimal(), "kafka": {"producer": {"linger_ms": "5ms"}}},
     "kafka.producer: Value error, producer.linger_ms: linger must be a whole number of "
     "milliseconds >= 0, got '5ms'"),
    ([1, 2], "expected a mapping"),
])
def test_errors_name_the_bad_key(data: object, expected: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(data, "my.yaml")
    assert expected in str(err.value)
    assert str(err.value).startswith("my.yaml")


def test_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read the config"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("connectors: [\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)
    several = tmp_path / "several.yaml"
    several.write_text("connectors:\n  - venue: binance\n    symbol: [BTCUSDT]\n    streams: {}\n")
    with pytest.raises(ConfigError) as err:
        load_config(several)
    text = str(err.value)
    assert "connectors[0].symbol: unknown key" in text
    assert "connectors[0].symbols: required key is missing" in text


def test_lingers_per_channel() -> None:
    """`kafka.linger_ms` per channel over the defaults; `kafka.producer.linger_ms` (the one
    linger there was before) sets every channel the map does not name."""
    from ttxt_kafka.bus.linger import channel_lingers

    config = parse_config({**minimal(), "kafka": {"linger_ms": {"trades": 200, "book": 1}}})
    lingers, other = channel_lingers(config.kafka.producer, config.kafka.linger_ms)
    assert (lingers["book"], lingers["trades"], lingers["bbo"], lingers["klines"]) == (1, 200, 0, 5)
    assert other == 5
    config = parse_config({**minimal(), "kafka": {"producer": {"linger_ms": 0},
                                                   "linger_ms": {"trades": 5}}})
    lingers, other = channel_lingers(config.kafka.producer, config.kafka.linger_ms)
    assert set(lingers.values()) == {0, 5} and lingers["trades"] == 5 and lingers["klines"] == 0
    assert other == 0
