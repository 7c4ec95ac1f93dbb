"""OKX v5 public endpoints: URLs, REST paths, channel names and subscribe messages.

WS `wss://ws.okx.com/ws/v5/public` (books, trades, tickers, bbo-tbt) and
`wss://ws.okx.com/ws/v5/business` (candles, since OKX moved them there in 2023). Port 8443,
which the 2022 capture used, was reported retired at the end of October 2026: the default 443
endpoints are used. Subscribe with `{"op":"subscribe","args":[{"channel":..,"instId":..}]}`;
OKX answers each arg with `{"event":"subscribe","arg":{..},"connId":..}`, an error with
`{"event":"error","code":"60012","msg":"...","connId":..}`.
Connection rules (OKX "WebSocket" overview): a connection with no traffic for 30 s is closed, so
the client sends the text `ping` once the stream has been silent a while (OKX advises less than
30 s: 25 s here) and gets `pong`; 3 connection requests per second per IP; 480 subscribe /
unsubscribe / login requests per hour per connection; the args of one request may total at most
64 KB. OKX sets no channel count per connection: we cap it at 100 channels, so a rebuild's
unsubscribe + subscribe pair stays well inside the hourly request budget.
REST: GET /api/v5/public/instruments 20 requests per 2 s per IP; /api/v5/public/time 10 per 2 s.
"""

from __future__ import annotations

from typing import Any

WS = "wss://ws.okx.com"
REST = "https://www.okx.com"
PUBLIC_WS_PATH = "/ws/v5/public"
BUSINESS_WS_PATH = "/ws/v5/business"
PRIVATE_WS_PATH = "/ws/v5/private"
INSTRUMENTS_PATH = "/api/v5/public/instruments"
TIME_PATH = "/api/v5/public/time"
BOOKS_PATH = "/api/v5/market/books"
MAX_ARGS_PER_REQUEST = 50  # keeps one request far below the 64 KB args limit
MAX_CHANNELS_PER_CONNECTION = 100  # ours: OKX counts requests (480/h), not channels
REQUESTS_PER_SECOND = 8  # of the 10 per second (20 per 2 s) on the public instruments
PING = "ping"
PONG = "pong"
PING_AFTER_SILENCE = 25.0  # OKX closes a connection silent for 30 s

INST_TYPES = {"spot": "SPOT", "swap": "SWAP"}

# The config's interval names -> OKX's candle channels. OKX's 1D and longer candles without
# `utc` start at 00:00 UTC+8: the platform's `1d` is `candle1Dutc`.
KLINE_CHANNELS = {"1m": "candle1m", "5m": "candle5m", "15m": "candle15m", "30m": "candle30m",
                  "1h": "candle1H", "4h": "candle4H", "1d": "candle1Dutc"}


def ws_url(ws_base: str, path: str = PUBLIC_WS_PATH) -> str:
    return f"{ws_base}{path}"


def arg(channel: str, native: str) -> dict[str, str]:
    return {"channel": channel, "instId": native}


def requests(op: str, args: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Subscribe/unsubscribe requests, at most MAX_ARGS_PER_REQUEST args each."""
    return [{"op": op, "args": args[i:i + MAX_ARGS_PER_REQUEST]}
            for i in range(0, len(args), MAX_ARGS_PER_REQUEST)]
