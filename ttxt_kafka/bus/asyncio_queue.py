"""The in-process queue: asyncio.Queue behind the IQueue interface."""

from __future__ import annotations

import asyncio

from ..events import Event
from .interfaces import IQueue


class AsyncioQueue(IQueue):
    """Bounded in-process queue; `publish` waits while it is full (backpressure)."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=capacity)

    async def publish(self, event: Event) -> None:
        await self._queue.put(event)

    async def poll(self) -> Event:
        return await self._queue.get()

    def put_nowait(self, event: Event) -> None:
        self._queue.put_nowait(event)

    def task_done(self) -> None:
        self._queue.task_done()

    async def flush(self) -> None:
        """Wait until every published event has been polled and marked done."""
        await self._queue.join()

    def qsize(self) -> int:
        return self._queue.qsize()

    def empty(self) -> bool:
        return self._queue.empty()
