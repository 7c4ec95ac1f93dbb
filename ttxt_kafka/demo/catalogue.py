"""The demo's first step: one event of every type through the broker and back, decoded."""

from __future__ import annotations

import asyncio
import logging
import uuid

from ..admin import delete_groups, ensure_topics
from ..bus import KafkaQueue
from ..events import Event
from ..samples import all_samples
from ..topics import topic_for

log = logging.getLogger(__name__)


async def round_trip(bootstrap: str, prefix: str) -> tuple[int, int]:
    """Publish every sample event under `prefix`, consume them back in a new group (deleted
    afterwards: it is of no use once the check is done); returns (event types sent, types whose
    every sample came back equal). The samples hold two OrderBooks (a snapshot and a delta):
    15 types, 16 events."""
    events = all_samples()
    topics = sorted({topic_for(e, prefix) for e in events})
    await ensure_topics(bootstrap, topics)
    group = f"ttxt-demo-{uuid.uuid4().hex[:8]}"
    consumer = KafkaQueue(bootstrap, topics=topics, prefix=prefix, group_id=group)
    producer = KafkaQueue(bootstrap, prefix=prefix)
    received: list[Event] = []
    try:
        async with consumer, producer:
            await consumer.wait_assigned()
            for event in events:
                await producer.publish(event)
            await producer.flush()
            while len(received) < len(events):
                received.append(await asyncio.wait_for(consumer.poll(), 30))
    finally:
        await _delete_group(bootstrap, group)
    # Order holds per partition only: compare as multisets.
    types = {type(e) for e in events}
    back = {t for t in types if all(e in received for e in events if type(e) is t)}
    return len(types), len(back)


async def _delete_group(bootstrap: str, group: str) -> None:
    """Best effort: a group left behind only clutters `ttxt top --all-groups`."""
    failed: str | None = "not tried"
    for _ in range(20):  # the consumer's leave may still be settling: NonEmptyGroup, retry
        try:
            failed = (await delete_groups(bootstrap, [group])).get(group)
        except Exception as exc:  # the demo goes on; the log says why
            failed = f"{type(exc).__name__}: {exc}"
        if failed is None or "NonEmpty" not in failed:
            break
        await asyncio.sleep(0.25)
    if failed:
        log.warning("could not delete the catalogue's consumer group %s: %s", group, failed)
