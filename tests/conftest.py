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
