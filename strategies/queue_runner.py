"""In-process sources: an `IQueue` (AsyncioQueue, ...) or any (async) iterable of events.

    sink = ListSink()
    runtime = StrategyRuntime(MarketMaker(), sink, run_id="bt1")
    await run_events(runtime, replayer_events)        # start, every event, stop

No Kafka: the input of a backtest or of a test. Every event is this instance's (there is no
group to split partitions), so books start at the first snapshot in the stream.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable

from ttxt_kafka.bus import IQueue
from ttxt_kafka.events import Event

from .runtime import StrategyRuntime


async def run_queue(runtime: StrategyRuntime, queue: IQueue) -> None:
    """Process the queue's events until cancelled (start/stop are the caller's)."""
    while True:
        event = await queue.poll()
        try:
            await runtime.process(event)
        finally:
            queue.task_done()


async def run_events(runtime: StrategyRuntime,
                     events: Iterable[Event] | AsyncIterable[Event]) -> None:
    """start, every event in order, stop (on_stop's commands are sent too)."""
    await runtime.start()
    try:
        if isinstance(events, AsyncIterable):
            async for event in events:
                await runtime.process(event)
        else:
            for event in events:
                await runtime.process(event)
    finally:
        await runtime.stop()
