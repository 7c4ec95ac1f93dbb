"""Queue interfaces, as in the seed (`ttxt_v2.core.api`), typed for `Event`."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator

from ..events import Event


class IQueue(ABC):
    """A queue of events: producers `publish`, consumers `poll`.

    Delivery is at-least-once where the queue is durable: `poll` returning the next event marks
    the previous one as handled, and `task_done` marks the current one, so a consumer's position
    only moves past events its handler has finished with.
    """

    @abstractmethod
    async def publish(self, event: Event) -> None:
        """Hand an event to the queue (may wait when the queue is full: backpressure)."""

    @abstractmethod
    async def poll(self) -> Event:
        """The next event; waits until there is one."""

    def put_nowait(self, event: Event) -> None:
        """Publish without waiting, where the queue supports it."""
        raise NotImplementedError(f"{type(self).__name__} does not support put_nowait")

    def task_done(self) -> None:  # noqa: B027 - optional hook, a no-op by default
        """The last polled event has been handled."""

    async def flush(self) -> None:  # noqa: B027 - optional hook, a no-op by default
        """Wait until everything published so far is delivered."""

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[Event]:
        while True:
            yield await self.poll()


class IQueuePublisher:
    """Something that writes events to a queue."""

    async def publish_to_queue(self, queue: IQueue, item: Event) -> None:
        await queue.publish(item)


class IQueueConsumer(ABC):
    """Something that reads events from a queue."""

    @abstractmethod
    async def queue_reader(self, queue: IQueue) -> None:
        """Read events from the queue until stopped."""


class IQueueActor(IQueueConsumer, IQueuePublisher, ABC):
    """Reads from one queue and writes to another (a strategy, a connector's command side)."""
