"""Coinbase Advanced Trade endpoints, channels and request shapes.

Public WS `wss://advanced-trade-ws.coinbase.com`: requests `{"type": "subscribe" |
"unsubscribe", "product_ids": [...], "channel": C}`, one per channel; every message the
connection carries (data of any channel and product, `subscriptions` answers, heartbeats) has
one `sequence_num` counter, per connection. Channels used: `level2` (messages come as channel
`l2_data`), `market_trades`, `candles` (5-minute candles only), `ticker` (best bid/offer),
`heartbeats` (a message a second: keeps quiet connections open, and the counter moving).
Coinbase closes a connection that subscribes nothing within 5 s, and one with no traffic for
60-90 s (hence `heartbeats`). Per IP: 8 WebSocket connections a second, 8 unauthenticated
messages (subscribe, unsubscribe) a second. Coinbase documents no limit of products per
connection and no maximum connection age (a connection lives until it drops).
REST `https://api.coinbase.com`: `/api/v3/brokerage/market/products` (public; `GET
/api/v3/brokerage/time` for the clock). Public REST limit: 10 requests/s per IP.
"""

from __future__ import annotations

from typing import Any

WS = "wss://advanced-trade-ws.coinbase.com"
WS_PATH = "/"
REST = "https://api.coinbase.com"
PRODUCTS_PATH = "/api/v3/brokerage/market/products"
TIME_PATH = "/api/v3/brokerage/time"
PUBLIC_REQUESTS_PER_S = 10
WS_CONNECTIONS_PER_S = 8
WS_MESSAGES_PER_S = 8
SUBSCRIBE_DEADLINE_S = 5.0  # a connection with no subscribe by then is closed

LEVEL2 = "level2"  # subscribed as `level2`, pushed as `l2_data`
L2_DATA = "l2_data"
TRADES = "market_trades"
CANDLES = "candles"
TICKER = "ticker"
HEARTBEATS = "heartbeats"
SUBSCRIPTIONS = "subscriptions"

# The WS streams 5-minute candles only (other intervals: REST `.../products/{id}/candles`).
CANDLE_INTERVAL = "5m"
CANDLE_MS = 300_000


def request(kind: str, channel: str, product_ids: list[str] | None = None,
            jwt: str | None = None) -> dict[str, Any]:
    msg: dict[str, Any] = {"type": kind}
    if product_ids is not None:
        msg["product_ids"] = product_ids
    msg["channel"] = channel
    if jwt is not None:
        msg["jwt"] = jwt
    return msg


def ws_url(ws_base: str) -> str:
    return ws_base.rstrip("/") + WS_PATH

# The private side: the `user` channel is on its own host; a simulator (any other WS base)
# serves it on the market-data host under USER_WS_PATH.
USER_WS = "wss://advanced-trade-ws-user.coinbase.com"
USER_WS_PATH = "/user"
USER = "user"


def user_ws_url(ws_base: str) -> str:
    return USER_WS if ws_base.rstrip("/") == WS else ws_base.rstrip("/") + USER_WS_PATH
