"""Gate.io v4 spot endpoints, channels and request shapes.

WS `wss://api.gateio.ws/ws/v4/`: requests `{"time": s, "channel": C, "event": "subscribe" |
"unsubscribe", "payload": [...]}`, one per channel and stream. Books come from `spot.obu`
(payload `["ob.<PAIR>.<400|50>"]`: a `full` push, then updates with U == local u + 1); trades
`spot.trades` (payload: pairs), candles `spot.candlesticks` (payload `["1m", PAIR]`), BBO
`spot.book_ticker` (payload: pairs). App-level ping: channel `spot.ping` (answer `spot.pong`).
REST `https://api.gateio.ws/api/v4`: `/spot/currency_pairs`, `/spot/order_book` (`with_id=true`
gives the update id the legacy `spot.order_book_update` bridges from), `/spot/time`.
Rate limit of public endpoints: 200 requests / 10 s per IP.
"""

from __future__ import annotations

import time
from typing import Any

WS = "wss://api.gateio.ws/ws/v4/"
REST = "https://api.gateio.ws"
WS_PATH = "/ws/v4/"
CURRENCY_PAIRS_PATH = "/api/v4/spot/currency_pairs"
ORDER_BOOK_PATH = "/api/v4/spot/order_book"
TIME_PATH = "/api/v4/spot/time"
REQUESTS_PER_10S = 200

BOOK = "spot.obu"
LEGACY_BOOK = "spot.order_book_update"
TRADES = "spot.trades"
CANDLES = "spot.candlesticks"
BBO = "spot.book_ticker"
PING = "spot.ping"
# private channels, on the same endpoint, each request signed (see auth.ws_request)
PRIVATE_CHANNELS = ("spot.orders", "spot.usertrades", "spot.balances")
PONG = "spot.pong"

# The platform's kline intervals -> Gate's (Gate also streams 10s, 8h, 7d, 30d).
INTERVALS = {"1m": "1m", "5m": "5m", "15m": "15m", "30m": "30m", "1h": "1h", "4h": "4h",
             "1d": "1d"}
INTERVAL_MS = {"10s": 10_000, "1m": 60_000, "5m": 300_000, "15m": 900_000, "30m": 1_800_000,
               "1h": 3_600_000, "4h": 14_400_000, "8h": 28_800_000, "1d": 86_400_000,
               "7d": 604_800_000, "30d": 2_592_000_000}


def book_stream(pair: str, depth: int) -> str:
    return f"ob.{pair}.{depth}"


def request(channel: str, event: str, payload: list[str], now_s: int | None = None
            ) -> dict[str, Any]:
    return {"time": int(time.time()) if now_s is None else now_s, "channel": channel,
            "event": event, "payload": payload}


def ping(now_s: int | None = None) -> dict[str, Any]:
    return {"time": int(time.time()) if now_s is None else now_s, "channel": PING}


def ws_url(ws_base: str) -> str:
    """The v4 WS URL on a base: the real `wss://api.gateio.ws/ws/v4/`, or a simulator's host."""
    base = ws_base.rstrip("/")
    return base + "/" if base.endswith("/ws/v4") else base + WS_PATH
