"""The demo's first step: one event of every type through the broker and back, decoded."""

from __future__ import annotations

import asyncio
import uuid

from ..admin import ensure_topics
from ..bus import KafkaQueue
from ..events import Event
from ..samples import all_samples
from ..topics import topic_for


async def round_trip(bootstrap: str, prefix: str) -> tuple[int, int]:
    """Publish every sample event under `prefix`, consume them back in a new group; returns
    (sent, received equal to what was sent)."""
    events = all_samples()
    topics = sorted({topic_for(e, prefix) for e in events})
    await ensure_topics(bootstrap, topics)
    consumer = KafkaQueue(bootstrap, topics=topics, prefix=prefix,
                          group_id=f"ttxt-demo-{uuid.uuid4().hex[:8]}")
    producer = KafkaQueue(bootstrap, prefix=prefix)
    received: list[Event] = []
    async with consumer, producer:
        await consumer.wait_assigned()
        for event in events:
            await producer.publish(event)
        await producer.flush()
        while len(received) < len(events):
            received.append(await asyncio.wait_for(consumer.poll(), 30))
    # Order holds per partition only: compare as multisets.
    return len(events), sum(1 for e in events if e in received)
