"""Where Kafka is: one answer for the CLI, the examples and user code.

`bootstrap_servers()` returns, in this order: the address given (`--bootstrap`), the
`KAFKA_BOOTSTRAP_SERVERS` environment variable, or the broker `ttxt kafka start` runs (it
picks a free port, so never hard-code `127.0.0.1:9092`)."""

from __future__ import annotations


class NoBrokerError(RuntimeError):
    """No bootstrap address given, none in the environment, and no local broker running."""


def bootstrap_servers(explicit: str | None = None) -> str:
    """The Kafka bootstrap address: `explicit`, else KAFKA_BOOTSTRAP_SERVERS, else the running
    local broker (`ttxt kafka start`). Raises NoBrokerError with what to do otherwise."""
    from .local_kafka import LocalKafka, bootstrap_from_env

    if explicit:
        return explicit
    env = bootstrap_from_env()
    if env:
        return env
    local = LocalKafka().status()
    if local:
        return local
    raise NoBrokerError(
        "no Kafka broker: start one with `ttxt kafka start`, or set KAFKA_BOOTSTRAP_SERVERS "
        "(or pass --bootstrap)")
