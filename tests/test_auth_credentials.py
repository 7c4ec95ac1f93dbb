"""Credentials never show their secret: repr, str, format, logs, errors, pickling, JSON."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import pickle
from pathlib import Path

import pytest

from ttxt_kafka.credentials import (
    Credentials,
    CredentialsError,
    Secret,
    env_prefix,
    load_credentials,
    mask,
)

KEY = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
SECRET = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"


def test_repr_str_and_format_hide_the_secret_and_mask_the_key() -> None:
    creds = Credentials(KEY, SECRET)
    for text in (repr(creds), str(creds), f"{creds}", f"{creds!r}", repr(creds.secret),
                 str(creds.secret), f"{creds.secret}", f"{creds.secret:>10}", repr([creds])):
        assert SECRET not in text
        assert KEY not in text
    assert repr(creds) == "Credentials(api_key='vmPU…Eh8A', secret='***')"
    assert mask("short") == "***"
    assert creds.secret.reveal() == SECRET


def test_logging_and_exceptions_do_not_leak(caplog: pytest.LogCaptureFixture) -> None:
    creds = Credentials(KEY, SECRET)
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("t").info("using %s / %r", creds, creds.secret)
        try:
            raise RuntimeError(f"failed with {creds}")
        except RuntimeError:
            logging.getLogger("t").exception("boom")
    assert SECRET not in caplog.text and KEY not in caplog.text


def test_cannot_be_pickled_or_json_encoded() -> None:
    creds = Credentials(KEY, SECRET)
    for value in (creds, creds.secret):
        with pytest.raises(TypeError) as err:
            pickle.dumps(value)
        assert SECRET not in str(err.value)
    with pytest.raises(TypeError) as err:
        json.dumps({"secret": creds.secret})
    assert SECRET not in str(err.value)
    assert not dataclasses.is_dataclass(creds)


def test_equality_without_exposure() -> None:
    assert Credentials("k", "s") == Credentials("k", "s")
    assert Credentials("k", "s") != Credentials("k", "t")
    assert Secret("s") == Secret("s")
    with pytest.raises(TypeError):
        hash(Secret("s"))
    with pytest.raises(CredentialsError):
        Secret("")
    with pytest.raises(CredentialsError):
        Credentials("", "s")


def test_from_env_and_the_default_prefix() -> None:
    env = {"TTXT_BINANCE_USDM_API_KEY": KEY, "TTXT_BINANCE_USDM_API_SECRET": SECRET}
    assert env_prefix("binance_usdm") == "TTXT_BINANCE_USDM"
    creds = load_credentials("binance_usdm", environ=env)
    assert creds.api_key == KEY and creds.secret.reveal() == SECRET
    with pytest.raises(CredentialsError) as err:
        load_credentials("bybit_spot", environ=env)
    assert "TTXT_BYBIT_SPOT_API_KEY" in str(err.value)
    with pytest.raises(CredentialsError) as err:
        Credentials.from_env("X", {"X_API_KEY": KEY})
    assert str(err.value) == "environment variable X_API_SECRET not set"


def secrets_file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    os.chmod(path, 0o600)
    return path


def test_from_yaml_and_json_files(tmp_path: Path) -> None:
    text = f"bybit_spot:\n  api_key: {KEY}\n  api_secret: {SECRET}\n"
    yml = secrets_file(tmp_path, "s.yaml", text)
    creds = load_credentials("bybit_spot", secrets_file=yml, environ={})
    assert creds.api_key == KEY and creds.secret.reveal() == SECRET
    js = secrets_file(tmp_path, "s.json", json.dumps({"binance": {"api_key": KEY,
                                                                   "api_secret": SECRET}}))
    assert load_credentials("binance", secrets_file=js, environ={}).api_key == KEY
    # the environment wins over the file
    env = {"TTXT_BINANCE_API_KEY": "env-key", "TTXT_BINANCE_API_SECRET": "env-secret"}
    assert load_credentials("binance", secrets_file=js, environ=env).api_key == "env-key"


@pytest.mark.parametrize(("name", "text", "expected"), [
    ("s.yaml", f"binance:\n  api_key: {KEY}\n", "needs a non-empty string api_secret"),
    ("s.yaml", f"other:\n  api_key: {KEY}\n  api_secret: {SECRET}\n",
     "has no entry 'binance' (entries: other)"),
    ("s.yaml", f"binance: [{SECRET}]\n", "must be a mapping"),
    ("s.yaml", f"binance:\n  api_key: {KEY}\n  api_secret: '{SECRET}\n", "is not valid YAML"),
    ("s.json", f'{{"binance": {{"api_key": "{KEY}", "api_secret": {SECRET}}}}}',
     "is not valid JSON (line 1)"),
    ("s.yaml", f"{SECRET}\n", "must hold a mapping"),
])
def test_file_errors_name_the_problem_never_the_values(tmp_path: Path, name: str, text: str,
                                                       expected: str) -> None:
    path = secrets_file(tmp_path, name, text)
    with pytest.raises(CredentialsError) as err:
        load_credentials("binance", secrets_file=path, environ={})
    message = str(err.value)
    assert expected in message and str(path) in message
    assert SECRET not in message and KEY not in message
    # nothing chained either: the parser's message quotes the document
    assert err.value.__cause__ is None and err.value.__context__ is None


def test_missing_file_and_loose_permissions(tmp_path: Path,
                                            caplog: pytest.LogCaptureFixture) -> None:
    with pytest.raises(CredentialsError, match="cannot read secrets file"):
        load_credentials("binance", secrets_file=tmp_path / "none.yaml", environ={})
    path = secrets_file(tmp_path, "s.yaml", f"binance: {{api_key: {KEY}, api_secret: {SECRET}}}\n")
    os.chmod(path, 0o644)
    with caplog.at_level(logging.WARNING):
        load_credentials("binance", secrets_file=path, environ={})
    assert "chmod 600" in caplog.text and SECRET not in caplog.text


PASSPHRASE = "PassphraseNotShown" + "p4" * 10


def test_the_passphrase_is_a_third_credential_that_never_shows(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Bitget (and OKX, KuCoin) issue a passphrase: loaded from the environment or the file,
    held as a Secret, never in repr, logs or errors, compared in constant time."""
    env = {"TTXT_BITGET_USDTM_API_KEY": KEY, "TTXT_BITGET_USDTM_API_SECRET": SECRET,
           "TTXT_BITGET_USDTM_API_PASSPHRASE": PASSPHRASE}
    creds = load_credentials("bitget_usdtm", environ=env)
    assert creds.passphrase is not None and creds.passphrase.reveal() == PASSPHRASE
    assert creds.passphrase_matches(PASSPHRASE) and not creds.passphrase_matches("nope")
    path = secrets_file(tmp_path, "s.yaml", f"bitget_spot:\n  api_key: {KEY}\n  api_secret: "
                                            f"{SECRET}\n  api_passphrase: {PASSPHRASE}\n")
    from_file = load_credentials("bitget_spot", secrets_file=path, environ={})
    assert from_file == creds and from_file != Credentials(KEY, SECRET)
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("t").info("using %s %r", creds, creds.passphrase)
    for text in (repr(creds), str(creds), f"{creds.passphrase}", caplog.text):
        assert PASSPHRASE not in text
    with pytest.raises(TypeError):
        pickle.dumps(creds.passphrase)
    bad = secrets_file(tmp_path, "b.yaml", f"x:\n  api_key: {KEY}\n  api_secret: {SECRET}\n"
                                           "  api_passphrase: ''\n")
    with pytest.raises(CredentialsError, match="api_passphrase") as err:
        load_credentials("x", secrets_file=bad, environ={})
    assert PASSPHRASE not in str(err.value)
    without = Credentials(KEY, SECRET)
    assert without.passphrase is None and not without.passphrase_matches("")
    with pytest.raises(CredentialsError, match="Bitget needs an API passphrase") as err:
        without.require_passphrase("Bitget")


def test_gateio_needs_no_passphrase_and_signs_with_sha512(caplog: pytest.LogCaptureFixture
                                                          ) -> None:
    """Gate.io: key and secret only (no passphrase asked for), HMAC-SHA512 in hex (its vector
    G1's key and secret: `key` / `secret`), compared in constant time, any hex case."""
    import hashlib
    import hmac

    env = {"TTXT_GATEIO_SPOT_API_KEY": KEY, "TTXT_GATEIO_SPOT_API_SECRET": SECRET}
    creds = load_credentials("gateio_spot", environ=env)
    assert creds.passphrase is None and creds.api_key == KEY
    payload = "channel=spot.orders&event=subscribe&time=1700000000"
    expected = hmac.new(SECRET.encode(), payload.encode(), hashlib.sha512).hexdigest()
    assert creds.hmac_sha512_hex(payload) == expected and len(expected) == 128
    assert creds.matches_sha512(payload, expected.upper())
    assert not creds.matches_sha512(payload, expected[:-1] + "0")
    assert not creds.matches_sha512(payload, creds.hmac_sha256_hex(payload))
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("t").info("gate %s %r", creds, creds.secret)
    assert SECRET not in caplog.text and SECRET not in repr(creds)
