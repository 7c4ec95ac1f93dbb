"""MEXC spot v3 HMAC-SHA256 signing (REST) and its verification.

One definition of the payload, used by the connector to sign and by the simulator to verify
(MEXC docs "Signature", `../shared/fixtures/SIGNATURE_VECTORS.md` M2/M3): totalParams = the query
string concatenated with the body (no `&` between them), `timestamp` (ms) and `recvWindow` among
the parameters; `signature` = lowercase hex HMAC-SHA256 of totalParams with the secret, sent as
the last query parameter; the API key in the `X-MEXC-APIKEY` header. The connector sends every
parameter in the query string (POST and DELETE too: MEXC accepts that) and no body. Accepted
while `timestamp` is within `recvWindow` (default 5000 ms, at most 60000) of the server's time.

Nothing here logs or returns the secret except in the signature it computes.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import parse_qsl

from ttxt_kafka.credentials import AuthError, Credentials

from ..base.wire import encode_query

HEADER_KEY = "X-MEXC-APIKEY"
DEFAULT_RECV_WINDOW = 5000
MAX_RECV_WINDOW = 60_000

# MEXC's codes and messages for authentication failures
ERR_KEY = 10072  # Api key info invalid
ERR_SIGN = 700002  # Signature for this request is not valid.
ERR_TIMESTAMP = 700003  # Timestamp for this request is outside of the recvWindow.
MSG_KEY = "Api key info invalid"
MSG_SIGN = "Signature for this request is not valid."
MSG_TIMESTAMP = "Timestamp for this request is outside of the recvWindow."


def total_params(query: str, body: str = "") -> str:
    return query + body


def signed_query(credentials: Credentials, params: Mapping[str, object], *, timestamp_ms: int,
                 recv_window_ms: int = DEFAULT_RECV_WINDOW) -> str:
    """The query string to send: the parameters, recvWindow, timestamp, then the signature."""
    query = encode_query([*params.items(), ("recvWindow", recv_window_ms),
                          ("timestamp", timestamp_ms)])
    return f"{query}&signature={credentials.hmac_sha256_hex(total_params(query))}"


def headers(credentials: Credentials) -> dict[str, str]:
    return {HEADER_KEY: credentials.api_key, "Content-Type": "application/json"}


def verify(credentials: Credentials, request_headers: Mapping[str, str], query: str, body: str,
           *, now_ms: int) -> dict[str, str]:
    """The request's parameters if it is signed as MEXC checks it, else AuthError."""
    key = {k.lower(): v for k, v in request_headers.items()}.get(HEADER_KEY.lower())
    if key != credentials.api_key:
        raise AuthError(ERR_KEY, MSG_KEY)
    head, sep, signature = query.rpartition("&signature=")
    if not sep or not credentials.matches(total_params(head, body), signature):
        raise AuthError(ERR_SIGN, MSG_SIGN)
    params = dict(parse_qsl(head, keep_blank_values=True))
    if body:
        params |= dict(parse_qsl(body, keep_blank_values=True))
    try:
        ts = int(params["timestamp"])
        window = int(params.get("recvWindow", DEFAULT_RECV_WINDOW))
    except (KeyError, ValueError):
        raise AuthError(ERR_TIMESTAMP, MSG_TIMESTAMP) from None
    if not 0 < window <= MAX_RECV_WINDOW or not ts - 1000 <= now_ms <= ts + window:
        raise AuthError(ERR_TIMESTAMP, MSG_TIMESTAMP)
    return params
