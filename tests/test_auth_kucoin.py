"""KuCoin signing and verification against the official vector of SIGNATURE_VECTORS.md (the
docs' "Signing a Message" example: key, secret, timestamp, request and expected KC-API-SIGN),
read from the fixture itself."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

import pytest
from fixtures_path import fixture

from ttxt_kafka.connectors.kucoin import auth
from ttxt_kafka.credentials import AuthError, Credentials


def vector() -> dict[str, str]:
    text = fixture("SIGNATURE_VECTORS.md").read_text(encoding="utf-8")
    section = text.split("## KuCoin", 1)[1].split("\n## ", 1)[0]

    def field(name: str) -> str:
        m = re.search(rf"{re.escape(name)}[^`]*`([^`]+)`", section)
        assert m, name
        return m.group(1)

    return {"key": field("KC-API-KEY ="), "secret": field("KC-API-SECRET ="),
            "timestamp": field("TIMESTAMP ="), "endpoint": field("ENDPOINT ="),
            "body": field("body"), "prehash": field("STRING-TO-SIGN ="),
            "sign": field("KC-API-SIGN =")}


def test_the_official_vector() -> None:
    v = vector()
    assert v["sign"] == "7QP/oM0ykidMdrfNEUmng8eZjg/ZvPafjIqmxiVfYu4="
    creds = Credentials(v["key"], v["secret"], "Ab12345678)(*&^%$#@")
    assert auth.prehash(v["timestamp"], "post", v["endpoint"], "", v["body"]) == v["prehash"]
    headers = auth.sign_rest(creds, "POST", v["endpoint"], "", v["body"],
                             timestamp_ms=int(v["timestamp"]))
    assert headers["KC-API-SIGN"] == v["sign"]
    assert headers["KC-API-KEY"] == v["key"] and headers["KC-API-TIMESTAMP"] == v["timestamp"]
    assert headers["KC-API-KEY-VERSION"] == "2"
    # key version 2: the passphrase header is base64(HMAC-SHA256(secret, passphrase))
    assert headers["KC-API-PASSPHRASE"] == base64.b64encode(hmac.new(
        v["secret"].encode(), b"Ab12345678)(*&^%$#@", hashlib.sha256).digest()).decode()
    auth.verify_rest(creds, headers, "POST", v["endpoint"], "", v["body"],
                     now_ms=int(v["timestamp"]) + 1000)


def test_query_is_signed_and_verification_refuses_what_kucoin_refuses() -> None:
    creds = Credentials("kc_key", "known-test-secret", "the-passphrase")
    now = 1_700_000_000_000
    path, query = "/api/v1/hf/orders/client-order/abc", "symbol=BTC-USDT"
    headers = auth.sign_rest(creds, "DELETE", path, query, timestamp_ms=now)
    assert auth.prehash(now, "DELETE", path, query) == f"{now}DELETE{path}?{query}"
    auth.verify_rest(creds, headers, "DELETE", path, query, "", now_ms=now + 10)
    cases = [
        ({**headers, "KC-API-KEY": "other"}, query, now, auth.ERR_KEY),
        ({**headers, "KC-API-PASSPHRASE": "the-passphrase"}, query, now, auth.ERR_PASSPHRASE),
        ({**headers, "KC-API-KEY-VERSION": "1"}, query, now, auth.ERR_PASSPHRASE),
        (headers, "symbol=ETH-USDT", now, auth.ERR_SIGN),  # the query is signed
        (headers, query, now + auth.WINDOW_MS + 1, auth.ERR_TIMESTAMP),
        ({k: v for k, v in headers.items() if k != "KC-API-SIGN"}, query, now, auth.ERR_HEADER),
    ]
    for hdrs, sent, at, code in cases:
        with pytest.raises(AuthError) as err:
            auth.verify_rest(creds, hdrs, "DELETE", path, sent, "", now_ms=at)
        assert err.value.code == code


def test_no_passphrase_no_signature() -> None:
    with pytest.raises(Exception, match="passphrase"):
        auth.sign_rest(Credentials("k", "s"), "GET", "/x", timestamp_ms=1)
