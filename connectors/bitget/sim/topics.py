"""Bitget v2 public subscriptions: `{"instType", "channel", "instId"}` args and the publication
key the simulator files them under (`<channel>:<instId>`, one instType per venue)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ttxt_kafka.simulator.feeds import UnknownStream

INST_TYPES = {"spot": "SPOT", "usdt-futures": "USDT-FUTURES"}
CANDLES = ("candle1m", "candle5m", "candle15m", "candle30m", "candle1H", "candle4H", "candle6H",
           "candle12H", "candle1D", "candle3D", "candle1W", "candle1M", "candle6Hutc",
           "candle12Hutc", "candle1Dutc", "candle3Dutc", "candle1Wutc", "candle1Mutc")
CHANNELS = ("books", "books1", "books5", "books15", "trade", "ticker", *CANDLES)
_SYMBOL = re.compile(r"^[A-Z0-9]+$")


@dataclass(frozen=True, slots=True)
class Key:
    name: str
    channel: str
    symbol: str


def key_of(channel: str, inst_id: str) -> str:
    return f"{channel}:{inst_id}"


def parse_key(name: str) -> Key:
    """A `<channel>:<instId>` key as the venue would accept its arg; raises UnknownStream."""
    channel, _, symbol = name.partition(":")
    if channel not in CHANNELS or not _SYMBOL.match(symbol):
        raise UnknownStream(name)
    return Key(name, channel, symbol)
