"""The simulator's names for Gate.io streams (publication keys), from subscription requests.

  spot.obu            payload ["ob.<PAIR>.<depth>"]  -> "ob.<PAIR>.<depth>"
  spot.trades         payload [PAIR, ...]             -> "spot.trades.<PAIR>" each
  spot.candlesticks   payload [interval, PAIR]        -> "spot.candlesticks.<interval>.<PAIR>"
  spot.book_ticker    payload [PAIR, ...]             -> "spot.book_ticker.<PAIR>" each
"""

from __future__ import annotations

from dataclasses import dataclass

from ttxt_kafka.connectors.gateio import endpoints as ep
from ttxt_kafka.simulator.feeds import UnknownStream


@dataclass(frozen=True)
class Stream:
    channel: str
    pair: str
    param: str = ""  # book depth, candle interval


def names_for(channel: str, payload: list[str]) -> list[str]:
    """Stream names of one request; UnknownStream for a shape Gate would refuse."""
    if channel == ep.BOOK and len(payload) == 1:
        return [payload[0]]
    if channel in (ep.TRADES, ep.BBO) and payload:
        return [f"{channel}.{pair}" for pair in payload]
    if channel == ep.CANDLES and len(payload) == 2:
        return [f"{channel}.{payload[0]}.{payload[1]}"]
    raise UnknownStream(f"{channel} {payload}")


def parse(name: str) -> Stream:
    if name.startswith("ob."):
        _, _, rest = name.partition(".")
        pair, _, depth = rest.rpartition(".")
        if pair and depth in ("50", "400"):
            return Stream(ep.BOOK, pair, depth)
    for channel in (ep.TRADES, ep.BBO):
        if name.startswith(channel + "."):
            return Stream(channel, name[len(channel) + 1:])
    if name.startswith(ep.CANDLES + "."):
        interval, _, pair = name[len(ep.CANDLES) + 1:].partition(".")
        if interval in ep.INTERVAL_MS and pair:
            return Stream(ep.CANDLES, pair, interval)
    raise UnknownStream(name)
