"""Bybit v5 public topic names (`orderbook.50.BTCUSDT`, ...): the grammar both sources use."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ttxt_kafka.simulator.feeds import UnknownStream

BOOK_DEPTHS = {"spot": (1, 50, 200, 1000), "linear": (1, 50, 200, 500, 1000)}
KLINE_INTERVALS = ("1", "3", "5", "15", "30", "60", "120", "240", "360", "720", "D", "W", "M")
_SYMBOL = re.compile(r"^[A-Z0-9]+$")


@dataclass(frozen=True, slots=True)
class Topic:
    name: str
    channel: str  # orderbook | publicTrade | kline | tickers | allLiquidation
    symbol: str
    param: str = ""  # orderbook: depth; kline: interval


def parse_topic(name: str, category: str) -> Topic:
    """Parse a topic as the venue would accept it; raises UnknownStream."""
    parts = name.split(".")
    sym = parts[-1]
    if not _SYMBOL.match(sym):
        raise UnknownStream(name)
    head = parts[0]
    if len(parts) == 3 and head == "orderbook" and parts[1].isdigit():
        if int(parts[1]) in BOOK_DEPTHS[category]:
            return Topic(name, head, sym, parts[1])
    elif len(parts) == 3 and head == "kline" and parts[1] in KLINE_INTERVALS:
        return Topic(name, head, sym, parts[1])
    elif len(parts) == 2 and (
        head in ("publicTrade", "tickers") or (head == "allLiquidation" and category == "linear")
    ):
        return Topic(name, head, sym)
    raise UnknownStream(name)
