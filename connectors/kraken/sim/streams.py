"""Kraken WS v2 stream names as the simulator keys them: `book:<SYMBOL>:<depth>`,
`trade:<SYMBOL>`, `ticker:<SYMBOL>`, `ohlc:<SYMBOL>:<minutes>`."""

from __future__ import annotations

from typing import Any

from ttxt_kafka.connectors.kraken import endpoints as ep
from ttxt_kafka.simulator.feeds import UnknownStream


def names_for(params: dict[str, Any]) -> list[str]:
    """The stream names a subscribe request's params ask for (UnknownStream if malformed)."""
    channel, symbols = params.get("channel"), params.get("symbol")
    if not isinstance(symbols, list) or not symbols or not all(isinstance(s, str)
                                                               for s in symbols):
        raise UnknownStream(f"symbol must be a list of pairs: {symbols!r}")
    if channel == ep.BOOK:
        depth = params.get("depth", 10)
        if depth not in ep.BOOK_DEPTHS:
            raise UnknownStream(f"depth {depth} is not one of {ep.BOOK_DEPTHS}")
        return [f"{ep.BOOK}:{s}:{depth}" for s in symbols]
    if channel == ep.OHLC:
        interval = params.get("interval", 1)
        if interval not in ep.FROM_MINUTES:
            raise UnknownStream(f"interval {interval} is not simulated")
        return [f"{ep.OHLC}:{s}:{interval}" for s in symbols]
    if channel in (ep.TRADE, ep.TICKER):
        return [f"{channel}:{s}" for s in symbols]
    raise UnknownStream(f"unknown channel {channel!r}")


def parts(name: str) -> tuple[str, str, str]:
    """(channel, symbol, parameter) of a stream name."""
    channel, _, rest = name.partition(":")
    symbol, _, param = rest.partition(":")
    return channel, symbol, param
