"""Coinbase Advanced Trade JWTs, with the SDK's own test key material from
`fixtures/SIGNATURE_VECTORS.md` (coinbase-advanced-py tests/constants.py). ECDSA and EdDSA
tokens are checked as the SDK's tests check them: decoded with the key, header and claims as
documented; and refused when the signature, time window, subject or uri is wrong."""

from __future__ import annotations

import base64
import re

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from fixtures_path import fixture

from ttxt_kafka.connectors.coinbase.auth import Signer, load_private_key, rest_uri, verify
from ttxt_kafka.credentials import AuthError, Credentials, CredentialsError

NOW = 1_786_309_548


def vectors() -> tuple[str, str, str]:
    """(key name, EC PEM, Ed25519 base64) as SIGNATURE_VECTORS.md quotes them."""
    text = fixture("SIGNATURE_VECTORS.md").read_text(encoding="utf-8")
    section = text[text.index("## Coinbase Advanced Trade"):]
    name = re.search(r"TEST_API_KEY `([^`]+)`", section).group(1)  # type: ignore[union-attr]
    pem = re.search(r"TEST_API_SECRET = EC PEM `([^`]+)`", section).group(1)  # type: ignore[union-attr]
    ed = re.search(r"TEST_ED25519_API_SECRET `([^`]+)`", section).group(1)  # type: ignore[union-attr]
    return name, pem.replace("\\n", "\n"), ed


def test_vectors_are_the_sdks() -> None:
    name, pem, ed = vectors()
    assert name == "organizations/test-organization/apiKeys/test-api-key"
    assert pem.startswith("-----BEGIN EC PRIVATE KEY-----\n") and len(base64.b64decode(ed)) == 64


@pytest.mark.parametrize("which", ["ec", "ed25519"])
def test_rest_token_as_the_sdk_builds_it(which: str) -> None:
    name, pem, ed = vectors()
    signer = Signer.of(Credentials(name, pem if which == "ec" else ed))
    alg = "ES256" if which == "ec" else "EdDSA"
    assert signer.algorithm == alg
    uri = rest_uri("get", "/api/v3/brokerage/accounts?limit=5")
    assert uri == "GET api.coinbase.com/api/v3/brokerage/accounts"
    token = signer.token(uri, now=NOW)
    header = jwt.get_unverified_header(token)
    assert header["alg"] == alg and header["kid"] == name and len(header["nonce"]) == 64
    public = signer.key.public_key()
    claims = jwt.decode(token, public, algorithms=[alg], options={"verify_exp": False,
                                                                 "verify_nbf": False})
    assert claims == {"sub": name, "iss": "cdp", "nbf": NOW, "exp": NOW + 120, "uri": uri}
    assert verify(token, public, name, uri, now=NOW + 119) == claims
    # a fresh nonce each time: no two tokens alike
    assert jwt.get_unverified_header(signer.token(uri, now=NOW))["nonce"] != header["nonce"]


def test_ws_token_has_no_uri() -> None:
    name, pem, _ = vectors()
    signer = Signer.of(Credentials(name, pem))
    token = signer.token(now=NOW)
    claims = verify(token, signer.key.public_key(), name, None, now=NOW)
    assert "uri" not in claims


def test_what_the_verifier_refuses() -> None:
    name, pem, ed = vectors()
    signer = Signer.of(Credentials(name, pem))
    public = signer.key.public_key()
    uri = rest_uri("POST", "/api/v3/brokerage/orders")
    token = signer.token(uri, now=NOW)
    for _why, args, when in (
        ("expired", (public, name, uri), NOW + 120),
        ("not yet valid", (public, name, uri), NOW - 1),
        ("another uri", (public, name, rest_uri("POST", "/api/v3/brokerage/orders/batch_cancel")),
         NOW),
        ("another key name", (public, "organizations/x/apiKeys/y", uri), NOW),
        ("another key", (ec.generate_private_key(ec.SECP256R1()).public_key(), name, uri), NOW),
        ("another algorithm", (ed25519.Ed25519PrivateKey.generate().public_key(), name, uri),
         NOW),
    ):
        with pytest.raises(AuthError):
            verify(token, *args, now=when)  # type: ignore[arg-type]
    head, body, sig = token.split(".")
    forged = f"{head}.{body}.{sig[:-4]}AAAA"
    with pytest.raises(AuthError):
        verify(forged, public, name, uri, now=NOW)


def test_bad_keys_are_reported_without_their_text() -> None:
    name, pem, _ = vectors()
    for bad in ("-----BEGIN EC PRIVATE KEY-----\nnot a key\n-----END EC PRIVATE KEY-----",
                "not base64 at all!", base64.b64encode(b"short").decode()):
        with pytest.raises(CredentialsError) as info:
            load_private_key(Credentials(name, bad))
        assert bad not in str(info.value) and "not a key" not in str(info.value)
    p384 = ec.generate_private_key(ec.SECP384R1())
    from cryptography.hazmat.primitives import serialization
    pem384 = p384.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    with pytest.raises(CredentialsError, match="P-256"):
        load_private_key(Credentials(name, pem384))
    signer = Signer.of(Credentials(name, pem))
    assert "PRIVATE" not in repr(signer) and pem[40:60] not in repr(signer)
