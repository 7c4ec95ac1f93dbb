"""Where a strategy's output goes: the seam between the strategy and what executes it.

The runtime hands every command (CreateOrder, CancelOrder, AmendOrder, CancelAllOrders on
`ttxt.<venue>.orders`) and every derived event (`ctx.emit`, e.g. klines on
`ttxt.<venue>.klines_agg`) to an `OrderSink`, with the topic it is meant for:

- `KafkaSink` — live and paper trading: the topic itself (the connector places the order, or
  fills it on paper; the strategy cannot tell the difference);
- `QueueSink` — any in-process `IQueue`, e.g. the input of a backtest's matching engine;
- `ListSink` — keeps them in a list (tests, dry runs).

A backtest (phase 2) plugs the simulator's matching engine in as a sink whose acks, order
updates, fills and balances are fed back into `StrategyRuntime.process`; the strategy's code
stays the same.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from ttxt_kafka.bus import IQueue, KafkaQueue
from ttxt_kafka.events import Event
from ttxt_kafka.topics import TYPE_HEADER, key_for, topic_for


@runtime_checkable
class OrderSink(Protocol):
    async def send(self, event: Event, topic: str) -> None:
        """Hand one command or derived event on (may return before it is delivered)."""

    async def flush(self) -> None:
        """Wait until everything sent is delivered (called before offsets are committed)."""


class KafkaSink:
    """Publish to Kafka through a (producer) KafkaQueue: keyed by symbol, batched, idempotent."""

    def __init__(self, queue: KafkaQueue) -> None:
        self.queue = queue

    async def send(self, event: Event, topic: str) -> None:
        if topic == topic_for(event, self.queue.prefix):
            await self.queue.publish(event)
        else:  # a derived topic the event's registration does not name
            await self.queue.publish_raw(
                topic, self.queue.codec.encode(event), key_for(event),
                [(TYPE_HEADER, event.SCHEMA.encode())], event.exchange_ts // 1000 or None)

    async def flush(self) -> None:
        await self.queue.flush()


class QueueSink:
    """Into an in-process queue (the topic is not kept: the queue is the destination)."""

    def __init__(self, queue: IQueue) -> None:
        self.queue = queue

    async def send(self, event: Event, topic: str) -> None:
        await self.queue.publish(event)

    async def flush(self) -> None:
        """Nothing to wait for: the events are in the queue (its reader drains it)."""


class ListSink:
    """Keeps (topic, event) pairs in `sent`."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Event]] = []

    async def send(self, event: Event, topic: str) -> None:
        self.sent.append((topic, event))

    async def flush(self) -> None:
        pass

    def events(self, topic: str | None = None) -> list[Event]:
        return [e for t, e in self.sent if topic is None or t == topic]
