"""The simulator's names for KuCoin topics (publication keys): one per symbol.

  /market/level2:A,B      -> "/market/level2:A", "/market/level2:B"
  /market/match:A,B       -> "/market/match:A", ...
  /market/ticker:A,B      -> "/market/ticker:A", ...
  /market/candles:A_1min  -> "/market/candles:A_1min"
"""

from __future__ import annotations

from dataclasses import dataclass

from ttxt_kafka.connectors.kucoin import endpoints as ep
from ttxt_kafka.simulator.feeds import UnknownStream

_LISTS = (ep.BOOK, ep.TRADES, ep.TICKER)


@dataclass(frozen=True)
class Stream:
    channel: str
    symbol: str
    param: str = ""  # candle type


def names_for(topic: str) -> list[str]:
    """Per-symbol names of one subscribed topic; UnknownStream for one KuCoin would refuse."""
    channel, sep, symbols = topic.partition(":")
    natives = symbols.split(",") if sep and symbols else []
    if channel in _LISTS and natives and len(natives) <= ep.MAX_SYMBOLS_PER_TOPIC and all(natives):
        return [f"{channel}:{n}" for n in natives]
    if channel == ep.CANDLES and len(natives) == 1:
        parse(topic)
        return [topic]
    raise UnknownStream(topic)


def parse(name: str) -> Stream:
    channel, _, rest = name.partition(":")
    if channel in _LISTS and rest and "," not in rest:
        return Stream(channel, rest)
    if channel == ep.CANDLES:
        symbol, _, kind = rest.rpartition("_")
        if symbol and kind in ep.CANDLE_TYPES:
            return Stream(channel, symbol, kind)
    raise UnknownStream(name)
