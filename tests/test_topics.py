from __future__ import annotations

import re

import pytest
from samples import all_samples

from ttxt_kafka.topics import (
    TopicNameError,
    channel_of,
    key_for,
    parse_topic,
    replay_topic,
    topic,
    topic_for,
    topics_regex,
)


def test_names() -> None:
    assert topic("binance", "book") == "ttxt.binance.book"
    assert topic("bybit_linear", "orders", prefix="prod.ttxt") == "prod.ttxt.bybit_linear.orders"
    assert replay_topic("run1", "binance_usdm", "trades") == "ttxt.replay.run1.binance_usdm.trades"


def test_every_event_has_a_channel_and_a_key() -> None:
    expected = {
        "OrderBook": "book", "Trades": "trades", "Kline": "klines", "BBO": "bbo",
        "ConnectorStatus": "status", "InstrumentInfo": "instruments", "CreateOrder": "orders",
        "CancelOrder": "orders", "AmendOrder": "orders", "CancelAllOrders": "orders",
        "OrderAck": "executions", "OrderUpdate": "executions", "Fill": "executions",
        "Wallet": "account", "PositionUpdate": "account",
    }
    for event in all_samples():
        assert channel_of(event) == expected[event.SCHEMA]
        assert topic_for(event) == f"ttxt.{event.venue}.{expected[event.SCHEMA]}"
        assert key_for(event) == (event.symbol or event.venue).encode()


def test_parse_round_trips_and_rejects_foreign_topics() -> None:
    t = parse_topic("ttxt.binance_usdm.book")
    assert t is not None and (t.venue, t.channel, t.run_id) == ("binance_usdm", "book", None)
    r = parse_topic(replay_topic("abc", "bybit_spot", "bbo"))
    assert r is not None and (r.venue, r.channel, r.run_id) == ("bybit_spot", "bbo", "abc")
    assert parse_topic("__consumer_offsets") is None
    assert parse_topic("ttxt.too.many.parts.here.x") is None


def test_invalid_names_are_refused_clearly() -> None:
    with pytest.raises(TopicNameError, match="invalid venue 'Binance Spot'"):
        topic("Binance Spot", "book")
    with pytest.raises(TopicNameError, match="invalid channel"):
        topic("binance", "bo/ok")


def test_regex_selects_venues_and_channels() -> None:
    rx = re.compile(topics_regex(["binance"], ["book", "trades"]))
    assert rx.match("ttxt.binance.book") and rx.match("ttxt.binance.trades")
    assert not rx.match("ttxt.binance_usdm.book") and not rx.match("ttxt.binance.orders")
    assert re.match(topics_regex(), "ttxt.okx_spot.bbo")
    assert not re.match(topics_regex(), "ttxt.replay.r.okx_spot.bbo")
