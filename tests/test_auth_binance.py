"""Binance signing and verification, on the official vectors B1-B4 of SIGNATURE_VECTORS.md."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from fixtures_path import fixture

from ttxt_kafka.connectors.binance import auth
from ttxt_kafka.credentials import AuthError, Credentials

NOW = 1499827319559
Vectors = tuple[Credentials, dict[str, tuple[str, str]]]


def binance_vectors() -> Vectors:
    """apiKey/secretKey and {B1..B4: (payload, signature)} read from the vectors file."""
    text = fixture("SIGNATURE_VECTORS.md").read_text(encoding="utf-8")
    section = text.split("## Binance", 1)[1].split("\n## ", 1)[0]
    key = re.search(r"apiKey\s*=\s*`([^`]+)`", section)
    secret = re.search(r"secretKey\s*=\s*`([^`]+)`", section)
    assert key and secret
    rows = {}
    for line in section.splitlines():
        m = re.match(r"\|\s*(B\d)\b[^|]*\|\s*`([^`]*)`\s*\|\s*`([0-9a-f]{64})`", line)
        if m:
            rows[m.group(1)] = (m.group(2), m.group(3))
    assert set(rows) == {"B1", "B2", "B3", "B4"}
    return Credentials(key.group(1), secret.group(1)), rows


@pytest.fixture(scope="module")
def vectors() -> Vectors:
    return binance_vectors()


def test_hmac_of_every_vector(vectors: Vectors) -> None:
    creds, rows = vectors
    for name, (payload, signature) in rows.items():
        assert creds.hmac_sha256_hex(payload) == signature, name
        assert creds.matches(payload, signature.upper()), name  # hex is case-insensitive


def test_rest_ascii_b1(vectors: Vectors) -> None:
    creds, rows = vectors
    params = [("symbol", "LTCBTC"), ("side", "BUY"), ("type", "LIMIT"), ("timeInForce", "GTC"),
              ("quantity", "1"), ("price", "0.1")]
    signed = auth.sign_rest(creds, params, timestamp_ms=1499827319559, recv_window_ms=5000)
    payload, signature = rows["B1"]
    assert signed.query == f"{payload}&signature={signature}"
    assert signed.body == ""
    assert signed.headers == {"X-MBX-APIKEY": creds.api_key}


def test_rest_non_ascii_is_percent_encoded_before_signing_b2(
        vectors: Vectors) -> None:
    creds, rows = vectors
    params = {"symbol": "１２３４５６", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
              "quantity": "1", "price": "0.1"}
    signed = auth.sign_rest(creds, params, timestamp_ms=1499827319559)
    payload, signature = rows["B2"]
    assert signed.query == f"{payload}&signature={signature}"
    assert quote("１２３４５６") in payload


def test_ws_api_sorted_params_b3(vectors: Vectors) -> None:
    creds, rows = vectors
    params = {"symbol": "BTCUSDT", "side": "SELL", "type": "LIMIT", "timeInForce": "GTC",
              "quantity": "0.01000000", "price": "52000.00"}
    signed = auth.sign_ws_params(creds, params, timestamp_ms=1645423376532, recv_window_ms=100)
    payload, signature = rows["B3"]
    assert auth.ws_payload(signed) == payload
    assert signed["signature"] == signature
    assert signed["apiKey"] == creds.api_key


def test_ws_api_non_ascii_is_raw_b4(vectors: Vectors) -> None:
    creds, rows = vectors
    params = {"symbol": "１２３４５６", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
              "quantity": "1.00000000", "price": "0.10000000"}
    signed = auth.sign_ws_params(creds, params, timestamp_ms=1645423376532, recv_window_ms=5000)
    assert (auth.ws_payload(signed), signed["signature"]) == rows["B4"]


def test_body_params_carry_timing_and_signature(
        vectors: Vectors) -> None:
    creds, _ = vectors
    signed = auth.sign_rest(creds, [("symbol", "LTCBTC")], body_params=[("quantity", "1")],
                            timestamp_ms=NOW)
    assert signed.query == "symbol=LTCBTC"
    assert signed.body.startswith("quantity=1&recvWindow=5000&timestamp=1499827319559&signature=")
    signature = signed.body.rsplit("=", 1)[1]
    assert signature == creds.hmac_sha256_hex(signed.query + signed.body.rsplit("&", 1)[0])


def test_param_text() -> None:
    from decimal import Decimal

    assert auth.encode_params([("reduceOnly", True), ("price", Decimal("0.10")),
                               ("newClientOrderId", "a:b/c.d_e-f")]) == (
        "reduceOnly=true&price=0.10&newClientOrderId=a%3Ab%2Fc.d_e-f")
    with pytest.raises(TypeError):
        auth.param_text(0.1)


# ---------------------------------------------------------------- verify (simulator side)


def test_verify_accepts_what_sign_produces(
        vectors: Vectors) -> None:
    creds, _ = vectors
    signed = auth.sign_rest(creds, {"symbol": "１２３４５６", "quantity": "1"}, timestamp_ms=NOW,
                            body_params={"price": "0.1"})
    params = auth.verify_rest(creds, creds.api_key, signed.query, signed.body, now_ms=NOW + 10)
    assert params["symbol"] == "１２３４５６" and params["price"] == "0.1"
    ws = auth.sign_ws_params(creds, {"symbol": "BTCUSDT"}, timestamp_ms=NOW)
    auth.verify_ws_params(creds, ws, now_ms=NOW)


@pytest.mark.parametrize(("change", "code", "message"), [
    ("tamper", -1022, "Signature for this request is not valid."),
    ("key", -2015, "Invalid API-key, IP, or permissions for action."),
    ("late", -1021, "Timestamp for this request is outside of the recvWindow."),
    ("ahead", -1021, "Timestamp for this request was 1000ms ahead of the server's time."),
    ("nosig", -1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed."),
])
def test_verify_rejects_like_binance(vectors: Vectors,
                                     change: str, code: int, message: str) -> None:
    creds, _ = vectors
    signed = auth.sign_rest(creds, {"symbol": "BTCUSDT", "quantity": "1"}, timestamp_ms=NOW)
    query, key, now = signed.query, creds.api_key, NOW
    if change == "tamper":
        query = query.replace("quantity=1", "quantity=2")
    elif change == "key":
        key = "someone-else"
    elif change == "late":
        now = NOW + 5001
    elif change == "ahead":
        now = NOW - 1000
    elif change == "nosig":
        query = query.rsplit("&", 1)[0]
    with pytest.raises(AuthError) as err:
        auth.verify_rest(creds, key, query, "", now_ms=now)
    assert (err.value.code, err.value.message) == (code, message)
    assert creds.secret.reveal() not in str(err.value)


def test_timing_rule_edges() -> None:
    auth.check_timestamp(1000, 5000, 6000)  # exactly recvWindow old: accepted
    auth.check_timestamp(1999, None, 1000)  # 999 ms ahead: accepted
    for ts, window, now in [(1000, 5000, 6001), (2000, None, 1000), (1000, 60001, 1000),
                            ("x", None, 1), (1, "abc", 1)]:
        with pytest.raises(AuthError):
            auth.check_timestamp(ts, window, now)
    auth.check_timestamp(1000, "6000.346", 7000)  # decimal recvWindow (microseconds) allowed
