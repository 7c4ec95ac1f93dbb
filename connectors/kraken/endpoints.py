"""Kraken spot WebSocket v2 endpoints, channels and request shapes.

Public WS `wss://ws.kraken.com/v2`: requests `{"method": "subscribe" | "unsubscribe", "params":
{"channel": C, "symbol": [...], ...}, "req_id": n}` answered `{"method", "result", "success",
"time_in", "time_out", "req_id"}` (or `"success": false` with `"error"`); `{"method": "ping"}`
-> `{"method": "pong"}`; the server sends `{"channel": "heartbeat"}` every second once
something is subscribed and a `status` push on connect. Channels: `book` (depth 10, 25, 100,
500, 1000; snapshot then updates, CRC32 `checksum` on each), `trade`, `ohlc` (interval in
minutes), `ticker` (BBO). Prices and quantities are JSON numbers. Symbols are `BTC/USD`.
REST `https://api.kraken.com`: `/0/public/AssetPairs` (pair_decimals / lot_decimals are the
precisions v2's numbers are written with), `/0/public/Time`. Public REST limit: about one call
per second.
"""

from __future__ import annotations

from typing import Any

WS = "wss://ws.kraken.com/v2"
REST = "https://api.kraken.com"
WS_PATH = "/v2"
ASSET_PAIRS_PATH = "/0/public/AssetPairs"
TIME_PATH = "/0/public/Time"
BOOK_DEPTHS = (10, 25, 100, 500, 1000)
CHECKSUM_LEVELS = 10

BOOK = "book"
TRADE = "trade"
OHLC = "ohlc"
TICKER = "ticker"

# The platform's kline intervals -> Kraken's minutes (Kraken also streams 1w and 15d).
INTERVALS = {"1m": 1, "5m": 5, "15m": 15, "30m": 30, "1h": 60, "4h": 240, "1d": 1440}
FROM_MINUTES = {v: k for k, v in INTERVALS.items()}

# Kraken's own asset codes in REST names (`XBT`, `XDG`) -> the ones WS v2 symbols use.
V2_ASSETS = {"XBT": "BTC", "XDG": "DOGE"}


def v2_symbol(wsname: str) -> str:
    """AssetPairs' `wsname` ("XBT/USD") as WS v2 names it ("BTC/USD")."""
    base, _, quote = wsname.partition("/")
    return f"{V2_ASSETS.get(base, base)}/{V2_ASSETS.get(quote, quote)}"


def subscribe(channel: str, symbols: list[str], req_id: int, method: str = "subscribe",
              **extra: Any) -> dict[str, Any]:
    return {"method": method, "params": {"channel": channel, "symbol": symbols, **extra},
            "req_id": req_id}


PING = {"method": "ping"}

# ---------------------------------------------------------------- private side (trading)
# Private WS v2: the same protocol on another host, every private request carrying `token`.
AUTH_WS = "wss://ws-auth.kraken.com/v2"
EXECUTIONS = "executions"
BALANCES = "balances"
# Private REST (POST, form body, signed: see auth.py)
TOKEN_PATH = "/0/private/GetWebSocketsToken"
OPEN_ORDERS_PATH = "/0/private/OpenOrders"
CLOSED_ORDERS_PATH = "/0/private/ClosedOrders"
BALANCE_EX_PATH = "/0/private/BalanceEx"
# REST's legacy asset codes (BalanceEx, order pairs) -> the names WS v2 uses
LEGACY_ASSETS = {"XXBT": "BTC", "XETH": "ETH", "XLTC": "LTC", "XXRP": "XRP", "XXLM": "XLM",
                 "XXDG": "DOGE", "XETC": "ETC", "XMLN": "MLN", "XREP": "REP", "XZEC": "ZEC",
                 "XXMR": "XMR", "ZUSD": "USD", "ZEUR": "EUR", "ZGBP": "GBP", "ZCAD": "CAD",
                 "ZJPY": "JPY", "ZAUD": "AUD", "ZCHF": "CHF"}
_V1_ASSETS = {v: k for k, v in V2_ASSETS.items()}


def rest_pair(native: str) -> str:
    """A v2 symbol ("BTC/USDT") as REST order bodies name the pair (its altname "XBTUSDT")."""
    base, _, quote = native.partition("/")
    return _V1_ASSETS.get(base, base) + _V1_ASSETS.get(quote, quote)


def ws_url(ws_base: str) -> str:
    base = ws_base.rstrip("/")
    return base if base.endswith(WS_PATH) else base + WS_PATH
