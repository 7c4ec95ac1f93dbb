"""Bitget v2 public endpoints: URLs, REST paths, channel names and subscribe messages.

WS `wss://ws.bitget.com/v2/ws/public` (one URL for every market; the subscription's `instType`
names it: `SPOT`, `USDT-FUTURES`). Subscribe with
`{"op":"subscribe","args":[{"instType":..,"channel":..,"instId":..}, ...]}`; Bitget answers each
arg with `{"event":"subscribe","arg":{..}}`, an error with `{"event":"error","code":..,"msg":..}`.
Connection rules (Bitget "Websocket API" overview): the client sends the text `ping` every 30 s
and gets `pong` (no ping for 2 minutes: disconnected); every connection is cut after 24 h (we
redo it at 23.5 h); at most 10 messages per second from the client and 240 subscribe requests
per hour per connection; fewer than 50 channels per connection recommended (1000 at most), so
symbols are spread over sockets (`max_streams_per_connection`, capped here at 50).
REST: 20 requests per second per IP on the public market endpoints.
"""

from __future__ import annotations

from typing import Any

WS = "wss://ws.bitget.com"
REST = "https://api.bitget.com"
PUBLIC_WS_PATH = "/v2/ws/public"
PRIVATE_WS_PATH = "/v2/ws/private"
SPOT_SYMBOLS_PATH = "/api/v2/spot/public/symbols"
MIX_CONTRACTS_PATH = "/api/v2/mix/market/contracts"
TIME_PATH = "/api/v2/public/time"
MAX_ARGS_PER_REQUEST = 50
MAX_CHANNELS_PER_CONNECTION = 50  # Bitget's recommendation ("less than 50 channels")
REQUESTS_PER_SECOND = 15  # of the 20/s allowed on the public market endpoints
PING = "ping"
PONG = "pong"
PING_INTERVAL = 30.0
MAX_CONNECTION_AGE = 23.5 * 3600  # Bitget disconnects every connection after 24 h

# instType of the WS subscription and productType of the mix REST calls, by venue category
INST_TYPES = {"spot": "SPOT", "usdt-futures": "USDT-FUTURES"}

# The config's interval names -> Bitget's candle channels (the platform's intervals).
KLINE_CHANNELS = {"1m": "candle1m", "5m": "candle5m", "15m": "candle15m", "30m": "candle30m",
                  "1h": "candle1H", "4h": "candle4H", "1d": "candle1D"}


def ws_url(ws_base: str) -> str:
    return f"{ws_base}{PUBLIC_WS_PATH}"


def arg(inst_type: str, channel: str, native: str) -> dict[str, str]:
    return {"instType": inst_type, "channel": channel, "instId": native}


def requests(op: str, args: list[dict[str, str]]) -> list[dict[str, Any]]:
    """Subscribe/unsubscribe requests, at most MAX_ARGS_PER_REQUEST args each."""
    return [{"op": op, "args": args[i:i + MAX_ARGS_PER_REQUEST]}
            for i in range(0, len(args), MAX_ARGS_PER_REQUEST)]


def native_guess(symbol: str) -> str:
    return symbol.replace("/", "").upper()
