"""Binance stream names (`<symbol>@<channel>`): the grammar both sources validate against."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ttxt_kafka.simulator.feeds import UnknownStream

SPOT_KLINE_INTERVALS = (
    "1s",
    "1m",
    "3m",
    "5m",
    "15m",
    "30m",
    "1h",
    "2h",
    "4h",
    "6h",
    "8h",
    "12h",
    "1d",
    "3d",
    "1w",
    "1M",
)
USDM_KLINE_INTERVALS = SPOT_KLINE_INTERVALS[1:]  # USD-M has no 1s klines

_NAME = re.compile(r"^(?P<sym>[a-z0-9]+)@(?P<rest>.+)$")
_SPOT_DEPTH = re.compile(r"^depth(?P<levels>5|10|20)?(?:@(?P<speed>100ms|1000ms))?$")
_USDM_DEPTH = re.compile(r"^depth(?P<levels>5|10|20)?(?:@(?P<speed>100ms|250ms|500ms))?$")


@dataclass(frozen=True, slots=True)
class Stream:
    name: str  # as subscribed
    symbol: str  # upper case, as in REST
    channel: str  # depth | partial | bookTicker | aggTrade | trade | kline
    param: str = ""  # partial: levels; kline: interval; depth: speed


def parse_stream(name: str, futures: bool) -> Stream:
    """Parse a stream name the way the venue's grammar allows; raises UnknownStream."""
    m = _NAME.match(name)
    if not m:
        raise UnknownStream(f"invalid stream name `{name}` (symbols are lower case)")
    sym, rest = m["sym"].upper(), m["rest"]
    depth = (_USDM_DEPTH if futures else _SPOT_DEPTH).match(rest)
    if depth:
        if depth["levels"]:
            return Stream(name, sym, "partial", depth["levels"])
        return Stream(name, sym, "depth", depth["speed"] or "")
    if rest in ("bookTicker", "aggTrade") or (rest == "trade" and not futures):
        return Stream(name, sym, rest)
    if rest.startswith("kline_"):
        interval = rest[len("kline_") :]
        if interval in (USDM_KLINE_INTERVALS if futures else SPOT_KLINE_INTERVALS):
            return Stream(name, sym, "kline", interval)
    raise UnknownStream(f"unknown stream `{name}`")
