"""Cluster settings every Kafka client shares: security from the environment or a pipeline,
secrets masked, and the partitions / replication factor of the topics ttxt creates."""

from __future__ import annotations

import ssl
import uuid
from collections.abc import Iterator

import pytest
from aiokafka import AIOKafkaConsumer

from ttxt_kafka import cluster
from ttxt_kafka.admin import cluster_metadata, ensure_topics
from ttxt_kafka.pipeline.config import parse_pipeline
from ttxt_kafka.pipeline.runner import configure_cluster


@pytest.fixture(autouse=True)
def clean(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("KAFKA_SECURITY_PROTOCOL", "KAFKA_SASL_MECHANISM", "KAFKA_SASL_USERNAME",
                 "KAFKA_SASL_PASSWORD", "KAFKA_SSL_CAFILE", "TTXT_TOPIC_PARTITIONS",
                 "TTXT_TOPIC_REPLICATION"):
        monkeypatch.delenv(name, raising=False)
    cluster.reset()
    yield
    cluster.reset()


def test_plaintext_by_default_adds_nothing() -> None:
    assert cluster.client_options() == {}
    assert cluster.topic_defaults() == (3, 1)


async def test_sasl_ssl_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
    monkeypatch.setenv("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
    monkeypatch.setenv("KAFKA_SASL_USERNAME", "ttxt")
    monkeypatch.setenv("KAFKA_SASL_PASSWORD", "s3cret")
    monkeypatch.setenv("TTXT_TOPIC_PARTITIONS", "6")
    monkeypatch.setenv("TTXT_TOPIC_REPLICATION", "3")
    opts = cluster.client_options()
    assert opts["security_protocol"] == "SASL_SSL"
    assert opts["sasl_mechanism"] == "SCRAM-SHA-512"
    assert opts["sasl_plain_username"] == "ttxt" and opts["sasl_plain_password"] == "s3cret"
    assert isinstance(opts["ssl_context"], ssl.SSLContext)
    assert cluster.topic_defaults() == (6, 3)
    assert "s3cret" not in cluster.describe() and "sasl_plain_password=***" in cluster.describe()
    # aiokafka takes them as they are (an unknown or ill-typed one raises here)
    await AIOKafkaConsumer(bootstrap_servers="127.0.0.1:1", **opts).stop()


def test_a_pipeline_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SSL")
    pipeline = parse_pipeline({
        "kafka": {"security": {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "PLAIN",
                               "sasl_plain_username": "u", "sasl_plain_password": "p"},
                  "topics": {"partitions": 2, "replication_factor": 1}},
        "recorder": {"out": "d"}})
    configure_cluster(pipeline)
    opts = cluster.client_options()
    assert opts["security_protocol"] == "SASL_PLAINTEXT" and "ssl_context" not in opts
    assert cluster.topic_defaults() == (2, 1)


@pytest.mark.kafka
async def test_topics_are_created_with_the_configured_partitions(kafka_bootstrap: str) -> None:
    cluster.configure(partitions=2)
    name = f"cl{uuid.uuid4().hex[:8]}.binance.book"
    assert await ensure_topics(kafka_bootstrap, [name]) == [name]
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap)
    await consumer.start()
    try:
        metadata = await cluster_metadata(consumer)
        assert metadata.partitions_for_topic(name) == {0, 1}
    finally:
        await consumer.stop()
