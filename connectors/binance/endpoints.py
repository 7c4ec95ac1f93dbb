"""Binance spot and USD-M endpoints: URLs, REST paths and weights, stream names.

Real defaults below; a config's `endpoints` overrides the base URLs (tests use the simulator).
Weights and limits: spot `GET /api/v3/depth` 5/25/50/250 by limit, 6000 per minute;
USD-M `GET /fapi/v1/depth` 2/5/10/20 by limit, 2400 per minute.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

# The config's interval names are Binance's own.
KLINE_INTERVALS = ("1m", "5m", "15m", "30m", "1h", "4h", "1d")


@dataclass(frozen=True)
class BinanceEndpoints:
    ws: str
    rest: str
    api: str  # REST path prefix
    weight_per_minute: int
    exchange_info_weight: int

    def depth_path(self) -> str:
        return f"{self.api}/depth"

    def exchange_info_path(self) -> str:
        return f"{self.api}/exchangeInfo"

    def time_path(self) -> str:
        return f"{self.api}/time"

    def combined_url(self, ws_base: str, streams: list[str]) -> str:
        """`<base>/stream?streams=a/b/c`: frames come as {"stream": name, "data": payload}."""
        return f"{ws_base}/stream?streams={'/'.join(streams)}"


SPOT = BinanceEndpoints(
    ws="wss://stream.binance.com:9443", rest="https://api.binance.com", api="/api/v3",
    weight_per_minute=6000, exchange_info_weight=20,
)
USDM = BinanceEndpoints(
    ws="wss://fstream.binance.com", rest="https://fapi.binance.com", api="/fapi/v1",
    weight_per_minute=2400, exchange_info_weight=1,
)


def spot_depth_weight(limit: int) -> int:
    return 5 if limit <= 100 else 25 if limit <= 500 else 50 if limit <= 1000 else 250


def usdm_depth_weight(limit: int) -> int:
    return 2 if limit <= 50 else 5 if limit <= 100 else 10 if limit <= 500 else 20


def depth_stream(native: str) -> str:
    """The diff-depth stream at its fastest documented speed (100 ms)."""
    return f"{native.lower()}@depth@100ms"


def trade_stream(native: str) -> str:
    return f"{native.lower()}@aggTrade"


def kline_stream(native: str, interval: str) -> str:
    return f"{native.lower()}@kline_{interval}"


def bbo_stream(native: str) -> str:
    return f"{native.lower()}@bookTicker"


def symbols_param(natives: list[str]) -> str:
    """exchangeInfo's `symbols` parameter: a JSON array without spaces."""
    return json.dumps(natives, separators=(",", ":"))


def native_guess(symbol: str) -> str:
    """The native symbol a `BASE/QUOTE[-EXPIRY]` most likely has (used to narrow requests)."""
    if "/" not in symbol:
        return symbol.upper()
    pair, _, expiry = symbol.upper().partition("-")
    native = pair.replace("/", "")
    return f"{native}_{expiry}" if expiry else native
