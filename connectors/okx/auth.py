"""OKX v5 HMAC-SHA256 signing (REST, private WebSocket login) and its verification.

One definition of each payload, used by the connector to sign and by the simulator to verify
(OKX docs v5 "REST Authentication", "WebSocket Login"; `../shared/fixtures/SIGNATURE_VECTORS.md`,
which has no official OKX vector, only the rule):

* REST: prehash = `timestamp + METHOD + requestPath + body`, timestamp ISO-8601 UTC with
  milliseconds (`2020-12-08T09:08:57.715Z`), METHOD upper case, requestPath with its query string
  (`/api/v5/trade/order?instId=BTC-USDT&clOrdId=a1`), body the JSON exactly as sent (empty for a
  GET); `OK-ACCESS-SIGN` is the base64 of the HMAC-SHA256 with the secret. Headers OK-ACCESS-KEY,
  OK-ACCESS-SIGN, OK-ACCESS-TIMESTAMP, OK-ACCESS-PASSPHRASE (the third credential, set when the
  key was made), Content-Type application/json. Accepted within 30 s of the server's time.
* WebSocket login: `{"op":"login","args":[{"apiKey","passphrase","timestamp","sign"}]}` with
  sign = base64 HMAC of `timestamp + "GET" + "/users/self/verify"`, timestamp in SECONDS.

Nothing here logs or returns the secret or the passphrase except in the headers it builds.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from ttxt_kafka.credentials import AuthError, Credentials

# what is signed is what is sent: the shared encoders, re-exported for the gateway
from ..base.wire import encode_query as encode_query
from ..base.wire import json_body as json_body

HEADER_KEY = "OK-ACCESS-KEY"
HEADER_SIGN = "OK-ACCESS-SIGN"
HEADER_TIMESTAMP = "OK-ACCESS-TIMESTAMP"
HEADER_PASSPHRASE = "OK-ACCESS-PASSPHRASE"
WINDOW_MS = 30_000
WS_VERIFY_PATH = "/users/self/verify"

# OKX's codes for authentication failures (REST)
ERR_TIMESTAMP = "50102"  # Timestamp request expired
ERR_PASSPHRASE = "50105"  # Invalid OK-ACCESS-PASSPHRASE
ERR_KEY = "50111"  # Invalid OK-ACCESS-KEY
ERR_TIMESTAMP_FORMAT = "50112"  # Invalid OK-ACCESS-TIMESTAMP
ERR_SIGN = "50113"  # Invalid Sign
MSG = {ERR_TIMESTAMP: "Timestamp request expired", ERR_PASSPHRASE: "Invalid OK-ACCESS-PASSPHRASE",
       ERR_KEY: "Invalid OK-ACCESS-KEY", ERR_TIMESTAMP_FORMAT: "Invalid OK-ACCESS-TIMESTAMP",
       ERR_SIGN: "Invalid Sign"}
# ... and on the WebSocket login
WS_ERR_KEY = "60005"  # Invalid OK-ACCESS-KEY
WS_ERR_TIMESTAMP = "60006"  # Timestamp request expired
WS_ERR_SIGN = "60007"  # Invalid sign
WS_ERR_PASSPHRASE = "60024"  # Wrong passphrase
WS_ERR_LOGIN = "60009"  # Login failed


def iso_ms(timestamp_ms: int) -> str:
    """`2020-12-08T09:08:57.715Z`: OKX's REST timestamp."""
    t = datetime.fromtimestamp(timestamp_ms // 1000, UTC)
    return f"{t:%Y-%m-%dT%H:%M:%S}.{timestamp_ms % 1000:03d}Z"


def parse_iso_ms(text: str) -> int:
    """The milliseconds of an `iso_ms` timestamp; ValueError for anything else."""
    if len(text) != 24 or not text.endswith("Z") or text[19] != ".":
        raise ValueError(f"not an ISO-8601 ms timestamp: {text!r}")
    t = datetime.strptime(text[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    return int(t.timestamp()) * 1000 + int(text[20:23])


def request_path(path: str, query: str = "") -> str:
    return f"{path}?{query}" if query else path


def prehash(timestamp: str, method: str, path: str, query: str = "", body: str = "") -> str:
    """`timestamp + METHOD + requestPath (with ?query) + body`."""
    return f"{timestamp}{method.upper()}{request_path(path, query)}{body}"


def sign_rest(credentials: Credentials, method: str, path: str, query: str = "",
              body: str = "", *, timestamp_ms: int) -> dict[str, str]:
    """The auth headers of one REST request (query and body exactly as sent)."""
    passphrase = credentials.require_passphrase("OKX")
    timestamp = iso_ms(timestamp_ms)
    signature = credentials.hmac_sha256_base64(prehash(timestamp, method, path, query, body))
    return {HEADER_KEY: credentials.api_key, HEADER_SIGN: signature,
            HEADER_TIMESTAMP: timestamp, HEADER_PASSPHRASE: passphrase.reveal(),
            "Content-Type": "application/json"}


def ws_login_message(credentials: Credentials, timestamp_s: int) -> dict[str, Any]:
    passphrase = credentials.require_passphrase("OKX")
    sign = credentials.hmac_sha256_base64(prehash(str(timestamp_s), "GET", WS_VERIFY_PATH))
    return {"op": "login", "args": [{"apiKey": credentials.api_key,
                                     "passphrase": passphrase.reveal(),
                                     "timestamp": str(timestamp_s), "sign": sign}]}


# ====================================================================== verify (simulator side)


def _refuse(code: str) -> AuthError:
    return AuthError(int(code), MSG[code])


def verify_rest(credentials: Credentials, headers: Mapping[str, str], method: str, path: str,
                query: str, body: str, *, now_ms: int) -> None:
    """Check a REST request as OKX does; raises AuthError with OKX's code."""
    h = {k.lower(): v for k, v in headers.items()}
    if h.get(HEADER_KEY.lower()) != credentials.api_key:
        raise _refuse(ERR_KEY)
    if not credentials.passphrase_matches(h.get(HEADER_PASSPHRASE.lower(), "")):
        raise _refuse(ERR_PASSPHRASE)
    timestamp = h.get(HEADER_TIMESTAMP.lower(), "")
    try:
        sent = parse_iso_ms(timestamp)
    except ValueError:
        raise _refuse(ERR_TIMESTAMP_FORMAT) from None
    if abs(sent - now_ms) > WINDOW_MS:
        raise _refuse(ERR_TIMESTAMP)
    expected = prehash(timestamp, method, path, query, body)
    if not credentials.matches_base64(expected, h.get(HEADER_SIGN.lower(), "")):
        raise _refuse(ERR_SIGN)


def verify_ws_login(credentials: Credentials, message: Mapping[str, Any], *, now_ms: int) -> None:
    args = message.get("args")
    if message.get("op") != "login" or not isinstance(args, list) or len(args) != 1 \
            or not isinstance(args[0], dict):
        raise AuthError(int(WS_ERR_LOGIN), "Login failed")
    a = args[0]
    if a.get("apiKey") != credentials.api_key:
        raise AuthError(int(WS_ERR_KEY), "Invalid OK-ACCESS-KEY")
    if not credentials.passphrase_matches(str(a.get("passphrase", ""))):
        raise AuthError(int(WS_ERR_PASSPHRASE), "Wrong passphrase")
    ts = str(a.get("timestamp", ""))
    if not ts.isdigit() or abs(int(ts) * 1000 - now_ms) > WINDOW_MS:
        raise AuthError(int(WS_ERR_TIMESTAMP), "Timestamp request expired")
    if not credentials.matches_base64(prehash(ts, "GET", WS_VERIFY_PATH), str(a.get("sign", ""))):
        raise AuthError(int(WS_ERR_SIGN), "Invalid sign")
