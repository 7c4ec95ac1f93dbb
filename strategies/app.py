"""Run a strategy against Kafka with one call (what `ttxt strategy run` does).

    from ttxt_kafka.strategies import run
    run(SpreadMonitor(venues=["binance"]))                 # until Ctrl-C / SIGTERM

Creates the topics it needs if they are missing, starts the producer (commands go to
`ttxt.<venue>.orders`), the consumer group, and optionally the `/metrics` + `/health` server.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from ttxt_kafka.admin import ensure_topics
from ttxt_kafka.bus import KafkaQueue
from ttxt_kafka.health import HEALTH, CheckResult, HealthChecks, serve_metrics
from ttxt_kafka.local_kafka import LocalKafka, bootstrap_from_env
from ttxt_kafka.metrics import Registry
from ttxt_kafka.topics import DEFAULT_PREFIX

from .kafka_runner import KafkaRunner
from .runtime import RuntimeStats, StrategyRuntime
from .sinks import KafkaSink
from .strategy import Strategy

log = logging.getLogger(__name__)


def find_bootstrap(explicit: str | None = None) -> str:
    """--bootstrap, else KAFKA_BOOTSTRAP_SERVERS, else the broker `ttxt kafka start` runs."""
    found = explicit or bootstrap_from_env() or LocalKafka().status()
    if not found:
        raise RuntimeError("no Kafka broker: start one with `ttxt kafka start`, or set "
                           "KAFKA_BOOTSTRAP_SERVERS")
    return found


async def run_strategy(
    strategy: Strategy,
    *,
    bootstrap: str | None = None,
    group: str | None = None,
    prefix: str = DEFAULT_PREFIX,
    from_beginning: bool = False,
    run_id: str | None = None,
    snapshot_interval: float = 60.0,
    metrics_port: int | None = None,
    metrics_host: str = "127.0.0.1",
    stop: asyncio.Event | None = None,
    create_topics: bool = True,
    registry: Registry | None = None,
    checks: HealthChecks | None = None,
) -> RuntimeStats:
    """Run until `stop` is set (or forever); on_stop runs and its commands are delivered.
    `registry` / `checks`: where its metrics and health check go (default: the process's).
    Returns the runtime's counters (events, handler errors, commands sent)."""
    bootstrap = find_bootstrap(bootstrap)
    stop = stop or asyncio.Event()
    producer = KafkaQueue(bootstrap, prefix=prefix)
    runtime = StrategyRuntime(strategy, KafkaSink(producer), group=group, prefix=prefix,
                              run_id=run_id, registry=registry)
    checks = checks or HEALTH
    sub = runtime.subscription
    if create_topics:
        await ensure_topics(bootstrap, sub.topics() + [sub.orders_topic(v) for v in sub.venues])
    runner = KafkaRunner(runtime, bootstrap, from_beginning=from_beginning,
                         snapshot_interval=snapshot_interval)
    check_name = f"strategy {runtime.group}"
    server = None
    await producer.start()
    try:
        if metrics_port is not None:
            server = await serve_metrics(metrics_port, host=metrics_host,
                                         service=f"strategy {runtime.group}",
                                         registry=registry, checks=checks)
        checks.add(check_name, lambda: _health(runner))
        await runner.start()
        loop = asyncio.create_task(runner.run())
        waiter = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({loop, waiter}, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        if loop in done:
            loop.result()  # the loop failed: raise its error (after cleaning up below)
    finally:
        checks.remove(check_name)
        try:
            await runner.stop()
        finally:
            await producer.stop()
            if server is not None:
                await server.stop()
    return runtime.stats


def _health(runner: KafkaRunner) -> CheckResult:
    """Healthy while the consumer loop runs; the detail says what it owns and how it fares."""
    rt = runner.runtime
    detail = (f"{len(runner.owned)} partitions, {rt.books.ready_count()} books ready, "
              f"{rt.stats.handler_errors} handler errors")
    return runner.running, detail


def run(strategy: Strategy, **options: object) -> None:
    """Blocking: run the strategy until SIGINT or SIGTERM (options as `run_strategy`)."""

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await run_strategy(strategy, stop=stop, **options)  # type: ignore[arg-type]

    asyncio.run(main())
