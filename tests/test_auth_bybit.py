"""Bybit v5 signing and verification. Bybit publishes no secret with its examples, so the
prehash strings are checked exactly against the docs (SIGNATURE_VECTORS.md) and the HMAC
against the standard library with a known secret."""

from __future__ import annotations

import hashlib
import hmac
import re

import pytest
from fixtures_path import fixture, load_json

from ttxt_kafka.connectors.bybit import auth
from ttxt_kafka.credentials import AuthError, Credentials

SECRET = "known-test-secret-not-a-real-one"


def expected_hmac(payload: str) -> str:
    return hmac.new(SECRET.encode(), payload.encode(), hashlib.sha256).hexdigest()


def docs_prehashes() -> tuple[str, str]:
    """The GET and POST prehash examples of the Bybit section, verbatim."""
    text = fixture("SIGNATURE_VECTORS.md").read_text(encoding="utf-8")
    section = text.split("## Bybit", 1)[1].split("\n## ", 1)[0]
    get = re.search(r"Prehash GET.*?example: `([^`]+)`", section, re.S)
    post = re.search(r"Prehash POST.*?example: `([^`]+)`", section, re.S)
    assert get and post
    return get.group(1), post.group(1)


def test_rest_get_prehash_is_the_docs_example() -> None:
    get, _ = docs_prehashes()
    query = auth.encode_query([("category", "option"), ("symbol", "BTC-29JUL22-25000-C")])
    assert auth.rest_prehash(1658384314791, "XXXXXXXXXX", 5000, query) == get


def test_rest_post_prehash_is_the_docs_example() -> None:
    _, post = docs_prehashes()
    body = '{"category": "option"}'  # the docs' body, sent and signed as is
    assert auth.rest_prehash(1658385579423, "XXXXXXXXXX", 5000, body) == post


def test_sign_rest_headers() -> None:
    creds = Credentials("XXXXXXXXXX", SECRET)
    get, _ = docs_prehashes()
    headers = auth.sign_rest(creds, "category=option&symbol=BTC-29JUL22-25000-C",
                             timestamp_ms=1658384314791)
    assert headers == {
        "X-BAPI-API-KEY": "XXXXXXXXXX",
        "X-BAPI-TIMESTAMP": "1658384314791",
        "X-BAPI-RECV-WINDOW": "5000",
        "X-BAPI-SIGN": expected_hmac(get),
        "X-BAPI-SIGN-TYPE": "2",
    }


def test_json_body_is_compact_and_exact() -> None:
    from decimal import Decimal

    body = auth.json_body({"category": "linear", "qty": Decimal("0.010"), "reduceOnly": True})
    assert body == '{"category":"linear","qty":"0.010","reduceOnly":true}'


def test_ws_auth_message_matches_the_docs_shape() -> None:
    docs = load_json("bybit/docs_v5_ws_trade_auth_request.json")
    creds = Credentials(docs["args"][0], SECRET)
    message = auth.ws_auth_message(creds, docs["args"][1])
    assert message["op"] == docs["op"] == "auth"
    assert message["args"][:2] == docs["args"][:2]
    assert message["args"][2] == expected_hmac(f"GET/realtime{docs['args'][1]}")
    assert re.fullmatch(r"[0-9a-f]{64}", docs["args"][2])  # the docs' one has the same form


def test_trade_header() -> None:
    docs = load_json("bybit/docs_v5_ws_trade_order_create_request.json")
    header = auth.trade_header(1711001595207, 8000)
    assert header == {k: v for k, v in docs["header"].items() if k.startswith("X-BAPI")}


# ---------------------------------------------------------------- verify (simulator side)

NOW = 1_700_000_000_000


def test_verify_accepts_what_sign_produces() -> None:
    creds = Credentials("key-1", SECRET)
    body = auth.json_body({"category": "spot", "symbol": "BTCUSDT"})
    headers = auth.sign_rest(creds, body, timestamp_ms=NOW)
    auth.verify_rest(creds, {k.lower(): v for k, v in headers.items()}, body, now_ms=NOW + 4999)
    auth.verify_ws_auth(creds, auth.ws_auth_message(creds, NOW + 10_000), now_ms=NOW)


@pytest.mark.parametrize(("change", "code"), [
    ("tamper", 10004), ("key", 10003), ("late", 10002), ("ahead", 10002), ("nosign", 10004)])
def test_verify_rest_rejects_like_bybit(change: str, code: int) -> None:
    creds = Credentials("key-1", SECRET)
    payload = "category=linear&symbol=BTCUSDT"
    headers = auth.sign_rest(creds, payload, timestamp_ms=NOW, recv_window_ms=5000)
    now = NOW
    if change == "tamper":
        payload += "&limit=1"
    elif change == "key":
        headers["X-BAPI-API-KEY"] = "key-2"
    elif change == "late":
        now = NOW + 5001
    elif change == "ahead":
        now = NOW - 1000
    elif change == "nosign":
        del headers["X-BAPI-SIGN"]
    with pytest.raises(AuthError) as err:
        auth.verify_rest(creds, headers, payload, now_ms=now)
    assert err.value.code == code
    assert SECRET not in str(err.value)


def test_verify_ws_auth_rejections() -> None:
    creds = Credentials("key-1", SECRET)
    expired = auth.ws_auth_message(creds, NOW)
    with pytest.raises(AuthError):
        auth.verify_ws_auth(creds, expired, now_ms=NOW)
    forged = auth.ws_auth_message(Credentials("key-1", "other-secret"), NOW + 1000)
    with pytest.raises(AuthError) as err:
        auth.verify_ws_auth(creds, forged, now_ms=NOW)
    assert err.value.code == 10004
    with pytest.raises(AuthError):
        auth.verify_ws_auth(creds, {"op": "auth", "args": ["key-1"]}, now_ms=NOW)
