"""Publication keys `<channel>:<symbol>` of the exchanges whose subscriptions are (channel,
instrument) args (Bitget, OKX): one key per subscription arg, parsed as the venue would accept
the arg (its channels, its instrument id syntax) or refused with UnknownStream."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from ttxt_kafka.simulator.feeds import UnknownStream


@dataclass(frozen=True, slots=True)
class Key:
    name: str
    channel: str
    symbol: str


def key_of(channel: str, symbol: str) -> str:
    return f"{channel}:{symbol}"


def parse_key(name: str, channels: Collection[str], symbol: re.Pattern[str]) -> Key:
    channel, _, sym = name.partition(":")
    if channel not in channels or not symbol.match(sym):
        raise UnknownStream(name)
    return Key(name, channel, sym)
