"""Binance HMAC-SHA256 signing (REST and WebSocket API) and its verification.

Both sides build the signed payload with the same functions, so the connector and the
simulator cannot disagree about it:

* REST (spot `/api/v3`, USD-M `/fapi`): the payload is the query string followed by the request
  body, no separator, exactly as sent. Parameters are percent-encoded (UTF-8) before signing, so
  a non-ASCII value is signed in its encoded form (vector B2). `signature` is appended to the
  body when there is one, else to the query; the key goes in the `X-MBX-APIKEY` header.
* WebSocket API: the payload is every parameter except `signature` (including `apiKey`),
  sorted by name, `name=value` joined with `&`, values as their raw UTF-8 text (vector B4).
* Timing (both): `timestamp` in ms; accepted when `timestamp < server time + 1000` and
  `server time - timestamp <= recvWindow` (default 5000, at most 60000).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl

from ttxt_kafka.credentials import AuthError, Credentials

from ..base.wire import encode_query as encode_params
from ..base.wire import param_text

API_KEY_HEADER = "X-MBX-APIKEY"
DEFAULT_RECV_WINDOW_MS = 5000
MAX_RECV_WINDOW_MS = 60000
MAX_AHEAD_MS = 1000

Params = Mapping[str, object] | Iterable[tuple[str, object]]

# Binance's own codes and messages for authentication failures
ERR_MANDATORY = -1102
ERR_TIMESTAMP = -1021
ERR_SIGNATURE = -1022
ERR_RECV_WINDOW = -1131
ERR_API_KEY = -2015
MSG_SIGNATURE = "Signature for this request is not valid."
MSG_API_KEY = "Invalid API-key, IP, or permissions for action."
MSG_OUTSIDE_WINDOW = "Timestamp for this request is outside of the recvWindow."
MSG_AHEAD = "Timestamp for this request was 1000ms ahead of the server's time."
MSG_RECV_WINDOW = "recvWindow must be less than 60000"


def _items(params: Params) -> list[tuple[str, object]]:
    return list(params.items() if isinstance(params, Mapping) else params)


def rest_payload(query: str, body: str = "") -> str:
    """The signed payload of a REST request: query string then body, no separator."""
    return query + body


def ws_payload(params: Params) -> str:
    """The signed payload of a WebSocket API request: parameters but `signature`, sorted by
    name, raw UTF-8 values (no percent-encoding)."""
    items = sorted((k, param_text(v)) for k, v in _items(params) if k != "signature")
    return "&".join(f"{k}={v}" for k, v in items)


@dataclass(frozen=True, slots=True)
class SignedRequest:
    """What to send: `query` (goes after `?`), `body` (form-encoded, may be empty), headers."""

    query: str
    body: str
    headers: dict[str, str]

    def url(self, base: str, path: str) -> str:
        return f"{base}{path}?{self.query}" if self.query else f"{base}{path}"


def sign_rest(credentials: Credentials, params: Params, *, timestamp_ms: int,
              recv_window_ms: int | None = DEFAULT_RECV_WINDOW_MS,
              body_params: Params | None = None) -> SignedRequest:
    """Sign a REST request. `params` go in the query string, `body_params` (if any) in the
    form body; `recvWindow` and `timestamp` are appended to whichever carries the signature."""
    timing: list[tuple[str, object]] = []
    if recv_window_ms is not None:
        timing.append(("recvWindow", recv_window_ms))
    timing.append(("timestamp", timestamp_ms))
    query_items, body_items = _items(params), _items(body_params or ())
    if body_items:
        body_items += timing
    else:
        query_items += timing
    query, body = encode_params(query_items), encode_params(body_items)
    signature = credentials.hmac_sha256_hex(rest_payload(query, body))
    if body:
        body += f"&signature={signature}"
    else:
        query += f"&signature={signature}"
    return SignedRequest(query, body, {API_KEY_HEADER: credentials.api_key})


def sign_ws_params(credentials: Credentials, params: Params, *, timestamp_ms: int,
                   recv_window_ms: int | None = None) -> dict[str, object]:
    """The `params` of a signed WebSocket API request: given params + apiKey, timestamp,
    (recvWindow) and signature."""
    signed: dict[str, object] = dict(_items(params))
    signed["apiKey"] = credentials.api_key
    if recv_window_ms is not None:
        signed["recvWindow"] = recv_window_ms
    signed["timestamp"] = timestamp_ms
    signed["signature"] = credentials.hmac_sha256_hex(ws_payload(signed))
    return signed


# ====================================================================== verify (simulator side)


def check_timestamp(timestamp: object, recv_window: object, now_ms: int) -> None:
    """Binance's timing rule; raises `AuthError` with Binance's code and message."""
    try:
        ts = int(str(timestamp))
    except ValueError:
        raise AuthError(ERR_MANDATORY, "Mandatory parameter 'timestamp' was not sent, was "
                        "empty/null, or malformed.") from None
    try:
        window = Decimal(str(recv_window)) if recv_window is not None else Decimal(
            DEFAULT_RECV_WINDOW_MS)
    except InvalidOperation:
        raise AuthError(ERR_MANDATORY, "Mandatory parameter 'recvWindow' was not sent, was "
                        "empty/null, or malformed.") from None
    if not window.is_finite() or window <= 0 or window > MAX_RECV_WINDOW_MS:
        raise AuthError(ERR_RECV_WINDOW, MSG_RECV_WINDOW)
    if ts >= now_ms + MAX_AHEAD_MS:
        raise AuthError(ERR_TIMESTAMP, MSG_AHEAD)
    if now_ms - ts > window:
        raise AuthError(ERR_TIMESTAMP, MSG_OUTSIDE_WINDOW)


def _split_signature(encoded: str) -> tuple[str, str | None]:
    """(the string without its `signature=` parameter, the signature or None)."""
    kept, signature = [], None
    for part in encoded.split("&") if encoded else []:
        if part.startswith("signature="):
            signature = part[len("signature="):]
        else:
            kept.append(part)
    return "&".join(kept), signature


def verify_rest(credentials: Credentials, api_key: str | None, query: str, body: str, *,
                now_ms: int) -> dict[str, str]:
    """Check a REST request as Binance does: key, signature over query+body as received (raw,
    still percent-encoded), timing. Returns the decoded parameters (query then body)."""
    if api_key != credentials.api_key:
        raise AuthError(ERR_API_KEY, MSG_API_KEY)
    unsigned_query, sig_q = _split_signature(query)
    unsigned_body, sig_b = _split_signature(body)
    signature = sig_b if sig_b is not None else sig_q
    params = dict(parse_qsl(unsigned_query, keep_blank_values=True))
    params.update(parse_qsl(unsigned_body, keep_blank_values=True))
    if not signature:
        raise AuthError(ERR_MANDATORY, "Mandatory parameter 'signature' was not sent, was "
                        "empty/null, or malformed.")
    check_timestamp(params.get("timestamp"), params.get("recvWindow"), now_ms)
    if not credentials.matches(rest_payload(unsigned_query, unsigned_body), signature):
        raise AuthError(ERR_SIGNATURE, MSG_SIGNATURE)
    return params


def verify_ws_params(credentials: Credentials, params: Mapping[str, object], *,
                     now_ms: int) -> None:
    """Check a signed WebSocket API request's params: apiKey, signature, timing."""
    if params.get("apiKey") != credentials.api_key:
        raise AuthError(ERR_API_KEY, MSG_API_KEY)
    signature = params.get("signature")
    if not isinstance(signature, str) or not signature:
        raise AuthError(ERR_MANDATORY, "Mandatory parameter 'signature' was not sent, was "
                        "empty/null, or malformed.")
    check_timestamp(params.get("timestamp"), params.get("recvWindow"), now_ms)
    if not credentials.matches(ws_payload(params), signature):
        raise AuthError(ERR_SIGNATURE, MSG_SIGNATURE)
