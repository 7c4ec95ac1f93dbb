"""MEXC spot v3 signing on the official vectors (`fixtures/SIGNATURE_VECTORS.md`: M2 and M3;
the docs' M1 digest is a documented error) and the simulator's verification of it."""

from __future__ import annotations

import pytest

from ttxt_kafka.connectors.mexc import auth
from ttxt_kafka.credentials import AuthError, Credentials

DOCS = Credentials("mx0aBYs33eIilxBWC5", "45d0b3c26f2644f19bfb98b07741b2f5")
QUERY = ("symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=11&recvWindow=5000"
         "&timestamp=1644489390087")
M2 = "fd3e4e8543c5188531eb7279d68ae7d26a573d0fc5ab0d18eb692451654d837a"
M3 = "d1a676610ceb39174c8039b3f548357994b2a34139a8addd33baadba65684592"
BODY = "quantity=1&price=11&recvWindow=5000&timestamp=1644489390087"


def test_m2_all_parameters_in_one_string() -> None:
    assert DOCS.hmac_sha256_hex(auth.total_params(QUERY)) == M2


def test_m3_query_then_body_without_an_ampersand() -> None:
    query, body = "symbol=BTCUSDT&side=BUY&type=LIMIT", BODY
    assert auth.total_params(query, body) == (
        "symbol=BTCUSDT&side=BUY&type=LIMITquantity=1&price=11&recvWindow=5000&timestamp="
        "1644489390087")
    assert DOCS.hmac_sha256_hex(auth.total_params(query, body)) == M3


def test_signed_query_is_the_vector_and_verifies() -> None:
    query = auth.signed_query(DOCS, {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT",
                                     "quantity": "1", "price": "11"},
                              timestamp_ms=1644489390087, recv_window_ms=5000)
    assert query == f"{QUERY}&signature={M2}"
    headers = auth.headers(DOCS)
    assert headers == {"X-MEXC-APIKEY": "mx0aBYs33eIilxBWC5", "Content-Type": "application/json"}
    params = auth.verify(DOCS, headers, query, "", now_ms=1644489391000)
    assert params["price"] == "11" and "signature" not in params
    # M3's split: the same parameters half in the query, half in the body
    m3 = f"symbol=BTCUSDT&side=BUY&type=LIMIT&signature={M3}"
    assert auth.verify(DOCS, headers, m3, BODY, now_ms=1644489391000)["quantity"] == "1"


@pytest.mark.parametrize(("change", "code"), [
    (lambda q, h: (q.replace("BTCUSDT", "ETHUSDT"), h), auth.ERR_SIGN),
    (lambda q, h: (q, {"X-MEXC-APIKEY": "someone-else"}), auth.ERR_KEY),
    (lambda q, h: (q.rpartition("&signature=")[0], h), auth.ERR_SIGN),
])
def test_what_mexc_refuses(change, code) -> None:  # type: ignore[no-untyped-def]
    query = auth.signed_query(DOCS, {"symbol": "BTCUSDT"}, timestamp_ms=1644489390087)
    q, h = change(query, auth.headers(DOCS))
    with pytest.raises(AuthError) as err:
        auth.verify(DOCS, h, q, "", now_ms=1644489391000)
    assert err.value.code == code
    with pytest.raises(AuthError) as late:  # outside recvWindow
        auth.verify(DOCS, auth.headers(DOCS), query, "", now_ms=1644489390087 + 6000)
    assert late.value.code == auth.ERR_TIMESTAMP
