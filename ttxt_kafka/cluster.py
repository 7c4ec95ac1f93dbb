"""What every Kafka client of a process shares on a given cluster: security and topic defaults.

A deployment beside an existing cluster needs the same settings in every producer, consumer and
admin client of every service. They come from the environment, so containers and `ttxt`
commands need no flags, or from a pipeline file (`kafka.security`, `kafka.topics`), which calls
`configure()` before any service starts:

    KAFKA_BOOTSTRAP_SERVERS     broker list (see local_kafka.bootstrap_from_env)
    KAFKA_SECURITY_PROTOCOL     PLAINTEXT | SSL | SASL_PLAINTEXT | SASL_SSL
    KAFKA_SASL_MECHANISM        PLAIN | SCRAM-SHA-256 | SCRAM-SHA-512 | ...
    KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD
    KAFKA_SSL_CAFILE, KAFKA_SSL_CERTFILE, KAFKA_SSL_KEYFILE   PEM files
    TTXT_TOPIC_PARTITIONS       partitions of the topics ttxt creates (default 3)
    TTXT_TOPIC_REPLICATION      their replication factor (default 1)

`client_options()` gives the keyword arguments to add to an aiokafka client. Secrets are never
logged: `describe()` masks the password.
"""

from __future__ import annotations

import os
from typing import Any

_ENV = {
    "security_protocol": "KAFKA_SECURITY_PROTOCOL",
    "sasl_mechanism": "KAFKA_SASL_MECHANISM",
    "sasl_plain_username": "KAFKA_SASL_USERNAME",
    "sasl_plain_password": "KAFKA_SASL_PASSWORD",
    "ssl_cafile": "KAFKA_SSL_CAFILE",
    "ssl_certfile": "KAFKA_SSL_CERTFILE",
    "ssl_keyfile": "KAFKA_SSL_KEYFILE",
}
_SSL_FILES = ("ssl_cafile", "ssl_certfile", "ssl_keyfile")

_overrides: dict[str, Any] = {}  # set by configure(): a pipeline file's settings


def configure(security: dict[str, Any] | None = None, partitions: int | None = None,
              replication: int | None = None) -> None:
    """Process-wide settings that win over the environment (None leaves a setting alone)."""
    if security is not None:
        _overrides["security"] = {k: v for k, v in security.items() if v is not None}
    if partitions is not None:
        _overrides["partitions"] = partitions
    if replication is not None:
        _overrides["replication"] = replication


def reset() -> None:
    _overrides.clear()


def security_settings() -> dict[str, Any]:
    """The security settings in force (aiokafka names; SSL as file paths)."""
    if "security" in _overrides:
        return dict(_overrides["security"])
    return {key: os.environ[env] for key, env in _ENV.items() if os.environ.get(env)}


def client_options() -> dict[str, Any]:
    """Keyword arguments for AIOKafkaProducer / AIOKafkaConsumer / AIOKafkaAdminClient."""
    settings = security_settings()
    files = {k: settings.pop(k) for k in _SSL_FILES if k in settings}
    protocol = settings.get("security_protocol", "PLAINTEXT")
    if files or protocol in ("SSL", "SASL_SSL"):
        from aiokafka.helpers import create_ssl_context

        settings["ssl_context"] = create_ssl_context(
            cafile=files.get("ssl_cafile"), certfile=files.get("ssl_certfile"),
            keyfile=files.get("ssl_keyfile"))
    if settings.get("security_protocol") == "PLAINTEXT":
        del settings["security_protocol"]  # aiokafka's default: keep the kwargs minimal
    return settings


def topic_defaults() -> tuple[int, int]:
    """(partitions, replication factor) for topics ttxt creates."""
    partitions = _overrides.get("partitions") or int(os.environ.get("TTXT_TOPIC_PARTITIONS") or 3)
    replication = (_overrides.get("replication")
                   or int(os.environ.get("TTXT_TOPIC_REPLICATION") or 1))
    return partitions, replication


def replication_configured() -> bool:
    """True when the replication factor of new topics is set (pipeline file or environment);
    otherwise `admin.ensure_topics` takes min(3, the cluster's brokers)."""
    return bool(_overrides.get("replication") or os.environ.get("TTXT_TOPIC_REPLICATION"))


def describe() -> str:
    """A log line's worth, secrets masked."""
    s = security_settings()
    if "sasl_plain_password" in s:
        s["sasl_plain_password"] = "***"
    partitions, replication = topic_defaults()
    parts = [f"{k}={v}" for k, v in sorted(s.items())]
    return ", ".join([*parts, f"new topics: {partitions} partitions x{replication}"])


__all__ = ["client_options", "configure", "describe", "replication_configured", "reset",
           "security_settings", "topic_defaults"]
