"""Bitget v2 signing and verification. Bitget publishes prehash examples but no secret or
signature (SIGNATURE_VECTORS.md), so the prehash strings are checked exactly against the docs
and the base64 HMAC against the standard library with a known secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

import pytest
from fixtures_path import fixture

from ttxt_kafka.connectors.bitget import auth
from ttxt_kafka.credentials import AuthError, Credentials

SECRET = "known-test-secret-not-a-real-one"
CREDS = Credentials("bg_key", SECRET, "the-passphrase")


def expected(payload: str) -> str:
    return base64.b64encode(hmac.new(SECRET.encode(), payload.encode(),
                                     hashlib.sha256).digest()).decode()


def docs_prehashes() -> list[str]:
    """The two prehash examples of the Bitget section, verbatim."""
    text = fixture("SIGNATURE_VECTORS.md").read_text(encoding="utf-8")
    section = text.split("## Bitget", 1)[1].split("\n## ", 1)[0]
    found = re.findall(r"`(16273667805456[^`]+)`", section)
    assert len(found) == 2
    return found


def test_get_prehash_is_the_docs_example() -> None:
    get = docs_prehashes()[0]
    query = auth.encode_query([("limit", "20"), ("symbol", "BTCUSDT")])
    assert auth.prehash("16273667805456", "GET", "/api/mix/v2/market/depth", query) == get


def test_post_prehash_is_the_docs_example() -> None:
    post = docs_prehashes()[1]
    body = auth.json_body({"productType": "usdt-futures", "symbol": "BTCUSDT", "size": "8",
                           "marginMode": "crossed", "side": "buy", "orderType": "limit",
                           "clientOid": "channel#123456"})
    assert auth.prehash(16273667805456, "post", "/api/v2/mix/order/place-order", "",
                        body) == post


def test_headers_sign_exactly_what_is_sent_and_verify() -> None:
    body = auth.json_body({"symbol": "BTCUSDT", "size": "0.01"})
    headers = auth.sign_rest(CREDS, "POST", "/api/v2/spot/trade/place-order", "", body,
                             timestamp_ms=1_700_000_000_000)
    assert headers["ACCESS-SIGN"] == expected(
        f"1700000000000POST/api/v2/spot/trade/place-order{body}")
    assert headers["ACCESS-KEY"] == "bg_key" and headers["ACCESS-TIMESTAMP"] == "1700000000000"
    assert headers["ACCESS-PASSPHRASE"] == "the-passphrase"
    now = 1_700_000_000_500
    auth.verify_rest(CREDS, headers, "POST", "/api/v2/spot/trade/place-order", "", body,
                     now_ms=now)
    cases = [
        ({**headers, "ACCESS-KEY": "other"}, body, now, auth.ERR_KEY),
        ({**headers, "ACCESS-PASSPHRASE": "wrong"}, body, now, auth.ERR_PASSPHRASE),
        (headers, body.replace("0.01", "0.02"), now, auth.ERR_SIGN),  # the body is signed
        (headers, body, now + auth.WINDOW_MS + 1, auth.ERR_TIMESTAMP),
    ]
    for hdrs, sent, at, code in cases:
        with pytest.raises(AuthError) as err:
            auth.verify_rest(CREDS, hdrs, "POST", "/api/v2/spot/trade/place-order", "", sent,
                             now_ms=at)
        assert err.value.code == code
    get = auth.sign_rest(CREDS, "GET", "/api/v2/spot/trade/orderInfo", "clientOid=a%23b",
                         timestamp_ms=now)
    assert get["ACCESS-SIGN"] == expected(f"{now}GET/api/v2/spot/trade/orderInfo?clientOid=a%23b")
    with pytest.raises(AuthError):  # the query is signed too
        auth.verify_rest(CREDS, get, "GET", "/api/v2/spot/trade/orderInfo", "clientOid=x", "",
                         now_ms=now)


def test_ws_login() -> None:
    msg = auth.ws_login_message(CREDS, 1_700_000_000)
    [arg] = msg["args"]
    assert msg["op"] == "login" and arg["timestamp"] == "1700000000"
    assert arg["sign"] == expected("1700000000GET/user/verify")
    auth.verify_ws_login(CREDS, msg, now_ms=1_700_000_001_000)
    with pytest.raises(AuthError) as err:
        auth.verify_ws_login(CREDS, msg, now_ms=1_700_000_100_000)
    assert err.value.code == auth.WS_ERR_TIMESTAMP
    forged = {"op": "login", "args": [{**arg, "sign": expected("1700000000GET/other")}]}
    with pytest.raises(AuthError) as err:
        auth.verify_ws_login(CREDS, forged, now_ms=1_700_000_001_000)
    assert err.value.code == auth.WS_ERR_SIGN


def test_no_passphrase_no_signature() -> None:
    with pytest.raises(Exception, match="passphrase"):
        auth.sign_rest(Credentials("k", "s"), "GET", "/x", timestamp_ms=1)
