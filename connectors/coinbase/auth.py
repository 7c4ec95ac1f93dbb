"""Coinbase Advanced Trade authentication: a JWT per request, signed with the CDP API key.

Per Coinbase's SDK (coinbase/coinbase-advanced-py `jwt_generator.py`, see
`fixtures/SIGNATURE_VECTORS.md`): header `alg` = ES256 (an EC P-256 private key, PEM) or EdDSA
(an Ed25519 key: base64 of its 32-byte seed, or of seed + public key, 64 bytes), `kid` = the key
name (`organizations/{org_id}/apiKeys/{key_id}`), `nonce` = random hex; claims `sub` = the key
name, `iss` = "cdp", `nbf` = now, `exp` = now + 120 s, and for REST `uri` = "METHOD host/path"
(`GET api.coinbase.com/api/v3/brokerage/accounts`; no query). Sent as `Authorization: Bearer
<jwt>`; a WS subscription carries it as `"jwt"` (no `uri`). ECDSA signatures are randomized:
tests verify the token with the public key rather than compare bytes.

The private key is a `Secret` in `Credentials` (api_key = key name, api_secret = the PEM or the
base64 Ed25519 key); it is read once into a `cryptography` key object, whose repr shows nothing,
and never logged or put in an exception: a key that does not load is reported without its text.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import time
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from ttxt_kafka.credentials import AuthError, Credentials, CredentialsError

REST_HOST = "api.coinbase.com"
LIFETIME_S = 120
ISSUER = "cdp"

PrivateKey = ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
PublicKey = ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey


def load_private_key(credentials: Credentials) -> tuple[PrivateKey, str]:
    """(key, JWT algorithm) of the credentials' secret: an EC P-256 PEM or an Ed25519 key."""
    text = credentials.secret.reveal().strip().replace("\\n", "\n")
    if text.startswith("-----BEGIN"):
        try:
            key = load_pem_private_key(text.encode(), password=None)
        except (ValueError, TypeError):
            raise CredentialsError("coinbase: the API secret is not a readable PEM private "
                                   "key") from None
        if isinstance(key, ec.EllipticCurvePrivateKey):
            if not isinstance(key.curve, ec.SECP256R1):
                raise CredentialsError("coinbase: the API key must be on the P-256 curve "
                                       "(ES256)")
            return key, "ES256"
        if isinstance(key, ed25519.Ed25519PrivateKey):
            return key, "EdDSA"
        raise CredentialsError("coinbase: the API secret must be an EC P-256 or Ed25519 key")
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise CredentialsError("coinbase: the API secret is neither a PEM key nor a base64 "
                               "Ed25519 key") from None
    if len(raw) not in (32, 64):
        raise CredentialsError("coinbase: a base64 Ed25519 key must hold 32 or 64 bytes")
    return ed25519.Ed25519PrivateKey.from_private_bytes(raw[:32]), "EdDSA"


def rest_uri(method: str, path: str, host: str = REST_HOST) -> str:
    """The `uri` claim: "GET api.coinbase.com/api/v3/brokerage/accounts" (no query)."""
    return f"{method.upper()} {host}{path.split('?', 1)[0]}"


@dataclass(frozen=True)
class Signer:
    """Builds the JWTs of one API key."""

    key_name: str
    key: PrivateKey
    algorithm: str

    @classmethod
    def of(cls, credentials: Credentials) -> Signer:
        key, algorithm = load_private_key(credentials)
        return cls(credentials.api_key, key, algorithm)

    def __repr__(self) -> str:  # the key object shows nothing, but say so plainly
        return f"Signer(algorithm={self.algorithm!r})"

    def token(self, uri: str | None = None, *, now: int | None = None) -> str:
        """A JWT valid for 2 minutes; `uri` for a REST request, None for a WS subscription."""
        issued = int(time.time()) if now is None else now
        claims: dict[str, Any] = {"sub": self.key_name, "iss": ISSUER, "nbf": issued,
                                  "exp": issued + LIFETIME_S}
        if uri is not None:
            claims["uri"] = uri
        headers = {"kid": self.key_name, "nonce": secrets.token_hex()}
        return jwt.encode(claims, self.key, algorithm=self.algorithm, headers=headers)

    def rest_headers(self, method: str, path: str, host: str = REST_HOST) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(rest_uri(method, path, host))}"}


def verify(token: str, public_key: PublicKey, key_name: str, uri: str | None,
           *, now: float | None = None) -> dict[str, Any]:
    """What Coinbase checks (the simulator's side): the signature with the key's public half,
    `kid`/`sub` = the key name, `iss`, not before `nbf`, not after `exp`, and the `uri` of
    the request. Returns the claims; AuthError (401) otherwise."""
    try:
        header = jwt.get_unverified_header(token)
        algorithm = "ES256" if isinstance(public_key, ec.EllipticCurvePublicKey) else "EdDSA"
        if header.get("alg") != algorithm:
            raise AuthError(401, f"unexpected alg {header.get('alg')!r}")
        if header.get("kid") != key_name or not header.get("nonce"):
            raise AuthError(401, "unknown key or missing nonce")
        # times are checked below, against `now` (PyJWT would use the clock)
        options: Any = {"require": ["sub", "iss", "nbf", "exp"], "verify_exp": False,
                        "verify_nbf": False}
        claims: dict[str, Any] = jwt.decode(token, public_key, algorithms=[algorithm],
                                            issuer=ISSUER, options=options, leeway=0)
    except jwt.PyJWTError as exc:
        raise AuthError(401, f"invalid JWT: {type(exc).__name__}") from None
    at = time.time() if now is None else now
    if not claims["nbf"] <= at < claims["exp"] or claims["exp"] - claims["nbf"] > LIFETIME_S:
        raise AuthError(401, "JWT expired or not yet valid")
    if claims["sub"] != key_name:
        raise AuthError(401, "JWT subject is not the key")
    if claims.get("uri") != uri:
        raise AuthError(401, "JWT uri does not match the request")
    return claims
