"""OKX v5 signing and verification. OKX publishes the prehash rule, an example timestamp,
request path and secret key, but no expected signature (SIGNATURE_VECTORS.md: "NO OFFICIAL
VECTOR FOUND"), so the prehash strings are checked against the documented examples and the
base64 HMAC-SHA256 against the standard library with the docs' example secret."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest
from fixtures_path import fixture

from ttxt_kafka.connectors.okx import auth
from ttxt_kafka.credentials import AuthError, Credentials

DOCS_SECRET = "22582BD0CFF14C41EDBF1AB98506286D"  # the docs' example secretKey
CREDS = Credentials("okx-key", DOCS_SECRET, "the-passphrase")
DOCS_TS = "2020-12-08T09:08:57.715Z"


def expected(payload: str) -> str:
    return base64.b64encode(hmac.new(DOCS_SECRET.encode(), payload.encode(),
                                     hashlib.sha256).digest()).decode()


def test_the_docs_examples_are_in_the_vectors_file() -> None:
    section = fixture("SIGNATURE_VECTORS.md").read_text(encoding="utf-8").split(
        "## OKX", 1)[1].split("\n## ", 1)[0]
    for text in (DOCS_TS, "/api/v5/account/balance?ccy=BTC", DOCS_SECRET, "/users/self/verify"):
        assert text in section


def test_iso_timestamp_round_trip() -> None:
    ms = auth.parse_iso_ms(DOCS_TS)
    assert auth.iso_ms(ms) == DOCS_TS and ms % 1000 == 715
    for bad in ("2020-12-08T09:08:57Z", "1607418537715", "2020-12-08 09:08:57.715Z"):
        with pytest.raises(ValueError):
            auth.parse_iso_ms(bad)


def test_get_prehash_includes_the_query_and_no_body() -> None:
    assert auth.prehash(DOCS_TS, "get", "/api/v5/account/balance", "ccy=BTC") == \
        f"{DOCS_TS}GET/api/v5/account/balance?ccy=BTC"


def test_headers_sign_exactly_what_is_sent_and_verify() -> None:
    body = auth.json_body({"instId": "BTC-USDT", "tdMode": "cash", "side": "buy",
                           "ordType": "limit", "px": "2.15", "sz": "2", "clOrdId": "b15"})
    ms = auth.parse_iso_ms(DOCS_TS)
    headers = auth.sign_rest(CREDS, "POST", "/api/v5/trade/order", "", body, timestamp_ms=ms)
    assert headers["OK-ACCESS-SIGN"] == expected(f"{DOCS_TS}POST/api/v5/trade/order{body}")
    assert headers["OK-ACCESS-TIMESTAMP"] == DOCS_TS and headers["OK-ACCESS-KEY"] == "okx-key"
    assert headers["OK-ACCESS-PASSPHRASE"] == "the-passphrase"
    auth.verify_rest(CREDS, headers, "POST", "/api/v5/trade/order", "", body, now_ms=ms + 500)
    get = auth.sign_rest(CREDS, "GET", "/api/v5/account/balance", "ccy=BTC", timestamp_ms=ms)
    assert get["OK-ACCESS-SIGN"] == expected(f"{DOCS_TS}GET/api/v5/account/balance?ccy=BTC")


@pytest.mark.parametrize("change,code", [
    ({"OK-ACCESS-KEY": "other"}, 50111), ({"OK-ACCESS-PASSPHRASE": "nope"}, 50105),
    ({"OK-ACCESS-TIMESTAMP": "1607418537715"}, 50112), ({"OK-ACCESS-SIGN": "AAAA"}, 50113),
])
def test_refusals_carry_okx_codes(change: dict[str, str], code: int) -> None:
    ms = auth.parse_iso_ms(DOCS_TS)
    headers = auth.sign_rest(CREDS, "GET", "/api/v5/account/balance", timestamp_ms=ms) | change
    with pytest.raises(AuthError) as err:
        auth.verify_rest(CREDS, headers, "GET", "/api/v5/account/balance", "", "", now_ms=ms)
    assert err.value.code == code


def test_stale_timestamp_and_tampered_body() -> None:
    ms = auth.parse_iso_ms(DOCS_TS)
    headers = auth.sign_rest(CREDS, "POST", "/api/v5/trade/order", "", "{}", timestamp_ms=ms)
    with pytest.raises(AuthError, match="50102"):
        auth.verify_rest(CREDS, headers, "POST", "/api/v5/trade/order", "", "{}",
                         now_ms=ms + 31_000)
    with pytest.raises(AuthError, match="50113"):
        auth.verify_rest(CREDS, headers, "POST", "/api/v5/trade/order", "", '{"a":1}', now_ms=ms)


def test_ws_login_signs_seconds_and_the_verify_path() -> None:
    login = auth.ws_login_message(CREDS, 1_607_418_537)
    [arg] = login["args"]
    assert login["op"] == "login" and arg["timestamp"] == "1607418537"
    assert arg["sign"] == expected("1607418537GET/users/self/verify")
    auth.verify_ws_login(CREDS, login, now_ms=1_607_418_537_000 + 10_000)
    with pytest.raises(AuthError, match="60006"):
        auth.verify_ws_login(CREDS, login, now_ms=1_607_418_537_000 + 31_000)
    wrong = auth.ws_login_message(Credentials("okx-key", DOCS_SECRET, "other"), 1_607_418_537)
    with pytest.raises(AuthError, match="60024"):
        auth.verify_ws_login(CREDS, wrong, now_ms=1_607_418_537_000)
    bad = {**login, "args": [{**arg, "sign": expected("tampered")}]}
    with pytest.raises(AuthError, match="60007"):
        auth.verify_ws_login(CREDS, bad, now_ms=1_607_418_537_000)


def test_the_passphrase_is_required() -> None:
    from ttxt_kafka.credentials import CredentialsError

    with pytest.raises(CredentialsError, match="OKX needs an API passphrase"):
        auth.sign_rest(Credentials("k", DOCS_SECRET), "GET", "/x", timestamp_ms=0)
