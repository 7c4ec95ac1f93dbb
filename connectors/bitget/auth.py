"""Bitget v2 HMAC-SHA256 signing (REST, private WebSocket login) and its verification.

One definition of each payload, used by the connector to sign and by the simulator to verify
(Bitget docs "Signature", `../shared/fixtures/SIGNATURE_VECTORS.md`):

* REST: prehash = `timestamp + METHOD + requestPath + ("?" + queryString if any) + body`,
  timestamp in ms, METHOD upper case, body the JSON exactly as sent (empty for a GET); the
  signature is the base64 of the HMAC-SHA256. Headers ACCESS-KEY, ACCESS-SIGN, ACCESS-TIMESTAMP,
  ACCESS-PASSPHRASE (the third credential), Content-Type application/json, locale en-US.
  Accepted while the timestamp is within 30 s of the server's time.
* WebSocket login: `{"op":"login","args":[{"apiKey","passphrase","timestamp","sign"}]}` with
  sign = base64 HMAC of `timestamp + "GET" + "/user/verify"`, timestamp in seconds.

Nothing here logs or returns the secret or the passphrase except in the headers it builds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ttxt_kafka.credentials import AuthError, Credentials

# what is signed is what is sent: the shared encoders, re-exported for the gateway
from ..base.wire import encode_query as encode_query
from ..base.wire import json_body as json_body

HEADER_KEY = "ACCESS-KEY"
HEADER_SIGN = "ACCESS-SIGN"
HEADER_TIMESTAMP = "ACCESS-TIMESTAMP"
HEADER_PASSPHRASE = "ACCESS-PASSPHRASE"
WINDOW_MS = 30_000
WS_VERIFY_PATH = "/user/verify"

# Bitget's codes and messages for authentication failures
ERR_KEY = 40006  # Invalid ACCESS_KEY
ERR_SIGN = 40009  # sign signature error
ERR_PASSPHRASE = 40012  # apikey/password is incorrect
ERR_TIMESTAMP = 40008  # Request timestamp expired
MSG_KEY = "Invalid ACCESS_KEY"
MSG_SIGN = "sign signature error"
MSG_PASSPHRASE = "apikey/password is incorrect"
MSG_TIMESTAMP = "Request timestamp expired"
# ... and on the WebSocket
WS_ERR_KEY = 30011
WS_ERR_PASSPHRASE = 30012
WS_ERR_TIMESTAMP = 30014
WS_ERR_SIGN = 30015


def prehash(timestamp_ms: int | str, method: str, path: str, query: str = "",
            body: str = "") -> str:
    """`timestamp + METHOD + requestPath + ("?" + queryString) + body`."""
    return f"{timestamp_ms}{method.upper()}{path}{'?' + query if query else ''}{body}"


def sign_rest(credentials: Credentials, method: str, path: str, query: str = "",
              body: str = "", *, timestamp_ms: int) -> dict[str, str]:
    """The auth headers of one REST request (query and body exactly as sent)."""
    passphrase = credentials.require_passphrase("Bitget")
    signature = credentials.hmac_sha256_base64(prehash(timestamp_ms, method, path, query, body))
    return {HEADER_KEY: credentials.api_key, HEADER_SIGN: signature,
            HEADER_TIMESTAMP: str(timestamp_ms), HEADER_PASSPHRASE: passphrase.reveal(),
            "Content-Type": "application/json", "locale": "en-US"}


def ws_login_message(credentials: Credentials, timestamp_s: int) -> dict[str, Any]:
    passphrase = credentials.require_passphrase("Bitget")
    sign = credentials.hmac_sha256_base64(prehash(timestamp_s, "GET", WS_VERIFY_PATH))
    return {"op": "login", "args": [{"apiKey": credentials.api_key,
                                     "passphrase": passphrase.reveal(),
                                     "timestamp": str(timestamp_s), "sign": sign}]}


# ====================================================================== verify (simulator side)


def verify_rest(credentials: Credentials, headers: Mapping[str, str], method: str, path: str,
                query: str, body: str, *, now_ms: int) -> None:
    """Check a REST request as Bitget does; raises AuthError with Bitget's code."""
    h = {k.lower(): v for k, v in headers.items()}
    if h.get(HEADER_KEY.lower()) != credentials.api_key:
        raise AuthError(ERR_KEY, MSG_KEY)
    if not credentials.passphrase_matches(h.get(HEADER_PASSPHRASE.lower(), "")):
        raise AuthError(ERR_PASSPHRASE, MSG_PASSPHRASE)
    timestamp = h.get(HEADER_TIMESTAMP.lower(), "")
    if not timestamp.isdigit() or abs(int(timestamp) - now_ms) > WINDOW_MS:
        raise AuthError(ERR_TIMESTAMP, MSG_TIMESTAMP)
    expected = prehash(timestamp, method, path, query, body)
    if not credentials.matches_base64(expected, h.get(HEADER_SIGN.lower(), "")):
        raise AuthError(ERR_SIGN, MSG_SIGN)


def verify_ws_login(credentials: Credentials, message: Mapping[str, Any], *, now_ms: int) -> None:
    args = message.get("args")
    if message.get("op") != "login" or not isinstance(args, list) or len(args) != 1 \
            or not isinstance(args[0], dict):
        raise AuthError(WS_ERR_SIGN, "Illegal request")
    a = args[0]
    if a.get("apiKey") != credentials.api_key:
        raise AuthError(WS_ERR_KEY, "Invalid ACCESS_KEY")
    if not credentials.passphrase_matches(str(a.get("passphrase", ""))):
        raise AuthError(WS_ERR_PASSPHRASE, "Invalid ACCESS_PASSPHRASE")
    ts = str(a.get("timestamp", ""))
    if not ts.isdigit() or abs(int(ts) * 1000 - now_ms) > WINDOW_MS:
        raise AuthError(WS_ERR_TIMESTAMP, "Request timestamp expired")
    if not credentials.matches_base64(prehash(ts, "GET", WS_VERIFY_PATH), str(a.get("sign", ""))):
        raise AuthError(WS_ERR_SIGN, "Invalid sign")
