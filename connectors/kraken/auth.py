"""Kraken spot REST signing (`API-Key` / `API-Sign`) and its verification.

One definition, used by the connector to sign and by the simulator to verify (Kraken docs
"Spot REST Authentication"): the body is form-encoded and carries `nonce`, an always
increasing unsigned 64-bit integer; `API-Sign` = base64(HMAC-SHA512(base64decode(secret),
URI path + SHA256(nonce + POST body))), the URI path being the part from `/0/private`; the key
in `API-Key`. The docs' example (private key, nonce 1616492376594, an AddOrder body) is a test
(`tests/test_auth_kraken.py`). Kraken's secrets are base64: one that is not is a clear
CredentialsError naming no part of it (`Credentials.hmac_sha512_base64_b64key`).

The WebSocket v2 private side uses a token from `POST /0/private/GetWebSocketsToken` (signed
like every private REST call): it goes in the `token` parameter of every private WS request.

Nothing here logs or returns the secret except in the signature it computes.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Mapping
from urllib.parse import parse_qsl

from ttxt_kafka.credentials import AuthError, Credentials

from ..base.wire import Params, encode_query

HEADER_KEY = "API-Key"
HEADER_SIGN = "API-Sign"
FORM = "application/x-www-form-urlencoded"

# Kraken's error strings for authentication failures (answers carry them in `error`)
ERR_KEY = "EAPI:Invalid key"
ERR_SIGN = "EAPI:Invalid signature"
ERR_NONCE = "EAPI:Invalid nonce"


def message(path: str, nonce: int | str, body: str) -> bytes:
    """What is HMAC'd: the URI path, then SHA256(nonce + POST body)."""
    return path.encode() + hashlib.sha256(f"{nonce}{body}".encode()).digest()


def api_sign(credentials: Credentials, path: str, nonce: int | str, body: str) -> str:
    return credentials.hmac_sha512_base64_b64key(message(path, nonce, body))


def check_secret(credentials: Credentials) -> None:
    """CredentialsError now (at start, not at the first order) if the secret is not base64."""
    credentials.hmac_sha512_base64_b64key(b"")


def form_body(params: Params, nonce: int) -> str:
    """The POST body: `nonce` first, then the parameters, form-encoded."""
    items = list(params.items()) if isinstance(params, Mapping) else list(params)
    return encode_query([("nonce", nonce), *items])


def headers(credentials: Credentials, path: str, nonce: int, body: str) -> dict[str, str]:
    return {HEADER_KEY: credentials.api_key, HEADER_SIGN: api_sign(credentials, path, nonce, body),
            "Content-Type": FORM}


class Nonces:
    """Always increasing nonces: microseconds since the epoch, at least one more than the last
    (Kraken refuses a nonce not above the key's last one)."""

    def __init__(self) -> None:
        self._last = 0
        self._lock = threading.Lock()

    def next(self) -> int:
        with self._lock:
            self._last = max(time.time_ns() // 1000, self._last + 1)
            return self._last


def verify(credentials: Credentials, request_headers: Mapping[str, str], path: str, body: str,
           *, last_nonce: int) -> tuple[dict[str, str], int]:
    """(the request's parameters, its nonce) if it is signed as Kraken checks it, else
    AuthError: key, then signature, then a nonce above the key's last one."""
    given = {k.lower(): v for k, v in request_headers.items()}
    if given.get(HEADER_KEY.lower()) != credentials.api_key:
        raise AuthError(0, ERR_KEY)
    params = dict(parse_qsl(body, keep_blank_values=True))
    nonce_text = params.get("nonce", "")
    if not nonce_text.isdigit():
        raise AuthError(0, ERR_NONCE)
    signature = given.get(HEADER_SIGN.lower(), "")
    if not credentials.matches_sha512_base64_b64key(message(path, nonce_text, body), signature):
        raise AuthError(0, ERR_SIGN)
    nonce = int(nonce_text)
    if nonce <= last_nonce:
        raise AuthError(0, ERR_NONCE)
    return params, nonce
