"""Shared pytest fixtures. Tests run against a real Kafka broker, never a fake."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ttxt_kafka import testing
from ttxt_kafka.local_kafka import KafkaSetupError


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """Bootstrap address of a real broker: KAFKA_BOOTSTRAP_SERVERS, else a local one started
    once for the session (and stopped at its end)."""
    try:
        bootstrap = testing.kafka_bootstrap_for_tests()
    except KafkaSetupError as exc:
        # A failure, not a skip: these tests mean nothing without a real broker.
        pytest.fail(f"no Kafka broker for the tests: {exc}", pytrace=False)
    yield bootstrap
    testing.stop()


@pytest.fixture(scope="session")
def schema_registry_url() -> Iterator[str]:
    """The Confluent-compatible URL of a real schema registry (Apicurio): TTXT_SCHEMA_REGISTRY_URL,
    else a local one started once for the session (its start stays out of the tests)."""
    try:
        url = testing.schema_registry_for_tests()
    except KafkaSetupError as exc:
        pytest.fail(f"no schema registry for the tests: {exc}", pytrace=False)
    yield url
    testing.stop_registry()
