"""Bybit v5 public endpoints: URLs, REST paths, topic names and subscribe messages.

WS `wss://stream.bybit.com/v5/public/{spot|linear}`; REST `https://api.bybit.com/v5/market/...`.
Spot accepts at most 10 topics per subscribe request, so requests are chunked. Bybit wants an
application ping (`{"op":"ping"}`) every 20 s. REST: 600 requests per 5 s per IP.
"""

from __future__ import annotations

from typing import Any

WS = "wss://stream.bybit.com"
REST = "https://api.bybit.com"
INSTRUMENTS_PATH = "/v5/market/instruments-info"
ORDERBOOK_PATH = "/v5/market/orderbook"
TIME_PATH = "/v5/market/time"
MAX_ARGS_PER_REQUEST = 10
REQUESTS_PER_SECOND = 100  # of the 120/s allowed

# The config's interval names -> Bybit's
KLINE_INTERVALS = {"1m": "1", "5m": "5", "15m": "15", "30m": "30", "1h": "60", "4h": "240",
                   "1d": "D"}


def ws_url(ws_base: str, category: str) -> str:
    return f"{ws_base}/v5/public/{category}"


def book_topic(native: str, depth: int) -> str:
    return f"orderbook.{depth}.{native}"


def bbo_topic(native: str) -> str:
    return f"orderbook.1.{native}"  # level 1: snapshots of the best bid/ask, pushed on change


def trade_topic(native: str) -> str:
    return f"publicTrade.{native}"


def kline_topic(native: str, interval: str) -> str:
    return f"kline.{KLINE_INTERVALS[interval]}.{native}"


def requests(op: str, topics: list[str]) -> list[dict[str, Any]]:
    """Subscribe/unsubscribe requests, at most MAX_ARGS_PER_REQUEST topics each."""
    return [{"op": op, "args": topics[i:i + MAX_ARGS_PER_REQUEST]}
            for i in range(0, len(topics), MAX_ARGS_PER_REQUEST)]


PING = {"op": "ping"}


def native_guess(symbol: str) -> str:
    if "/" not in symbol:
        return symbol.upper()
    pair, _, expiry = symbol.upper().partition("-")
    native = pair.replace("/", "")
    return f"{native}-{expiry}" if expiry else native
