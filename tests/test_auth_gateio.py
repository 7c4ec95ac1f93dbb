"""Gate.io APIv4 signing and verification: the official vectors G1 and G2
(`SIGNATURE_VECTORS.md`, key `key`, secret `secret`) are rebuilt from their parts, not copied
as whole strings, so the signature string's construction is what is tested."""

from __future__ import annotations

import hashlib
import hmac
import re

import pytest
from fixtures_path import fixture

from ttxt_kafka.connectors.gateio import auth
from ttxt_kafka.credentials import AuthError, Credentials

CREDS = Credentials("key", "secret")


def vectors() -> dict[str, tuple[str, str]]:
    """G1, G2 of the Gate section: (signature string with real LFs, expected SIGN)."""
    text = fixture("SIGNATURE_VECTORS.md").read_text(encoding="utf-8")
    section = text.split("## Gate.io", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (G\d) \| `([^`]+)`.*\| `([0-9a-f]{128})` \|$", section, re.M)
    assert [r[0] for r in rows] == ["G1", "G2"]
    return {name: (string.replace("\\n", "\n"), sign) for name, string, sign in rows}


def test_g1_get_with_query() -> None:
    string, sign = vectors()["G1"]
    query = auth.encode_query([("contract", "BTC_USD"), ("status", "finished"), ("limit", 50)])
    built = auth.signature_string("GET", "/api/v4/futures/orders", query, "", 1541993715)
    assert built == string
    headers = auth.sign_rest(CREDS, "GET", "/api/v4/futures/orders", query,
                             timestamp_s=1541993715)
    assert headers["SIGN"] == sign
    assert (headers["KEY"], headers["Timestamp"]) == ("key", "1541993715")


def test_g2_post_with_body() -> None:
    string, sign = vectors()["G2"]
    body = '{"contract":"BTC_USD","type":"limit","size":100,"price":6800,"time_in_force":"gtc"}'
    assert auth.body_hash(body) == string.split("\n")[3]
    assert auth.signature_string("post", "/api/v4/futures/orders", "", body,
                                 1541993715) == string
    assert auth.sign_rest(CREDS, "POST", "/api/v4/futures/orders", "", body,
                          timestamp_s=1541993715)["SIGN"] == sign


def test_the_empty_body_hash_is_the_documented_one() -> None:
    assert auth.body_hash("").startswith("cf83e1357eefb8bdf1542850d66d8007d620e405")


def test_verify_accepts_what_sign_makes_and_refuses_the_rest() -> None:
    body = auth.json_body({"currency_pair": "BTC_USDT", "amount": "0.01"})
    h = auth.sign_rest(CREDS, "POST", "/api/v4/spot/orders", "", body, timestamp_s=1_700_000_000)
    auth.verify_rest(CREDS, h, "POST", "/api/v4/spot/orders", "", body, now_s=1_700_000_030)
    cases = [
        ({**h, "KEY": "other"}, body, 1_700_000_000, auth.INVALID_KEY),
        (h, body + " ", 1_700_000_000, auth.INVALID_SIGNATURE),
        (h, body, 1_700_000_061, auth.REQUEST_EXPIRED),
        ({k: v for k, v in h.items() if k != "SIGN"}, body, 1_700_000_000, auth.MISSING_HEADER),
    ]
    for headers, sent, now, label in cases:
        with pytest.raises(auth.GateAuthError) as err:
            auth.verify_rest(CREDS, headers, "POST", "/api/v4/spot/orders", "", sent, now_s=now)
        assert err.value.label == label
        assert "secret" not in str(err.value)
    with pytest.raises(auth.GateAuthError):  # another secret, same key
        auth.verify_rest(Credentials("key", "other"), h, "POST", "/api/v4/spot/orders", "",
                         body, now_s=1_700_000_000)


def test_ws_channel_auth() -> None:
    req = auth.ws_request(CREDS, "spot.orders", "subscribe", ["!all"], 1_700_000_000)
    expected = hmac.new(b"secret", b"channel=spot.orders&event=subscribe&time=1700000000",
                        hashlib.sha512).hexdigest()
    assert req["auth"] == {"method": "api_key", "KEY": "key", "SIGN": expected}
    auth.verify_ws(CREDS, req, now_s=1_700_000_010)
    for bad in ({**req, "channel": "spot.balances"}, {**req, "time": 1_700_000_001},
                {**req, "auth": {**req["auth"], "KEY": "k2"}}, {k: v for k, v in req.items()
                                                                if k != "auth"}):
        with pytest.raises(AuthError) as err:
            auth.verify_ws(CREDS, bad, now_s=1_700_000_010)
        assert err.value.code == auth.WS_AUTH_FAILED
