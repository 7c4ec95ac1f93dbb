"""Topic names: the one place they are made and parsed.

    <prefix>.<venue>.<channel>                     e.g. ttxt.binance.book, ttxt.bybit_linear.orders
    <prefix>.replay.<run_id>.<venue>.<channel>     replay output of one run

`prefix` defaults to "ttxt" (configurable everywhere a topic is named). A venue is an exchange
plus its market, so spot and derivatives never share a topic: binance, binance_usdm, bybit_spot,
bybit_linear, okx_spot, ... Channels:

    book         OrderBook snapshots and deltas           key = symbol
    trades       Trades batches                           key = symbol
    klines       Kline                                    key = symbol
    bbo          BBO                                      key = symbol
    status       ConnectorStatus                          key = symbol, or venue when venue-wide
    instruments  InstrumentInfo                           key = symbol
    orders       CreateOrder, CancelOrder, AmendOrder, CancelAllOrders (commands)  key = symbol
    executions   OrderAck, OrderUpdate, Fill              key = symbol
    account      Wallet, PositionUpdate                   key = symbol, or venue when venue-wide

Keys keep each symbol on one partition, so its events stay in order. The record timestamp is the
exchange time (milliseconds) and the header `ttxt-type` names the event type, so tools can filter
without decoding.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .events import Event
from .registry import REGISTRY

DEFAULT_PREFIX = "ttxt"
TYPE_HEADER = "ttxt-type"

MARKET_DATA_CHANNELS = ("book", "trades", "klines", "bbo")
CHANNELS = (*MARKET_DATA_CHANNELS, "status", "instruments", "orders", "executions", "account")

_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_PREFIX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*(\.[A-Za-z0-9][A-Za-z0-9_-]*)*$")


class TopicNameError(ValueError):
    pass


def _check(kind: str, value: str, pattern: re.Pattern[str] = _NAME) -> str:
    if not pattern.match(value):
        raise TopicNameError(
            f"invalid {kind} {value!r}: use lowercase letters, digits, '_' and '-'"
        )
    return value


def topic(venue: str, channel: str, prefix: str = DEFAULT_PREFIX) -> str:
    """The topic of one venue's channel, e.g. topic("binance", "book") == "ttxt.binance.book"."""
    _check("prefix", prefix, _PREFIX)
    return f"{prefix}.{_check('venue', venue)}.{_check('channel', channel)}"


def replay_topic(run_id: str, venue: str, channel: str, prefix: str = DEFAULT_PREFIX) -> str:
    """Where a replay run republishes one venue's channel."""
    return topic(venue, channel, f"{prefix}.replay.{_check('run id', run_id)}")


def channel_of(event: Event) -> str:
    return REGISTRY.by_class[type(event)].channel


def topic_for(event: Event, prefix: str = DEFAULT_PREFIX) -> str:
    """The topic an event is published on."""
    return f"{prefix}.{event.venue}.{REGISTRY.by_class[type(event)].channel}"


def wrong_channel(topic_name: str, event: Event) -> str | None:
    """Why `event` does not belong on `topic_name`, or None if it does.

    A topic's channel is its last dotted part (live and replay topics alike). Consumers treat
    an event whose type belongs to another channel (a `Trades` on a `book` topic) like an
    undecodable record: counted and skipped. Topics whose last part is no known channel
    (dead letters, a user's own names) are not checked."""
    channel = _topic_channel.get(topic_name)
    if channel is None:
        channel = topic_name.rsplit(".", 1)[-1]
        known = {et.channel for et in REGISTRY.by_class.values()}
        channel = _topic_channel[topic_name] = channel if channel in known else ""
    if not channel:
        return None
    own = REGISTRY.by_class[type(event)].channel
    if own == channel:
        return None
    return f"a {event.SCHEMA} event (channel {own!r}) on the {channel!r} topic {topic_name}"


_topic_channel: dict[str, str] = {}  # topic -> its channel ("" when not one of ours)


def key_for(event: Event) -> bytes:
    """Partition key: the symbol, or the venue for venue-wide events (wallet, status)."""
    return (event.symbol or event.venue).encode()


@dataclass(frozen=True, slots=True)
class TopicName:
    prefix: str
    venue: str
    channel: str
    run_id: str | None = None  # set for replay topics


def parse_topic(name: str, prefix: str = DEFAULT_PREFIX) -> TopicName | None:
    """Split a platform topic name into its parts; None if it is not one of ours."""
    if not name.startswith(prefix + "."):
        return None
    parts = name[len(prefix) + 1 :].split(".")
    if len(parts) == 2 and _NAME.match(parts[0]) and _NAME.match(parts[1]):
        return TopicName(prefix, parts[0], parts[1])
    if len(parts) == 4 and parts[0] == "replay" and all(_NAME.match(p) for p in parts[1:]):
        return TopicName(prefix, parts[2], parts[3], run_id=parts[1])
    return None


def topics_regex(
    venues: list[str] | None = None,
    channels: list[str] | None = None,
    prefix: str = DEFAULT_PREFIX,
) -> str:
    """A regex matching the live topics of the given venues and channels (None = all)."""
    v = "|".join(re.escape(x) for x in venues) if venues else "[a-z0-9][a-z0-9_-]*"
    c = "|".join(re.escape(x) for x in channels) if channels else "[a-z0-9][a-z0-9_-]*"
    return rf"^{re.escape(prefix)}\.({v})\.({c})$"
