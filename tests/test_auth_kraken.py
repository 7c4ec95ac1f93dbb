"""Kraken spot REST signing on Kraken's documented API-Sign example (SIGNATURE_VECTORS.md has no
Kraken vector; the example is the docs' "Spot REST Authentication" page: private key, nonce
1616492376594, an AddOrder body, URI path /0/private/AddOrder) and the simulator's verification."""

from __future__ import annotations

import pytest

from ttxt_kafka.connectors.kraken import auth
from ttxt_kafka.credentials import AuthError, Credentials, CredentialsError

SECRET = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="
NONCE = 1616492376594
BODY = "nonce=1616492376594&ordertype=limit&pair=XBTUSD&price=37500&type=buy&volume=1.25"
PATH = "/0/private/AddOrder"
API_SIGN = ("4/dpxb3iT4tp/ZCVEwSnEsLxx0bqyhLpdfOpc6fn7OR8+UClSV5n9E6aSS8MPtnRfp32bAb0nmbRn6H8nd"
            "wLUQ==")
DOCS = Credentials("docs-example-key", SECRET)


def test_the_documented_example() -> None:
    assert auth.api_sign(DOCS, PATH, NONCE, BODY) == API_SIGN


def test_form_body_and_headers_are_the_example() -> None:
    body = auth.form_body([("ordertype", "limit"), ("pair", "XBTUSD"), ("price", "37500"),
                           ("type", "buy"), ("volume", "1.25")], NONCE)
    assert body == BODY
    headers = auth.headers(DOCS, PATH, NONCE, body)
    assert headers == {"API-Key": "docs-example-key", "API-Sign": API_SIGN,
                       "Content-Type": "application/x-www-form-urlencoded"}
    params, nonce = auth.verify(DOCS, headers, PATH, body, last_nonce=NONCE - 1)
    assert (params["volume"], nonce) == ("1.25", NONCE)


@pytest.mark.parametrize(("change", "error"), [
    (lambda h, b, p: (h, b.replace("1.25", "1.26"), p), auth.ERR_SIGN),
    (lambda h, b, p: (h, b, "/0/private/CancelOrder"), auth.ERR_SIGN),
    (lambda h, b, p: ({**h, "API-Key": "someone-else"}, b, p), auth.ERR_KEY),
    (lambda h, b, p: (h, b.replace("nonce=", "nonc="), p), auth.ERR_NONCE),
])
def test_what_kraken_refuses(change, error) -> None:  # type: ignore[no-untyped-def]
    h, b, p = change(auth.headers(DOCS, PATH, NONCE, BODY), BODY, PATH)
    with pytest.raises(AuthError) as err:
        auth.verify(DOCS, h, p, b, last_nonce=0)
    assert err.value.message == error
    with pytest.raises(AuthError) as replay:  # a nonce not above the last one
        auth.verify(DOCS, auth.headers(DOCS, PATH, NONCE, BODY), PATH, BODY, last_nonce=NONCE)
    assert replay.value.message == auth.ERR_NONCE


def test_nonces_always_increase() -> None:
    nonces = auth.Nonces()
    drawn = [nonces.next() for _ in range(1000)]
    assert drawn == sorted(set(drawn))


def test_a_secret_that_is_not_base64_is_a_clear_error_without_the_secret() -> None:
    bad = Credentials("k", "not base64 at all!")
    with pytest.raises(CredentialsError) as err:
        auth.api_sign(bad, PATH, NONCE, BODY)
    assert "not base64" in str(err.value) and "at all" not in str(err.value)
    assert err.value.__context__ is None and err.value.__cause__ is None


def test_the_gateway_refuses_a_secret_that_is_not_base64_at_once() -> None:
    from ttxt_kafka.connectors.base.symbols import SymbolMap
    from ttxt_kafka.connectors.kraken.gateway import KrakenGateway

    def build(secret: str) -> KrakenGateway:
        return KrakenGateway(venue="kraken_spot", credentials=Credentials("k", secret),
                             rest_base="http://127.0.0.1:9", trade_ws="ws://127.0.0.1:9",
                             symbols=SymbolMap("kraken_spot"), natives=list)

    with pytest.raises(CredentialsError) as err:
        build("TtxtSecret-with-dashes!!")
    assert "not base64" in str(err.value) and "dashes" not in str(err.value)
    assert build(SECRET).credentials.api_key == "k"
