"""Bybit v5 HMAC-SHA256 signing (REST, WebSocket auth) and its verification.

One definition of each payload, used by the connector to sign and by the simulator to verify:

* REST: prehash = `timestamp + api_key + recv_window + payload`, where payload is the query
  string for GET/DELETE and the JSON body (exactly as sent) for POST. Headers X-BAPI-API-KEY,
  X-BAPI-TIMESTAMP, X-BAPI-RECV-WINDOW, X-BAPI-SIGN (lowercase hex), X-BAPI-SIGN-TYPE 2.
  Accepted when `server time - recv_window <= timestamp < server time + 1000`.
* WebSocket (private streams and the trade API): `{"op": "auth", "args": [api_key, expires,
  signature]}` with signature = HMAC of `"GET/realtime" + str(expires)`, expires in ms and in
  the future. Trade API requests then carry X-BAPI-TIMESTAMP / X-BAPI-RECV-WINDOW headers,
  checked with the REST timing rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ttxt_kafka.credentials import AuthError, Credentials

# what is signed is what is sent: the shared encoders, re-exported for the gateway
from ..base.wire import encode_query as encode_query
from ..base.wire import json_body as json_body

HEADER_API_KEY = "X-BAPI-API-KEY"
HEADER_TIMESTAMP = "X-BAPI-TIMESTAMP"
HEADER_RECV_WINDOW = "X-BAPI-RECV-WINDOW"
HEADER_SIGN = "X-BAPI-SIGN"
HEADER_SIGN_TYPE = "X-BAPI-SIGN-TYPE"
DEFAULT_RECV_WINDOW_MS = 5000
MAX_AHEAD_MS = 1000
WS_AUTH_PREFIX = "GET/realtime"

# Bybit's codes and messages for authentication failures
ERR_TIMESTAMP = 10002
ERR_API_KEY = 10003
ERR_SIGN = 10004
MSG_TIMESTAMP = "invalid request, please check your server timestamp or recv_window param"
MSG_API_KEY = "API key is invalid."
MSG_SIGN = "error sign!"
MSG_WS_EXPIRED = "Params Error"  # Bybit's answer to an expired WS auth request


def rest_prehash(timestamp_ms: int | str, api_key: str, recv_window_ms: int | str,
                 payload: str) -> str:
    """`timestamp + api_key + recv_window + (query string | JSON body)`."""
    return f"{timestamp_ms}{api_key}{recv_window_ms}{payload}"


def sign_rest(credentials: Credentials, payload: str, *, timestamp_ms: int,
              recv_window_ms: int = DEFAULT_RECV_WINDOW_MS) -> dict[str, str]:
    """The auth headers of a REST request whose query string (GET) or body (POST) is `payload`."""
    prehash = rest_prehash(timestamp_ms, credentials.api_key, recv_window_ms, payload)
    return {
        HEADER_API_KEY: credentials.api_key,
        HEADER_TIMESTAMP: str(timestamp_ms),
        HEADER_RECV_WINDOW: str(recv_window_ms),
        HEADER_SIGN: credentials.hmac_sha256_hex(prehash),
        HEADER_SIGN_TYPE: "2",
    }


def ws_auth_payload(expires_ms: int) -> str:
    return f"{WS_AUTH_PREFIX}{expires_ms}"


def ws_auth_message(credentials: Credentials, expires_ms: int) -> dict[str, Any]:
    """`{"op": "auth", "args": [api_key, expires, signature]}` for private WS and trade WS."""
    signature = credentials.hmac_sha256_hex(ws_auth_payload(expires_ms))
    return {"op": "auth", "args": [credentials.api_key, expires_ms, signature]}


def trade_header(timestamp_ms: int, recv_window_ms: int = DEFAULT_RECV_WINDOW_MS
                 ) -> dict[str, str]:
    """The `header` of a WS trade API request (order.create, ...)."""
    return {HEADER_TIMESTAMP: str(timestamp_ms), HEADER_RECV_WINDOW: str(recv_window_ms)}


# ====================================================================== verify (simulator side)


def check_timestamp(timestamp: object, recv_window: object, now_ms: int) -> None:
    """Bybit's timing rule; raises `AuthError(10002, ...)`."""
    try:
        ts = int(str(timestamp))
        window = int(str(recv_window)) if recv_window is not None else DEFAULT_RECV_WINDOW_MS
    except ValueError:
        raise AuthError(ERR_TIMESTAMP, MSG_TIMESTAMP) from None
    if not (now_ms - window <= ts < now_ms + MAX_AHEAD_MS):
        raise AuthError(ERR_TIMESTAMP, MSG_TIMESTAMP)


def verify_rest(credentials: Credentials, headers: Mapping[str, str], payload: str, *,
                now_ms: int) -> None:
    """Check a REST request as Bybit does. `headers` are matched case-insensitively;
    `payload` is the raw query string (GET) or body (POST) as received."""
    h = {k.lower(): v for k, v in headers.items()}
    if h.get(HEADER_API_KEY.lower()) != credentials.api_key:
        raise AuthError(ERR_API_KEY, MSG_API_KEY)
    timestamp = h.get(HEADER_TIMESTAMP.lower())
    recv_window = h.get(HEADER_RECV_WINDOW.lower(), str(DEFAULT_RECV_WINDOW_MS))
    check_timestamp(timestamp, recv_window, now_ms)
    prehash = rest_prehash(str(timestamp), credentials.api_key, recv_window, payload)
    if not credentials.matches(prehash, h.get(HEADER_SIGN.lower(), "")):
        raise AuthError(ERR_SIGN, MSG_SIGN)


def verify_ws_auth(credentials: Credentials, message: Mapping[str, Any], *, now_ms: int) -> None:
    """Check a WS `auth` op: known key, unexpired `expires`, signature."""
    args = message.get("args")
    if message.get("op") != "auth" or not isinstance(args, list) or len(args) != 3:
        raise AuthError(ERR_SIGN, MSG_WS_EXPIRED)
    api_key, expires, signature = args
    if api_key != credentials.api_key:
        raise AuthError(ERR_API_KEY, MSG_API_KEY)
    try:
        expires_ms = int(str(expires))
    except ValueError:
        raise AuthError(ERR_SIGN, MSG_WS_EXPIRED) from None
    if expires_ms <= now_ms:
        raise AuthError(ERR_TIMESTAMP, MSG_WS_EXPIRED)
    if not isinstance(signature, str) or not credentials.matches(
            ws_auth_payload(expires_ms), signature):
        raise AuthError(ERR_SIGN, MSG_SIGN)
