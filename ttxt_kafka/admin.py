"""Small Kafka administration helpers: create topics, count their records, read a topic back."""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator, Iterable
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.cluster import ClusterMetadata
from aiokafka.errors import TopicAlreadyExistsError

from .cluster import client_options, replication_configured, topic_defaults

DEFAULT_PARTITIONS = 3  # unless TTXT_TOPIC_PARTITIONS or a pipeline's kafka.topics says otherwise


async def ensure_topics(
    bootstrap: str,
    names: Iterable[str],
    partitions: int | None = None,
    replication: int | None = None,
    configs: dict[str, str] | None = None,
) -> list[str]:
    """Create the topics that do not exist yet (partitions and replication factor: the
    cluster settings, see `ttxt_kafka.cluster`; without a configured replication factor,
    min(3, brokers in the cluster): 1 on a single broker, 3 on `ttxt kafka start --nodes 3`);
    returns the ones created."""
    default_partitions, default_replication = topic_defaults()
    partitions = partitions or default_partitions
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **client_options())
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in dict.fromkeys(names) if n not in existing]
        if missing and not replication:
            replication = default_replication
            if not replication_configured():
                brokers = (await admin.describe_cluster()).get("brokers") or []
                replication = max(1, min(3, len(brokers)))
        if missing:
            # Created concurrently by someone else: fine.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(
                    [NewTopic(n, partitions, replication, topic_configs=configs or {})
                     for n in missing]
                )
        return missing
    finally:
        await admin.close()


async def list_topics(bootstrap: str, pattern: str | None = None,
                      internal: bool = False) -> list[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **client_options())
    await admin.start()
    try:
        names = await admin.list_topics()
    finally:
        await admin.close()
    rx = re.compile(pattern) if pattern else None
    return sorted(
        n for n in names
        if (internal or not n.startswith("__")) and (rx is None or rx.search(n))
    )


async def record_counts(bootstrap: str, topics: Iterable[str]) -> dict[str, int]:
    """Records currently held per topic (end offset - beginning offset, over its partitions)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                **client_options())
    await start_or_close(consumer)
    try:
        metadata = await cluster_metadata(consumer)
        partitions = [
            TopicPartition(name, p)
            for name in topics
            for p in sorted(metadata.partitions_for_topic(name) or ())
        ]
        begin = await consumer.beginning_offsets(partitions)
        end = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
    counts: dict[str, int] = {}
    for tp in partitions:
        counts[tp.topic] = counts.get(tp.topic, 0) + end[tp] - begin[tp]
    return counts


async def start_or_close(consumer: AIOKafkaConsumer) -> None:
    """Start a consumer; if that fails (the broker away), close it before raising: one left
    half-started warns "Unclosed AIOKafkaConsumer" when freed, after the command's error."""
    try:
        await consumer.start()
    except BaseException:
        await consumer.stop()
        raise


async def cluster_metadata(client: AIOKafkaConsumer) -> ClusterMetadata:
    """The metadata of every topic on the cluster, fetched now: `.topics()` and
    `.partitions_for_topic(name)` answer for any topic.

    Not the consumer's own `partitions_for_topic`, which knows the topics its client has
    metadata for: aiokafka up to 0.12 fetched every topic's when a consumer started, 0.13+
    fetches none until the consumer is assigned or subscribed (it says None). This is what
    `consumer.topics()` fetches, kept (aiokafka returns only the names)."""
    metadata: ClusterMetadata = await client._client.fetch_all_metadata()
    return metadata


async def delete_groups(bootstrap: str, names: Iterable[str]) -> dict[str, str | None]:
    """Delete consumer groups (Kafka's DeleteGroups, which aiokafka has no call for): group ->
    None when deleted, else the broker's error (a group with members is not deleted)."""
    from aiokafka.errors import for_code
    from aiokafka.protocol import admin as protocol

    out: dict[str, str | None] = {}
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **client_options())
    await admin.start()
    try:
        for name in names:
            request: Any
            if hasattr(protocol.DeleteGroupsRequest, "prepare"):  # aiokafka 0.13+
                request = protocol.DeleteGroupsRequest([name])
            else:  # up to 0.12: a class per version
                request = protocol.DeleteGroupsRequest[1](groups_names=[name])
            response = await admin._send_request(request, await admin.find_coordinator(name))
            for group, code in response.results:
                out[group] = None if code == 0 else for_code(code).__name__
    finally:
        await admin.close()
    return out


class TopicNotFound(LookupError):
    """The topic does not exist on the cluster."""


async def records_since(bootstrap: str, name: str, since_ms: int
                        ) -> AsyncIterator[ConsumerRecord[bytes, bytes]]:
    """Every record of topic `name` with a timestamp at or after `since_ms`, up to the end the
    topic has when the call starts: partition by partition as fetched, not in time order. No
    consumer group, nothing committed. Raises `TopicNotFound` when the topic does not exist."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False,
                                **client_options())
    await start_or_close(consumer)
    try:
        metadata = await cluster_metadata(consumer)
        partitions = metadata.partitions_for_topic(name)
        if not partitions:
            raise TopicNotFound(name)
        tps = [TopicPartition(name, p) for p in sorted(partitions)]
        consumer.assign(tps)
        starts = await consumer.offsets_for_times({tp: since_ms for tp in tps})
        ends = await consumer.end_offsets(tps)
        remaining: dict[TopicPartition, int] = {}  # partition -> the end offset to read up to
        for tp in tps:
            start = starts[tp].offset if starts.get(tp) is not None else ends[tp]
            if start < ends[tp]:
                consumer.seek(tp, start)
                remaining[tp] = ends[tp]
        while remaining:
            batches = await consumer.getmany(*remaining, timeout_ms=500)
            for tp, records in batches.items():
                end = remaining.get(tp, 0)
                for r in records:
                    if r.offset < end:
                        yield r
                if records and records[-1].offset + 1 >= end:
                    remaining.pop(tp, None)
    finally:
        await consumer.stop()
