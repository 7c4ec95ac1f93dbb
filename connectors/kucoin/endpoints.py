"""KuCoin spot endpoints, topics and request shapes.

A WebSocket connection needs a token: `POST /api/v1/bullet-public` (private streams: the signed
`POST /api/v1/bullet-private`) answers `{"token", "instanceServers": [{"endpoint",
"pingInterval", "pingTimeout", ...}]}`; the client connects to `<endpoint>?token=<token>&
connectId=<id>`, waits for `{"id": <connectId>, "type": "welcome"}`, sends `{"id", "type":
"ping"}` every `pingInterval` ms (the server drops it after `pingTimeout` without one) and
subscribes with `{"id", "type": "subscribe", "topic": "/market/level2:A,B", "response": true}`
(answered `{"id", "type": "ack"}`, or `{"id", "type": "error", "code", "data"}`).
Limits (KuCoin "Request rate limit" of the WebSocket): up to 100 symbols in one topic, 300
topics (symbol-topics) per connection, 100 client messages per 10 s; a token's connection lives
at most 24 h.
REST `https://api.kucoin.com`: `/api/v2/symbols`, `/api/v1/market/orderbook/level2_100`
(public, top 100 levels a side), `/api/v3/market/orderbook/level2` (signed, the whole book),
`/api/v1/timestamp`. Answers are `{"code": "200000", "data": ...}`; another code is an error
(`{"code": "400100", "msg": ...}`).
"""

from __future__ import annotations

import itertools
from typing import Any

REST = "https://api.kucoin.com"
WS = "wss://ws-api-spot.kucoin.com/"  # only a default: the bullet answer names the endpoint
WS_PATH = "/endpoint"  # the simulator's WS path (the capture's endpoint path)
BULLET_PUBLIC = "/api/v1/bullet-public"
BULLET_PRIVATE = "/api/v1/bullet-private"
SYMBOLS_PATH = "/api/v2/symbols"
SYMBOLS_V1_PATH = "/api/v1/symbols"  # the capture's; same entries less `minFunds`
BOOK_PART_PATH = "/api/v1/market/orderbook/level2_100"
BOOK_FULL_PATH = "/api/v3/market/orderbook/level2"
TIME_PATH = "/api/v1/timestamp"
OK = "200000"
PART_DEPTH = 100  # levels per side of the public snapshot

# Public pool: 2000 weight / 30 s per IP (KuCoin's rate-limit table, 2023).
WEIGHT_PER_30S = 2000
WEIGHT_SYMBOLS = 4
WEIGHT_BOOK_PART = 4
WEIGHT_BOOK_FULL = 3
WEIGHT_BULLET = 10

BOOK = "/market/level2"
TRADES = "/market/match"
CANDLES = "/market/candles"
TICKER = "/market/ticker"
MAX_SYMBOLS_PER_TOPIC = 100
MAX_TOPICS_PER_CONNECTION = 300
MESSAGES_PER_10S = 100
TOKEN_LIFETIME = 24 * 3600.0

SUBJECT_BOOK = "trade.l2update"
SUBJECT_MATCH = "trade.l3match"
SUBJECT_TICKER = "trade.ticker"
SUBJECTS_CANDLE = ("trade.candles.update", "trade.candles.add")

# The platform's kline intervals -> KuCoin's candle types.
INTERVALS = {"1m": "1min", "5m": "5min", "15m": "15min", "30m": "30min", "1h": "1hour",
             "4h": "4hour", "1d": "1day"}
# Every candle type KuCoin streams (seconds), named as the platform would name them.
CANDLE_TYPES = {"1min": ("1m", 60), "3min": ("3m", 180), "5min": ("5m", 300),
                "15min": ("15m", 900), "30min": ("30m", 1800), "1hour": ("1h", 3600),
                "2hour": ("2h", 7200), "4hour": ("4h", 14400), "6hour": ("6h", 21600),
                "8hour": ("8h", 28800), "12hour": ("12h", 43200), "1day": ("1d", 86400),
                "1week": ("1w", 604800)}

_ids = itertools.count(1)


def next_id() -> str:
    return str(next(_ids))


def topic(channel: str, natives: list[str]) -> str:
    return f"{channel}:{','.join(natives)}"


def candle_topic(native: str, interval: str) -> str:
    return f"{CANDLES}:{native}_{INTERVALS[interval]}"


def subscribe(topic_name: str, msg_id: str | None = None, private: bool = False,
              kind: str = "subscribe") -> dict[str, Any]:
    return {"id": msg_id or next_id(), "type": kind, "topic": topic_name,
            "privateChannel": private, "response": True}


def ping(msg_id: str | None = None) -> dict[str, Any]:
    return {"id": msg_id or next_id(), "type": "ping"}


def ws_url(endpoint: str, token: str, connect_id: str) -> str:
    return f"{endpoint.rstrip('/')}?token={token}&connectId={connect_id}"


def batches(natives: list[str], size: int = MAX_SYMBOLS_PER_TOPIC) -> list[list[str]]:
    return [natives[i:i + size] for i in range(0, len(natives), size)]
