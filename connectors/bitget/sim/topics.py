"""Bitget v2 public subscriptions: `{"instType", "channel", "instId"}` args and the publication
key the simulator files them under (`<channel>:<instId>`, one instType per venue)."""

from __future__ import annotations

import re

from ttxt_kafka.simulator import keys
from ttxt_kafka.simulator.keys import Key
from ttxt_kafka.simulator.keys import key_of as key_of

INST_TYPES = {"spot": "SPOT", "usdt-futures": "USDT-FUTURES"}
CANDLES = ("candle1m", "candle5m", "candle15m", "candle30m", "candle1H", "candle4H", "candle6H",
           "candle12H", "candle1D", "candle3D", "candle1W", "candle1M", "candle6Hutc",
           "candle12Hutc", "candle1Dutc", "candle3Dutc", "candle1Wutc", "candle1Mutc")
CHANNELS = ("books", "books1", "books5", "books15", "trade", "ticker", *CANDLES)
_SYMBOL = re.compile(r"^[A-Z0-9]+$")


def parse_key(name: str) -> Key:
    """A `<channel>:<instId>` key as Bitget would accept its arg; raises UnknownStream."""
    return keys.parse_key(name, CHANNELS, _SYMBOL)
