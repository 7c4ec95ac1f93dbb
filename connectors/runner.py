"""Run the connectors a config names, on one queue, until stopped; then shut down cleanly."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ttxt_kafka.admin import ensure_topics
from ttxt_kafka.bus import KafkaQueue
from ttxt_kafka.bus.interfaces import IQueue
from ttxt_kafka.bus.linger import topic_channel
from ttxt_kafka.topics import topic

from . import connector_for
from .base.connector import Connector
from .config import Config

if TYPE_CHECKING:
    from .trading import Trader

log = logging.getLogger(__name__)

CHANNELS = ("book", "trades", "klines", "bbo", "status", "instruments")


def producer_settings(config: Config) -> dict[str, Any]:
    """The KafkaQueue settings of the config's producer: its aiokafka options, the lingers per
    channel, and the channels its connectors publish (only their linger classes get a
    producer)."""
    return {"producer_options": dict(config.kafka.producer),
            "linger_ms": dict(config.kafka.linger_ms),
            "channels": list(dict.fromkeys(topic_channel(t) for t in topics_of(config)))}


def topics_of(config: Config) -> list[str]:
    """Every topic the config's connectors may write or read (created up front so consumers
    can subscribe before the first event): the market-data channels, and with `trading` the
    orders, executions, account and dead-letter topics."""
    venues = dict.fromkeys(c.venue for c in config.connectors)
    names = [topic(v, ch, config.topic_prefix) for v in venues for ch in CHANNELS]
    for c in config.connectors:
        if c.trading is not None:
            from .trading import trading_topics

            names += trading_topics(c.venue, c.trading, config.topic_prefix)
    return list(dict.fromkeys(names))


async def run_connectors(
    config: Config,
    queue: IQueue,
    stop: asyncio.Event,
    *,
    on_started: Callable[[list[Connector]], None] | None = None,
    stats_interval: float = 0.0,
    bootstrap: str | None = None,
    on_traders: Callable[[list[Trader]], None] | None = None,
    on_stopped: Callable[[list[str]], None] | None = None,
) -> list[Connector]:
    """Start every connector, wait for `stop`, then stop them all. A connector that fails to
    start (unknown symbol, unreachable exchange when stopping) stops the others and raises.
    With `bootstrap` (and a KafkaQueue), connectors with `trading` get their `Trader` beside
    them."""
    connectors = [connector_for(c, queue) for c in config.connectors]
    traders = _traders(connectors, queue, bootstrap, config.topic_prefix)
    runs = [asyncio.ensure_future(c.run()) for c in connectors]
    runs += [asyncio.ensure_future(t.run()) for t in traders]
    stopper = asyncio.ensure_future(stop.wait())
    reporter = (asyncio.ensure_future(_report(connectors, traders, stats_interval, queue))
                if stats_interval > 0 else None)
    try:
        if on_started is not None:
            on_started(connectors)
        if on_traders is not None:  # e.g. to wait until they consume (`trader.ready`)
            on_traders(traders)
        done, _ = await asyncio.wait([stopper, *runs], return_when=asyncio.FIRST_COMPLETED)
        failed = [t for t in runs if t in done and t.exception() is not None]
    finally:
        for t in traders:
            t.stop()
        for c in connectors:
            c.stop()
        results = await asyncio.gather(*runs, return_exceptions=True)
        stopper.cancel()
        if reporter is not None:
            reporter.cancel()
        if on_stopped is not None:  # the final counters, whatever ended the run
            on_stopped(counters(connectors, traders, queue))
    if failed:
        exc = failed[0].exception()
        assert exc is not None
        raise exc
    names = [f"{c.venue} connector" for c in connectors] + [f"{t.venue} trader" for t in traders]
    for name, result in zip(names, results, strict=True):
        if isinstance(result, Exception):
            log.error("%s ended with %s: %s", name, type(result).__name__, result)
    return connectors


def _traders(connectors: list[Connector], queue: IQueue, bootstrap: str | None,
             prefix: str) -> list[Trader]:
    wanted = [c for c in connectors if c.config.trading is not None]
    if not wanted:
        return []
    if bootstrap is None or not isinstance(queue, KafkaQueue):
        raise ValueError("trading needs Kafka: run_connectors(..., bootstrap=) with a KafkaQueue")
    from .trading import Trader

    traders = []
    for c in wanted:
        assert c.config.trading is not None
        traders.append(Trader(c, c.config.trading, queue, bootstrap, prefix))
    return traders


def counters(connectors: list[Connector], traders: list[Trader],
             queue: IQueue | None = None) -> list[str]:
    """One line of counters per connector, for the Kafka producer and per trader."""
    lines = []
    for c in connectors:
        s = c.stats
        lines.append(f"{c.venue}: {s.messages:,} frames, {s.events:,} events, {s.gaps} gaps, "
                     f"{s.resyncs} resyncs, {s.malformed} malformed, {s.reconnects} reconnects, "
                     f"{s.delivery_failures} delivery failures")
    if isinstance(queue, KafkaQueue):
        q = queue.stats
        lines.append(f"kafka: {q.published} published, {q.acknowledged} acknowledged, "
                     f"{queue.pending} pending, {q.delivery_errors} delivery errors, "
                     f"{q.resent} resent, {q.lost} lost, {q.producer_replacements} producer "
                     f"replacements")
    for t in traders:
        ts = t.stats
        lines.append(f"{t.venue} trading: {ts.commands} commands, {ts.accepted} accepted, "
                     f"{ts.rejected} rejected ({ts.expired} expired), {ts.not_sent} not sent, "
                     f"{ts.dead_lettered} dead letters, {ts.retries} retries")
    return lines


async def _report(connectors: list[Connector], traders: list[Trader], interval: float,
                  queue: IQueue | None = None) -> None:
    while True:
        await asyncio.sleep(interval)
        for line in counters(connectors, traders, queue):
            if line.startswith("kafka:") and isinstance(queue, KafkaQueue) and not queue.healthy:
                log.error("%s; producer being replaced (%s)", line, queue.last_delivery_error)
            else:
                log.info("%s", line)


async def run_to_kafka(
    config: Config,
    bootstrap: str,
    stop: asyncio.Event | None = None,
    *,
    stats_interval: float = 30.0,
    on_stopped: Callable[[list[str]], None] | None = None,
) -> list[Connector]:
    """`ttxt connect`: the connectors into Kafka until SIGINT/SIGTERM (or `stop`); flushes the
    producer before returning."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    await ensure_topics(bootstrap, topics_of(config))
    queue = KafkaQueue(bootstrap, prefix=config.topic_prefix, **producer_settings(config))
    await queue.start()
    try:
        return await run_connectors(config, queue, stop, stats_interval=stats_interval,
                                    bootstrap=bootstrap, on_stopped=on_stopped)
    finally:
        await queue.stop()  # flushes everything published
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
