"""KuCoin HMAC-SHA256 signing (REST) and its verification, one definition for the connector
and the simulator (KuCoin docs "Signing a Message", `../shared/fixtures/SIGNATURE_VECTORS.md`):

* prehash = `timestamp + METHOD + endpoint + body`: timestamp in ms, METHOD upper case,
  endpoint the path with its query string (`/api/v1/hf/orders?symbol=BTC-USDT`), body the JSON
  exactly as sent (empty for GET and DELETE);
* KC-API-SIGN = base64(HMAC-SHA256(secret, prehash));
* KC-API-PASSPHRASE = base64(HMAC-SHA256(secret, passphrase)) for key version 2 and 3 (the
  passphrase is the third credential; version 1 sent it in clear);
* KC-API-KEY, KC-API-TIMESTAMP, KC-API-KEY-VERSION ("2"), Content-Type application/json.
Accepted while the timestamp is within 5 s of the server's time.

Nothing here logs or returns the secret or the passphrase except in the headers it builds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ttxt_kafka.credentials import AuthError, Credentials

from ..base.rest import RestRequest, SignHook

# what is signed is what is sent: the shared encoders, re-exported for the gateway
from ..base.wire import encode_query as encode_query
from ..base.wire import json_body as json_body

HEADER_KEY = "KC-API-KEY"
HEADER_SIGN = "KC-API-SIGN"
HEADER_TIMESTAMP = "KC-API-TIMESTAMP"
HEADER_PASSPHRASE = "KC-API-PASSPHRASE"
HEADER_VERSION = "KC-API-KEY-VERSION"
KEY_VERSION = "2"
WINDOW_MS = 5_000

# KuCoin's codes for authentication failures (HTTP 401)
ERR_KEY = 400003  # KC-API-KEY not exists
ERR_PASSPHRASE = 400004  # Invalid KC-API-PASSPHRASE
ERR_SIGN = 400005  # Signature error
ERR_TIMESTAMP = 400002  # KC-API-TIMESTAMP Invalid
ERR_HEADER = 400001  # Any of KC-API-KEY, KC-API-SIGN, ... missing


def endpoint(path: str, query: str = "") -> str:
    return f"{path}?{query}" if query else path


def prehash(timestamp_ms: int | str, method: str, path: str, query: str = "",
            body: str = "") -> str:
    """`timestamp + METHOD + endpoint (+ "?" + query) + body`."""
    return f"{timestamp_ms}{method.upper()}{endpoint(path, query)}{body}"


def passphrase_header(credentials: Credentials) -> str:
    """base64(HMAC-SHA256(secret, passphrase)): the key-version-2/3 passphrase header."""
    passphrase = credentials.require_passphrase("KuCoin")
    return credentials.hmac_sha256_base64(passphrase.reveal())


def sign_rest(credentials: Credentials, method: str, path: str, query: str = "",
              body: str = "", *, timestamp_ms: int) -> dict[str, str]:
    """The auth headers of one REST request (query and body exactly as sent)."""
    signature = credentials.hmac_sha256_base64(prehash(timestamp_ms, method, path, query, body))
    return {HEADER_KEY: credentials.api_key, HEADER_SIGN: signature,
            HEADER_TIMESTAMP: str(timestamp_ms), HEADER_PASSPHRASE: passphrase_header(credentials),
            HEADER_VERSION: KEY_VERSION, "Content-Type": "application/json"}


def sign_hook(credentials: Credentials, clock_ms: Callable[[], int]) -> SignHook:
    """A `RestClient` sign hook: the query encoded once, signed and sent as is (timestamp:
    `clock_ms`, the exchange's clock)."""

    def sign(req: RestRequest) -> RestRequest:
        query = req.query or (encode_query(list(req.params.items())) if req.params else "")
        headers = sign_rest(credentials, req.method, req.path, query, req.body or "",
                            timestamp_ms=clock_ms())
        return req.with_(params={}, query=query, headers={**req.headers, **headers})

    return sign


def verify_rest(credentials: Credentials, headers: Mapping[str, str], method: str, path: str,
                query: str, body: str, *, now_ms: int) -> None:
    """Check a request's auth headers as KuCoin does; AuthError with KuCoin's code if wrong."""
    h = {k.lower(): v for k, v in headers.items()}
    needed = (HEADER_KEY, HEADER_SIGN, HEADER_TIMESTAMP, HEADER_PASSPHRASE)
    if any(not h.get(name.lower()) for name in needed):
        raise AuthError(ERR_HEADER, "Please check the header of your request for KC-API-KEY, "
                                    "KC-API-SIGN, KC-API-TIMESTAMP, KC-API-PASSPHRASE")
    if h[HEADER_KEY.lower()] != credentials.api_key:
        raise AuthError(ERR_KEY, "KC-API-KEY not exists")
    ts = h[HEADER_TIMESTAMP.lower()]
    if not ts.isdigit() or abs(int(ts) - now_ms) > WINDOW_MS:
        raise AuthError(ERR_TIMESTAMP, "Invalid KC-API-TIMESTAMP")
    if h.get(HEADER_VERSION.lower(), "1") not in ("2", "3"):
        raise AuthError(ERR_PASSPHRASE, "Please use API key version 2 or 3")
    if not credentials.matches_base64(credentials.require_passphrase("KuCoin").reveal(),
                                      h[HEADER_PASSPHRASE.lower()]):
        raise AuthError(ERR_PASSPHRASE, "Invalid KC-API-PASSPHRASE")
    if not credentials.matches_base64(prehash(ts, method, path, query, body),
                                      h[HEADER_SIGN.lower()]):
        raise AuthError(ERR_SIGN, "Signature error. Please check your signature.")
