"""How records are framed on Kafka: the process-wide serialization setting.

    single-object   (default) Avro single-object encoding: `C3 01` + the writer schema's 8-byte
                    fingerprint + the Avro body. Needs no registry: `schemas/` says it all.
    confluent       the Confluent wire format: `00` + the 4-byte big-endian schema id the schema
                    registry gave the writer schema + the Avro body, which Kafka Connect's
                    AvroConverter, ksqlDB, Flink's avro-confluent and confluent-kafka read.

Consumers read both framings whatever the setting (the first byte tells them apart); a
Confluent-framed record needs the registry to resolve its schema id.

Settings come from the environment, so containers and `ttxt` commands need no flags, from a
pipeline or `ttxt connect` file (`kafka.serialization`, over the environment), or from
`ttxt --serialization ... --schema-registry ...` (over both); the last two call `configure()`:

    TTXT_SERIALIZATION                  single-object | confluent
    TTXT_SCHEMA_REGISTRY_URL            e.g. http://127.0.0.1:8081/apis/ccompat/v7
                                        (`ttxt registry start` prints the local one)
    TTXT_SCHEMA_REGISTRY_USERNAME, TTXT_SCHEMA_REGISTRY_PASSWORD   HTTP basic auth
    TTXT_SCHEMA_REGISTRY_CAFILE, _CERTFILE, _KEYFILE   PEM files for https (CA, client cert)
    TTXT_SUBJECT_NAME_STRATEGY          topic (default: `<topic>-value`, Confluent's
                                        TopicNameStrategy) | record (`<record full name>`) |
                                        topic-record (`<topic>-<record full name>`)
    TTXT_SCHEMA_AUTO_REGISTER           true (default: producers register their schema) |
                                        false (they only look it up: a schema not registered
                                        beforehand is an error)

The password is never logged nor put in an error message.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from typing import Any

SINGLE_OBJECT = "single-object"
CONFLUENT = "confluent"
FORMATS = (SINGLE_OBJECT, CONFLUENT)
STRATEGIES = ("topic", "record", "topic-record")

_ENV = {
    "format": "TTXT_SERIALIZATION",
    "registry_url": "TTXT_SCHEMA_REGISTRY_URL",
    "username": "TTXT_SCHEMA_REGISTRY_USERNAME",
    "password": "TTXT_SCHEMA_REGISTRY_PASSWORD",
    "ca_file": "TTXT_SCHEMA_REGISTRY_CAFILE",
    "cert_file": "TTXT_SCHEMA_REGISTRY_CERTFILE",
    "key_file": "TTXT_SCHEMA_REGISTRY_KEYFILE",
    "subject_strategy": "TTXT_SUBJECT_NAME_STRATEGY",
    "auto_register": "TTXT_SCHEMA_AUTO_REGISTER",
}


class SerializationError(ValueError):
    """A serialization setting that cannot work (unknown format, confluent without a URL)."""


class MissingRegistryError(SerializationError):
    """The confluent format with no registry URL anywhere."""


@dataclass(frozen=True)
class Serialization:
    format: str = SINGLE_OBJECT
    registry_url: str | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    subject_strategy: str = "topic"
    auto_register: bool = True

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise SerializationError(
                f"unknown serialization {self.format!r}: use one of {', '.join(FORMATS)}")
        if self.subject_strategy not in STRATEGIES:
            raise SerializationError(f"unknown subject name strategy {self.subject_strategy!r}: "
                                     f"use one of {', '.join(STRATEGIES)}")
        if self.format == CONFLUENT and not self.registry_url:
            raise MissingRegistryError(
                "the confluent serialization needs a schema registry: set "
                "TTXT_SCHEMA_REGISTRY_URL (or --schema-registry, or a config file's "
                "kafka.serialization.schema_registry_url; `ttxt registry start` runs one)")
        if self.registry_url:
            object.__setattr__(self, "registry_url", self.registry_url.rstrip("/"))

    @property
    def confluent(self) -> bool:
        return self.format == CONFLUENT

    def describe(self) -> str:
        """A log line's worth, the password masked."""
        if not self.confluent:
            return SINGLE_OBJECT
        auth = f", user {self.username}" if self.username else ""
        return (f"confluent via {self.registry_url} (subjects: {self.subject_strategy} "
                f"strategy{auth}{'' if self.auto_register else ', lookup only'})")


_overrides: dict[str, Any] = {}  # a config file's values (`configure()`): over the environment
_command_line: dict[str, Any] = {}  # --serialization / --schema-registry: over everything
# Bumped by configure() and reset(): codecs keep what they built from the settings (a registry
# client and its caches) until it changes. The environment is read when that happens.
generation = 0


def _truthy(text: str) -> bool:
    return text.strip().lower() not in ("0", "false", "no", "off")


def from_env() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, env in _ENV.items():
        value = os.environ.get(env, "").strip()
        if value:
            found[key] = _truthy(value) if key == "auto_register" else value
    return found


def settings() -> Serialization:
    """The setting in force: the command line's values over `configure()`'s (a config file's)
    over the environment's over the defaults."""
    return Serialization(**{**from_env(), **_overrides, **_command_line})


def configure(*, command_line: bool = False, **values: Any) -> Serialization:
    """Process-wide values that win over the environment (None leaves one alone); checked.
    `command_line=True` (the `ttxt` flags) also wins over what a config file configures later."""
    result = _configure(values, command_line=command_line, complete=True)
    assert result is not None
    return result


def configure_command_line(*, complete: bool = True, **values: Any) -> None:
    """The `ttxt` flags' values. `complete=False`: the registry URL may still come from a
    config file (`ttxt connect`, `ttxt run`), so its absence is no error yet (the file's
    `configure()` checks the whole)."""
    _configure(values, command_line=True, complete=complete)


def _configure(values: dict[str, Any], *, command_line: bool,
               complete: bool) -> Serialization | None:
    fields = {f.name for f in dataclasses.fields(Serialization)}
    unknown = set(values) - fields
    if unknown:
        raise SerializationError(f"unknown serialization setting(s): {', '.join(sorted(unknown))}")
    layer = _command_line if command_line else _overrides
    candidate = {**layer, **{k: v for k, v in values.items() if v is not None}}
    files, flags = (_overrides, candidate) if command_line else (candidate, _command_line)
    result: Serialization | None
    try:
        result = Serialization(**{**from_env(), **files, **flags})  # raises before any change
    except MissingRegistryError:
        if complete:
            raise
        result = None
    global generation
    layer.clear()
    layer.update(candidate)
    generation += 1
    return result


def command_line_args() -> list[str]:
    """The `ttxt` flags that set the command-line values, for the processes a command starts
    (`ttxt run --processes`): there, too, they win over the pipeline file."""
    flags = {"format": "--serialization", "registry_url": "--schema-registry"}
    return [arg for key, flag in flags.items() if key in _command_line
            for arg in (flag, str(_command_line[key]))]


def reset() -> None:
    """Back to the environment's settings (read again by the next codec that needs them)."""
    global generation
    _overrides.clear()
    _command_line.clear()
    generation += 1


__all__ = ["CONFLUENT", "FORMATS", "SINGLE_OBJECT", "STRATEGIES", "MissingRegistryError",
           "Serialization", "SerializationError", "command_line_args", "configure",
           "configure_command_line", "reset", "settings"]
