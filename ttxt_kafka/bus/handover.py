"""Sends taken over from a caller cancelled while the Kafka client waited.

aiokafka's `send()` / `send_batch()` may wait before they take a record or a batch: for a
topic's metadata (0.13+ starts knowing no topic, so every topic's first send waits a round
trip), for room behind the partition's previous batch (one batch per partition at a time). A
caller cancelled there (a connector's task when its connection closes, Ctrl-C in a replay, a
caller's timeout) leaves the record untaken by aiokafka, yet its owner (the bus, a replay sink)
had taken it and promised to deliver it or count it failed. `Handovers` runs such sends from
tasks of its own: kept referenced (asyncio keeps only weak references to tasks) until done, and
run one after the other per key (a topic, a partition), in the order they were handed over, so
the order of a partition holds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable


class Handovers:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self._last: dict[Hashable, asyncio.Task[None]] = {}  # key -> its last hand-over

    def __len__(self) -> int:
        return len(self._tasks)

    def pending(self, key: Hashable) -> bool:
        """Sends handed over under `key` are not done yet."""
        return key in self._last

    def hand_over(self, key: Hashable, send: Callable[[], Awaitable[None]],
                  failed: Callable[[BaseException], None]) -> None:
        """Run `send()` after the sends handed over under `key` before it. `failed(exc)` is
        called if it raises, or is cancelled (`cancel()`) before or while it runs: the owner
        counts what was not sent."""
        before = self._last.get(key)

        async def run() -> None:
            try:
                if before is not None:
                    await asyncio.wait([before])
                await send()
            except BaseException as exc:  # whatever it is (a cancel too), the owner is told
                failed(exc)
                if not isinstance(exc, Exception):
                    raise

        task = asyncio.ensure_future(run())
        self._tasks.add(task)
        self._last[key] = task

        def done(t: asyncio.Task[None]) -> None:
            self._tasks.discard(t)
            if self._last.get(key) is t:
                del self._last[key]

        task.add_done_callback(done)

    async def ahead(self, key: Hashable) -> None:
        """Wait until the sends handed over under `key` so far are done (a later send of the
        same partition goes after them)."""
        last = self._last.get(key)
        if last is not None:
            await asyncio.wait([last])

    async def wait(self) -> None:
        """Wait until every send handed over (so far and meanwhile) is done."""
        while self._tasks:
            await asyncio.wait(list(self._tasks))

    def cancel(self) -> None:
        """Give up the sends still handed over (each tells its owner, once it has ended)."""
        for task in list(self._tasks):
            task.cancel()
