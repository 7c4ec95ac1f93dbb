"""Gate.io APIv4 HMAC-SHA512 signing (REST, private WebSocket channels) and its verification.

One definition of each payload, used by the connector to sign and by the simulator to verify
(Gate APIv4 docs "API Signature string generation", `../shared/fixtures/SIGNATURE_VECTORS.md`
G1/G2):

* REST: signature string = `METHOD\\nURLPATH\\nQUERY\\nhex(SHA512(body))\\nTIMESTAMP`, the path
  with its `/api/v4` prefix, the query string exactly as sent (no `?`), the body exactly as sent
  (empty for GET/DELETE: its SHA512 is the hash of ""), the timestamp in seconds. Headers KEY,
  SIGN (lowercase hex HMAC-SHA512), Timestamp. Gate refuses a timestamp more than 60 s away from
  its clock (REQUEST_EXPIRED).
* WebSocket: each private subscribe carries `"auth": {"method": "api_key", "KEY": key,
  "SIGN": hex HMAC-SHA512 of "channel=<channel>&event=<event>&time=<time>"}`, `time` being the
  request's own `time` field (seconds).

Nothing here logs or returns the secret except inside the signature it computes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from ttxt_kafka.credentials import AuthError, Credentials

# what is signed is what is sent: the shared encoders, re-exported for the gateway
from ..base.wire import encode_query as encode_query
from ..base.wire import json_body as json_body

HEADER_KEY = "KEY"
HEADER_SIGN = "SIGN"
HEADER_TIMESTAMP = "Timestamp"
WINDOW_S = 60

# Gate's labels for authentication failures (HTTP 401), and the WS error code
INVALID_KEY = "INVALID_KEY"
INVALID_SIGNATURE = "INVALID_SIGNATURE"
MISSING_HEADER = "MISSING_REQUIRED_HEADER"
REQUEST_EXPIRED = "REQUEST_EXPIRED"
MESSAGES = {INVALID_KEY: "Invalid key provided", INVALID_SIGNATURE: "Signature mismatch",
            MISSING_HEADER: "Missing required header", REQUEST_EXPIRED:
            "Request timestamp is out of the server's 60 seconds window"}
WS_AUTH_FAILED = 4  # {"error": {"code": 4, "message": "..."}}


class GateAuthError(AuthError):
    """AuthError with Gate's label (its REST errors are labels, not numbers)."""

    def __init__(self, label: str) -> None:
        super().__init__(401, MESSAGES[label])
        self.label = label


def body_hash(body: str) -> str:
    return hashlib.sha512(body.encode()).hexdigest()


def signature_string(method: str, path: str, query: str, body: str, timestamp: int | str) -> str:
    """`METHOD\\nURLPATH\\nQUERY\\nhex(SHA512(body))\\nTIMESTAMP`."""
    return f"{method.upper()}\n{path}\n{query}\n{body_hash(body)}\n{timestamp}"


def sign_rest(credentials: Credentials, method: str, path: str, query: str = "",
              body: str = "", *, timestamp_s: int) -> dict[str, str]:
    """The auth headers of one REST request (query and body exactly as sent)."""
    sign = credentials.hmac_sha512_hex(signature_string(method, path, query, body, timestamp_s))
    return {HEADER_KEY: credentials.api_key, HEADER_SIGN: sign,
            HEADER_TIMESTAMP: str(timestamp_s), "Content-Type": "application/json",
            "Accept": "application/json"}


def ws_sign_payload(channel: str, event: str, time_s: int | str) -> str:
    return f"channel={channel}&event={event}&time={time_s}"


def ws_request(credentials: Credentials, channel: str, event: str, payload: list[str],
               time_s: int) -> dict[str, Any]:
    """A private channel's (un)subscribe request, signed."""
    sign = credentials.hmac_sha512_hex(ws_sign_payload(channel, event, time_s))
    return {"time": time_s, "channel": channel, "event": event, "payload": payload,
            "auth": {"method": "api_key", "KEY": credentials.api_key, "SIGN": sign}}


# ====================================================================== verify (simulator side)


def verify_rest(credentials: Credentials, headers: Mapping[str, str], method: str, path: str,
                query: str, body: str, *, now_s: int) -> None:
    """Check a REST request as Gate does; raises GateAuthError with Gate's label."""
    h = {k.lower(): v for k, v in headers.items()}
    key, sign, ts = (h.get(n.lower()) for n in (HEADER_KEY, HEADER_SIGN, HEADER_TIMESTAMP))
    if key is None or sign is None or ts is None:
        raise GateAuthError(MISSING_HEADER)
    if key != credentials.api_key:
        raise GateAuthError(INVALID_KEY)
    if not ts.isdigit() or abs(int(ts) - now_s) > WINDOW_S:
        raise GateAuthError(REQUEST_EXPIRED)
    if not credentials.matches_sha512(signature_string(method, path, query, body, ts), sign):
        raise GateAuthError(INVALID_SIGNATURE)


def verify_ws(credentials: Credentials, request: Mapping[str, Any], *, now_s: int) -> None:
    """Check a private channel request's `auth` as Gate does (AuthError code 4)."""
    auth = request.get("auth")
    if not isinstance(auth, dict) or auth.get("method") != "api_key":
        raise AuthError(WS_AUTH_FAILED, "invalid auth method")
    if auth.get("KEY") != credentials.api_key:
        raise AuthError(WS_AUTH_FAILED, "invalid key")
    t = request.get("time")
    if not isinstance(t, int) or abs(t - now_s) > WINDOW_S:
        raise AuthError(WS_AUTH_FAILED, "request time expired")
    payload = ws_sign_payload(str(request.get("channel")), str(request.get("event")), t)
    if not credentials.matches_sha512(payload, str(auth.get("SIGN", ""))):
        raise AuthError(WS_AUTH_FAILED, "signature mismatch")
