"""MEXC stream names as the simulator reads them.

`spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT`, `...aggre.deals...@100ms@SYM`,
`...aggre.bookTicker...@100ms@SYM` and `spot@public.kline.v3.api.pb@SYM@Min1`.
"""

from __future__ import annotations

from dataclasses import dataclass

from ttxt_kafka.connectors.mexc import endpoints as ep
from ttxt_kafka.simulator.feeds import UnknownStream

_SPEEDS = ("100ms", "10ms")


@dataclass(frozen=True, slots=True)
class Stream:
    channel: str  # one of ep.DEPTH, ep.DEALS, ep.BOOK_TICKER, ep.KLINE
    symbol: str
    interval: str = ""  # MEXC's kline interval name ("Min1")


def parse(name: str) -> Stream:
    parts = name.split("@")
    if len(parts) != 4:
        raise UnknownStream(name)
    channel = f"{parts[0]}@{parts[1]}"
    if channel == ep.KLINE:
        if parts[3] not in ep.FROM_MEXC:
            raise UnknownStream(name)
        return Stream(channel, parts[2], parts[3])
    if channel in (ep.DEPTH, ep.DEALS, ep.BOOK_TICKER) and parts[2] in _SPEEDS:
        return Stream(channel, parts[3])
    raise UnknownStream(name)


def key_of(stream: Stream) -> str:
    """One publication key per stream, whatever speed was asked for (every push is sent)."""
    if stream.channel == ep.KLINE:
        return f"{ep.KLINE}@{stream.symbol}@{stream.interval}"
    return f"{stream.channel}@{ep.SPEED}@{stream.symbol}"
