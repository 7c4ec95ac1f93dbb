"""Run a pipeline's services in this process: start in order, stop in the order that loses nothing.

Start: simulators, connectors, recorder, strategies (each ready before the next: a connector
needs its simulator's port). Stop: strategies first (their last commands, e.g. quote cancels,
are delivered while the connectors still read the orders topic), then connectors (producers
flushed), then the recorder (it reads up to the topics' ends, writes its last blocks, commits),
then simulators. A service that fails stops the others the same way.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from pathlib import Path

from .. import cluster
from .config import Pipeline
from .services import Service, build_services

log = logging.getLogger(__name__)

STOP_ORDER = ("strategy", "connector", "recorder", "simulator")


class ServiceError(RuntimeError):
    """A service failed to start or stopped on its own; the message names it."""


def configure_cluster(pipeline: Pipeline) -> None:
    """The pipeline's security and topic settings for every Kafka client of this process."""
    k = pipeline.kafka
    # Only what the file sets: otherwise the environment's settings stay in force.
    security = k.security.model_dump() if k.security.model_fields_set else None
    cluster.configure(security=security, partitions=k.topics.partitions,
                      replication=k.topics.replication_factor)
    k.serialization.apply("pipeline")


class PipelineRun:
    """`await run.start()`, `await run.wait(stop)`, `await run.stop()`."""

    def __init__(self, pipeline: Pipeline, bootstrap: str | None, base_dir: Path | None = None,
                 *, only: list[str] | None = None,
                 sim_ports: dict[str, int] | None = None) -> None:
        self.pipeline = pipeline
        self.bootstrap = bootstrap
        self.base_dir = base_dir or Path.cwd()
        self.only = only
        self.sim_ports = sim_ports
        self.services: list[Service] = []
        self.started: list[Service] = []
        self.started_at = 0.0
        self.summaries: list[tuple[str, str]] = []  # (service label, what it did), once stopped

    def service(self, name: str) -> Service:
        return next(s for s in self.services if s.name == name)

    async def start(self) -> None:
        configure_cluster(self.pipeline)
        self.services = build_services(self.pipeline, self.bootstrap, self.base_dir,
                                       self.sim_ports, self.only)
        self.started_at = time.monotonic()
        for service in self.services:
            try:
                await service.start()
            except Exception as exc:
                await self.stop()
                raise ServiceError(f"{service.label} failed to start: "
                                   f"{type(exc).__name__}: {exc}") from exc
            self.started.append(service)
            where = f" (metrics {service.server.url}/metrics)" if service.server else ""
            log.info("started %s%s", service.label, where)

    async def wait(self, stop: asyncio.Event) -> None:
        """Until `stop` is set; raises ServiceError if a service ends on its own first."""
        stopper = asyncio.ensure_future(stop.wait())
        watched = {s.done: s for s in self.started}
        try:
            done, _ = await asyncio.wait([stopper, *watched], return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopper.cancel()
        for fut in done:
            if fut in watched:
                service = watched[fut]
                why = ("stopped" if fut.cancelled() or fut.exception() is None
                       else f"failed: {type(fut.exception()).__name__}: {fut.exception()}")
                raise ServiceError(f"{service.label} {why}")

    async def stop(self) -> None:
        """Stop what was started, in STOP_ORDER; errors are logged, every service is stopped."""
        for kind in STOP_ORDER:
            group = [s for s in self.started if s.kind == kind]
            results = await asyncio.gather(*(s.stop() for s in group), return_exceptions=True)
            for service, result in zip(group, results, strict=True):
                if isinstance(result, BaseException):
                    log.error("%s: error while stopping: %s: %s", service.label,
                              type(result).__name__, result)
                else:
                    log.info("stopped %s", service.label)
                said = service.summary()
                if said:
                    self.summaries.append((service.label, said))
        self.started.clear()


async def run_pipeline(
    pipeline: Pipeline,
    bootstrap: str | None,
    stop: asyncio.Event,
    *,
    base_dir: Path | None = None,
    only: list[str] | None = None,
    sim_ports: dict[str, int] | None = None,
    on_started: Callable[[PipelineRun], None] | None = None,
) -> PipelineRun:
    """Start, run until `stop`, stop cleanly. Raises ServiceError if a service fails."""
    run = PipelineRun(pipeline, bootstrap, base_dir, only=only, sim_ports=sim_ports)
    await run.start()
    try:
        if on_started is not None:
            on_started(run)
        await run.wait(stop)
    finally:
        await run.stop()
    return run
