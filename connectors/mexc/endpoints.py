"""MEXC spot v3 endpoints, stream names and request shapes.

WS `wss://wbs-api.mexc.com/ws`: JSON requests `{"method": "SUBSCRIPTION" | "UNSUBSCRIPTION",
"params": [stream, ...], "id": n}` answered `{"id": n, "code": 0, "msg": "<streams>"}`; pushes
are binary protobuf (`PushDataV3ApiWrapper`, see `pb/`); `{"method": "PING"}` is answered
`{"id": 0, "code": 0, "msg": "PONG"}`. At most 30 subscriptions per connection; a connection
lives at most 24 hours; one with no subscription is closed after 30 s, one without traffic
after 60 s (hence the client PING).
REST `https://api.mexc.com`: `/api/v3/exchangeInfo`, `/api/v3/depth` (limit up to 5000,
`lastUpdateId` = the book's version), `/api/v3/time`. Errors: `{"code": 10007, "msg": ...}`.
"""

from __future__ import annotations

WS = "wss://wbs-api.mexc.com/ws"
REST = "https://api.mexc.com"
WS_PATH = "/ws"
EXCHANGE_INFO_PATH = "/api/v3/exchangeInfo"
DEPTH_PATH = "/api/v3/depth"
TIME_PATH = "/api/v3/time"
MAX_DEPTH_LIMIT = 5000
MAX_SUBSCRIPTIONS = 30  # per connection
MAX_CONNECTION_AGE = 24 * 3600.0  # the server closes a connection after 24 h
REQUESTS_PER_10S = 500  # the IP limit of public endpoints is 500 per 10 s per endpoint

DEPTH = "spot@public.aggre.depth.v3.api.pb"
DEALS = "spot@public.aggre.deals.v3.api.pb"
KLINE = "spot@public.kline.v3.api.pb"
BOOK_TICKER = "spot@public.aggre.bookTicker.v3.api.pb"
SPEED = "100ms"  # aggregation window of depth, deals and bookTicker (10ms exists for depth)

# The platform's kline intervals -> MEXC's names (MEXC streams every one of these).
INTERVALS = {"1m": "Min1", "5m": "Min5", "15m": "Min15", "30m": "Min30", "1h": "Min60",
             "4h": "Hour4", "8h": "Hour8", "1d": "Day1", "1w": "Week1", "1M": "Month1"}
FROM_MEXC = {v: k for k, v in INTERVALS.items()}


def depth_stream(native: str) -> str:
    return f"{DEPTH}@{SPEED}@{native}"


def deals_stream(native: str) -> str:
    return f"{DEALS}@{SPEED}@{native}"


def book_ticker_stream(native: str) -> str:
    return f"{BOOK_TICKER}@{SPEED}@{native}"


def kline_stream(native: str, interval: str) -> str:
    """`interval` in the platform's names ("1m")."""
    return f"{KLINE}@{native}@{INTERVALS[interval]}"


def request(method: str, params: list[str], rid: int) -> dict[str, object]:
    return {"method": method, "params": params, "id": rid}


PING = {"method": "PING"}


def ws_url(ws_base: str) -> str:
    """The WS URL on a base: the real `wss://wbs-api.mexc.com/ws`, or a simulator's host."""
    base = ws_base.rstrip("/")
    return base if base.endswith(WS_PATH) else base + WS_PATH
