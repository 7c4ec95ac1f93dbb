"""`make demo` / `ttxt demo`: events through a real Kafka broker and back, decoded.

Starts (or reuses) the local broker — or uses KAFKA_BOOTSTRAP_SERVERS — publishes one event of
every type of the catalogue with the Kafka bus, consumes them back in a consumer group and
prints each decoded, with the topic it travelled on.
"""

from __future__ import annotations

import asyncio
import time
import uuid

from .admin import ensure_topics
from .bus import KafkaQueue
from .events import Event
from .local_kafka import ensure_kafka
from .render import event_to_json
from .samples import all_samples
from .topics import topic_for


def _say(text: str = "") -> None:
    print(text, flush=True)


async def _round_trip(bootstrap: str, events: list[Event]) -> list[Event]:
    topics = sorted({topic_for(e) for e in events})
    await ensure_topics(bootstrap, topics)
    consumer = KafkaQueue(bootstrap, topics=topics, group_id=f"ttxt-demo-{uuid.uuid4().hex[:8]}")
    producer = KafkaQueue(bootstrap)
    async with consumer, producer:
        await consumer.wait_assigned()
        t0 = time.perf_counter()
        for event in events:
            await producer.publish(event)
        await producer.flush()
        _say(f"published {len(events)} events in {(time.perf_counter() - t0) * 1e3:.1f} ms; "
             "consuming them back:")
        received: list[Event] = []
        while len(received) < len(events):
            event = await asyncio.wait_for(consumer.poll(), 30)
            received.append(event)
            _say(f"  {topic_for(event):<28} {event_to_json(event)}")
    return received


def run_demo() -> int:
    _say("ttxt-kafka demo: the event catalogue through a real Kafka broker")
    _say("-" * 64)
    t0 = time.perf_counter()
    bootstrap = ensure_kafka()
    _say(f"Kafka ready at {bootstrap} ({time.perf_counter() - t0:.1f} s)")
    events = all_samples()
    received = asyncio.run(_round_trip(bootstrap, events))
    # Per partition order is kept, across partitions it is not: compare as multisets.
    missing = [e for e in events if e not in received]
    _say("-" * 64)
    _say(f"{len(received)}/{len(events)} events came back decoded and equal to what was sent"
         + ("" if not missing else f"; MISSING: {[e.SCHEMA for e in missing]}"))
    _say("See them again with:  .venv/bin/ttxt tail ttxt.binance.book --from-beginning "
         "--until-end")
    _say("Stop the broker with: .venv/bin/ttxt kafka stop")
    return 0 if not missing else 1
