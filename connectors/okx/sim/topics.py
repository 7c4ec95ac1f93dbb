"""OKX v5 public subscriptions: `{"channel", "instId"}` args and the publication key the
simulator files them under (`<channel>:<instId>`). Candles live on `/ws/v5/business`, the rest
on `/ws/v5/public` (OKX answers 60018 for a channel asked on the wrong URL)."""

from __future__ import annotations

import re

from ttxt_kafka.simulator import keys
from ttxt_kafka.simulator.keys import Key
from ttxt_kafka.simulator.keys import key_of as key_of

from ..normalizer_spot import INTERVALS

INST_TYPES = {"spot": "SPOT", "swap": "SWAP"}
CANDLES = tuple(INTERVALS)
PUBLIC = ("books", "books5", "bbo-tbt", "trades", "tickers")
CHANNELS = (*PUBLIC, *CANDLES)
_INST_ID = re.compile(r"^[A-Z0-9]+-[A-Z0-9]+(-[A-Z0-9]+)?$")


def parse_key(name: str) -> Key:
    """A `<channel>:<instId>` key as OKX would accept its arg; raises UnknownStream."""
    return keys.parse_key(name, CHANNELS, _INST_ID)


def inst_type_of(inst_id: str) -> str:
    """SPOT (`BTC-USDT`), SWAP (`BTC-USDT-SWAP`), else FUTURES/OPTION (other venues)."""
    parts = inst_id.split("-")
    if len(parts) == 2:
        return "SPOT"
    return "SWAP" if parts[-1] == "SWAP" else "FUTURES" if len(parts) == 3 else "OPTION"
