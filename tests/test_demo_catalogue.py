"""The demo's catalogue round trip counts types, and leaves no consumer group behind."""

from __future__ import annotations

import uuid

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from ttxt_kafka.admin import delete_groups, ensure_topics
from ttxt_kafka.bus import KafkaQueue
from ttxt_kafka.demo.catalogue import round_trip
from ttxt_kafka.events import BUILTIN_EVENTS
from ttxt_kafka.samples import all_samples

pytestmark = pytest.mark.kafka


async def _groups(bootstrap: str) -> set[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return {g[0] for g in await admin.list_consumer_groups()}
    finally:
        await admin.close()


async def test_the_round_trip_counts_types_and_deletes_its_group(kafka_bootstrap: str) -> None:
    assert len(all_samples()) == 16 and len(BUILTIN_EVENTS) == 15  # two OrderBook samples
    before = await _groups(kafka_bootstrap)
    prefix = f"t{uuid.uuid4().hex[:10]}-catalogue"
    assert await round_trip(kafka_bootstrap, prefix) == (15, 15)
    left = {g for g in await _groups(kafka_bootstrap) - before if g.startswith("ttxt-demo-")}
    assert left == set()


async def test_delete_groups_deletes_an_empty_group_and_says_why_not_otherwise(
        kafka_bootstrap: str) -> None:
    prefix = f"t{uuid.uuid4().hex[:10]}"
    group = f"g-{uuid.uuid4().hex[:8]}"
    await ensure_topics(kafka_bootstrap, [f"{prefix}.sim.book"])
    queue = KafkaQueue(kafka_bootstrap, topics=[f"{prefix}.sim.book"], prefix=prefix,
                       group_id=group)
    async with queue:
        await queue.wait_assigned()
        assert group in await _groups(kafka_bootstrap)
        busy = await delete_groups(kafka_bootstrap, [group])  # a member is still in it
        assert busy == {group: "NonEmptyGroup"}
    done = {}
    for _ in range(20):
        done = await delete_groups(kafka_bootstrap, [group])
        if done[group] is None:
            break
    assert done == {group: None}
    assert group not in await _groups(kafka_bootstrap)
    missing = await delete_groups(kafka_bootstrap, ["no-such-group-" + uuid.uuid4().hex[:6]])
    assert list(missing.values()) == ["GroupIdNotFound"]  # the broker's error, named
