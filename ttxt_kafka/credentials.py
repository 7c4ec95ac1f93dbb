"""API credentials: loaded from the environment or a secrets file, never shown.

`Credentials` holds an API key, its secret and, for the exchanges that issue one (Bitget, OKX,
KuCoin), a passphrase: a third credential, a `Secret` like the secret. A `Secret`'s repr and
str are `***`, it refuses to be pickled, and JSON cannot encode it, so printing, logging,
formatting or publishing credentials by mistake shows nothing. The key is shown masked
(`vmPU…Eh8A`). The HMAC is computed here (`Credentials.hmac_sha256_hex`, `..._base64`) so
signing code never handles the secret's text; `reveal()` exists for the rare caller that must
(and says so when read).

Loading (`load_credentials`): the environment wins, then the secrets file named in the config:

    env:   <PREFIX>_API_KEY and <PREFIX>_API_SECRET, PREFIX defaulting to TTXT_<NAME>
           (name "binance_usdm" -> TTXT_BINANCE_USDM_API_KEY / TTXT_BINANCE_USDM_API_SECRET),
           and <PREFIX>_API_PASSPHRASE where the exchange issues one
    file:  YAML or JSON, one entry per name:   binance_usdm: {api_key: ..., api_secret: ...}
           (plus api_passphrase: ... where the exchange issues one)

Errors (`CredentialsError`) name the variable, the file and the entry, never a value; a file
that does not parse is reported by line only, because parser messages quote the text around
the error. A secrets file readable by group or others is logged as a warning (its path only).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import re
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn

import yaml

log = logging.getLogger(__name__)

MASK = "***"


class CredentialsError(ValueError):
    """Credentials missing or unreadable; the message never contains a key or secret."""


class AuthError(Exception):
    """A request failed authentication (bad signature, stale timestamp, unknown key), with
    the exchange's code and message. Raised by the verify side (the simulator)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class Secret:
    """A string that does not show itself."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str) or not value:
            raise CredentialsError("a secret must be a non-empty string")
        self._value = value

    def reveal(self) -> str:
        """The secret's text. Only for code that must hand it over (e.g. to an SDK)."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return format(MASK, spec)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    __hash__ = None  # type: ignore[assignment]  # no hash: not usable as a key by accident

    def __reduce__(self) -> NoReturn:
        raise TypeError("a Secret cannot be pickled")


def mask(api_key: str) -> str:
    """An API key as it may be shown: first and last 4 characters of a long key, else `***`."""
    return f"{api_key[:4]}…{api_key[-4:]}" if len(api_key) >= 16 else MASK


class Credentials:
    __slots__ = ("api_key", "secret", "passphrase")

    def __init__(self, api_key: str, secret: str | Secret,
                 passphrase: str | Secret | None = None) -> None:
        if not isinstance(api_key, str) or not api_key:
            raise CredentialsError("an API key must be a non-empty string")
        self.api_key = api_key
        self.secret = secret if isinstance(secret, Secret) else Secret(secret)
        self.passphrase = (passphrase if isinstance(passphrase, Secret) or passphrase is None
                           else Secret(passphrase))

    def hmac_sha256_hex(self, payload: str) -> str:
        """Lowercase hex HMAC-SHA256 of the UTF-8 `payload` under the secret."""
        return hmac.new(self.secret.reveal().encode(), payload.encode(), hashlib.sha256).hexdigest()

    def hmac_sha256_base64(self, payload: str) -> str:
        """Base64 of the HMAC-SHA256 of the UTF-8 `payload` under the secret (Bitget, OKX)."""
        digest = hmac.new(self.secret.reveal().encode(), payload.encode(), hashlib.sha256).digest()
        return base64.b64encode(digest).decode()

    def hmac_sha512_hex(self, payload: str) -> str:
        """Lowercase hex HMAC-SHA512 of the UTF-8 `payload` under the secret (Gate.io)."""
        return hmac.new(self.secret.reveal().encode(), payload.encode(), hashlib.sha512).hexdigest()

    def matches_sha512(self, payload: str, signature: str) -> bool:
        """Is `signature` (hex, any case) the HMAC-SHA512 of `payload`? Constant-time."""
        return hmac.compare_digest(self.hmac_sha512_hex(payload), signature.lower())

    def matches(self, payload: str, signature: str) -> bool:
        """Is `signature` (hex, any case) the HMAC of `payload`? Constant-time comparison."""
        return hmac.compare_digest(self.hmac_sha256_hex(payload), signature.lower())

    def matches_base64(self, payload: str, signature: str) -> bool:
        """Is `signature` the base64 HMAC of `payload`? Constant-time comparison."""
        return hmac.compare_digest(self.hmac_sha256_base64(payload).encode(),
                                   signature.encode())

    def hmac_sha512_base64_b64key(self, message: bytes) -> str:
        """Base64 of the HMAC-SHA512 of `message` under the base64-*decoded* secret (Kraken:
        its private keys are base64). A secret that is not base64 is a CredentialsError that
        names no part of it."""
        try:
            key = base64.b64decode(self.secret.reveal(), validate=True)
        except ValueError:  # binascii.Error is a ValueError
            key = b""
        if not key:
            raise CredentialsError("the API secret is not base64 (this exchange issues base64 "
                                   "private keys): check the credentials") from None
        return base64.b64encode(hmac.new(key, message, hashlib.sha512).digest()).decode()

    def matches_sha512_base64_b64key(self, message: bytes, signature: str) -> bool:
        """Is `signature` that HMAC of `message`? Constant-time comparison."""
        return hmac.compare_digest(self.hmac_sha512_base64_b64key(message).encode(),
                                   signature.encode())

    def passphrase_matches(self, passphrase: str) -> bool:
        """Is this the account's passphrase? Constant-time; False when there is none."""
        if self.passphrase is None:
            return False
        return hmac.compare_digest(self.passphrase.reveal().encode(), passphrase.encode())

    def require_passphrase(self, exchange: str) -> Secret:
        """The passphrase an exchange's signing needs; a CredentialsError naming it if absent."""
        if self.passphrase is None:
            raise CredentialsError(f"{exchange} needs an API passphrase: set <PREFIX>_API_"
                                   "PASSPHRASE or api_passphrase in the secrets file")
        return self.passphrase

    def __repr__(self) -> str:
        return f"Credentials(api_key={mask(self.api_key)!r}, secret={MASK!r})"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Credentials):
            return NotImplemented
        return (self.api_key == other.api_key and self.secret == other.secret
                and self.passphrase == other.passphrase)

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> NoReturn:
        raise TypeError("Credentials cannot be pickled")

    # ------------------------------------------------------------------ loading

    @classmethod
    def from_env(cls, prefix: str, environ: Mapping[str, str] | None = None) -> Credentials:
        env = os.environ if environ is None else environ
        key_var, secret_var = f"{prefix}_API_KEY", f"{prefix}_API_SECRET"
        key, secret = env.get(key_var, ""), env.get(secret_var, "")
        if not key or not secret:
            missing = [v for v, value in ((key_var, key), (secret_var, secret)) if not value]
            raise CredentialsError(f"environment variable {' and '.join(missing)} not set")
        return cls(key, secret, env.get(f"{prefix}_API_PASSPHRASE") or None)

    @classmethod
    def from_file(cls, path: str | Path, name: str) -> Credentials:
        entries = _read_secrets_file(Path(path))
        entry = entries.get(name)
        if entry is None:
            names = ", ".join(sorted(str(n) for n in entries)) or "none"
            raise CredentialsError(f"secrets file {path} has no entry {name!r} (entries: {names})")
        if not isinstance(entry, Mapping):
            raise CredentialsError(f"secrets file {path}: entry {name!r} must be a mapping "
                                   "with api_key and api_secret")
        key, secret = entry.get("api_key"), entry.get("api_secret")
        for field, value in (("api_key", key), ("api_secret", secret)):
            if not isinstance(value, str) or not value:
                raise CredentialsError(
                    f"secrets file {path}: entry {name!r} needs a non-empty string {field}")
        assert isinstance(key, str) and isinstance(secret, str)
        passphrase = entry.get("api_passphrase")
        if passphrase is not None and (not isinstance(passphrase, str) or not passphrase):
            raise CredentialsError(
                f"secrets file {path}: entry {name!r} needs a non-empty string api_passphrase")
        return cls(key, secret, passphrase)


def env_prefix(name: str) -> str:
    """The default environment prefix of a credentials name: TTXT_<NAME>."""
    return "TTXT_" + re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def load_credentials(name: str, *, secrets_file: str | Path | None = None,
                     prefix: str | None = None,
                     environ: Mapping[str, str] | None = None) -> Credentials:
    """Credentials `name` from the environment if both variables are set, else from the file."""
    env = os.environ if environ is None else environ
    prefix = prefix or env_prefix(name)
    if env.get(f"{prefix}_API_KEY") and env.get(f"{prefix}_API_SECRET"):
        return Credentials.from_env(prefix, env)
    if secrets_file is not None:
        return Credentials.from_file(secrets_file, name)
    raise CredentialsError(f"no credentials {name!r}: set {prefix}_API_KEY and "
                           f"{prefix}_API_SECRET, or name a secrets file in the config")


def _read_secrets_file(path: Path) -> Mapping[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
        mode = path.stat().st_mode
    except OSError as exc:
        raise CredentialsError(f"cannot read secrets file {path}: {exc.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("secrets file %s is accessible to group/others (mode %o); chmod 600 it",
                    path, stat.S_IMODE(mode))
    data, problem = _parse(text, path.suffix == ".json")
    if problem is not None:
        # raised here, outside the parser's except block, so the parser's exception (whose
        # message quotes the document, maybe the secret itself) is not even its __context__
        raise CredentialsError(f"secrets file {path} is not valid {problem}")
    if not isinstance(data, Mapping):
        raise CredentialsError(f"secrets file {path} must hold a mapping of names to credentials")
    return data


def _parse(text: str, is_json: bool) -> tuple[Any, str | None]:
    """(document, None), or (None, "JSON (line n)") naming where it failed and nothing else."""
    try:
        return (json.loads(text) if is_json else yaml.safe_load(text)), None
    except json.JSONDecodeError as exc:
        return None, f"JSON (line {exc.lineno})"
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return None, "YAML" + (f" (line {mark.line + 1})" if mark is not None else "")
