"""The services a pipeline starts, each behind the same small lifecycle.

    service = build_services(pipeline, bootstrap)[i]
    await service.start()      # running (and serving /metrics + /health if it has a port)
    service.done               # a task that ends if the service stops on its own (or fails)
    await service.stop()       # graceful: what it holds is flushed / written / committed

Each service has its own metrics registry and health checks, so in one process every port
serves only its service's metrics, as it would in its own process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..health import HealthChecks, MetricsServer, serve_metrics
from ..metrics import Registry
from .config import (
    ConnectorFile,
    ConnectorService,
    Pipeline,
    RecorderService,
    ServiceKind,
    SimulatorSpec,
    StrategyService,
    strategy_params,
)

if TYPE_CHECKING:
    from ttxt_kafka.bus.metered import MeteredKafkaQueue
    from ttxt_kafka.connectors.base.connector import Connector
    from ttxt_kafka.connectors.config import Config as ConnectorsFile
    from ttxt_kafka.connectors.trading import Trader
    from ttxt_kafka.recorder.metrics import MeteredRecorder
    from ttxt_kafka.simulator import Simulator

log = logging.getLogger(__name__)


class Service(ABC):
    kind: ServiceKind

    def __init__(self, name: str, metrics_port: int | None, metrics_host: str) -> None:
        self.name = name
        self.metrics_port = metrics_port
        self.metrics_host = metrics_host
        self.registry = Registry()
        self.checks = HealthChecks()
        self.server: MetricsServer | None = None
        self.done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.state = "starting"
        # Unhealthy until started and once stopping: a probe never sees a half-started service.
        self.checks.add("service", lambda: (self.state == "running", self.state))

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name}"

    async def start(self) -> None:
        if self.metrics_port is not None:
            self.server = await serve_metrics(self.metrics_port, host=self.metrics_host,
                                              service=self.label, registry=self.registry,
                                              checks=self.checks)
        try:
            await self._start()
        except BaseException:
            self.state = "failed"
            await self._stop_server()
            raise
        self.state = "running"

    async def stop(self) -> None:
        self.state = "stopping"
        try:
            await self._stop()
        finally:
            await self._stop_server()

    async def _stop_server(self) -> None:
        if self.server is not None:
            await self.server.stop()
            self.server = None

    def summary(self) -> str | None:
        """What the service did, one line, once stopped (None: nothing to say)."""
        return None

    @abstractmethod
    async def _start(self) -> None: ...

    @abstractmethod
    async def _stop(self) -> None: ...

    def _watch(self, task: asyncio.Task[Any]) -> None:
        """`done` follows the task that runs the service."""
        def finished(t: asyncio.Task[Any]) -> None:
            if self.state == "running":  # ended on its own: health says so
                self.state = "failed" if not t.cancelled() and t.exception() else "ended"
            if self.done.done():
                return
            if t.cancelled():
                self.done.cancel()
            elif t.exception() is not None:
                self.done.set_exception(t.exception())  # type: ignore[arg-type]
            else:
                self.done.set_result(t.result())

        task.add_done_callback(finished)


# --------------------------------------------------------------------------- simulator


class SimulatorService(Service):
    kind: ServiceKind = "simulator"

    def __init__(self, spec: SimulatorSpec, metrics_host: str) -> None:
        super().__init__(spec.service_name, None, metrics_host)
        self.spec = spec
        self.sim: Simulator | None = None

    async def _start(self) -> None:
        from ttxt_kafka.simulator import Simulator, SyntheticSource

        s = self.spec
        source = SyntheticSource(seed=s.seed, symbols=s.symbols, rate=s.rate, levels=s.levels)
        self.sim = await Simulator(s.venue, source, host=s.host, port=s.port).start()
        log.info("simulator %s: %s on %s", self.name, s.venue, self.sim.rest_url)

    async def _stop(self) -> None:
        if self.sim is not None:
            await self.sim.stop()


# --------------------------------------------------------------------------- connectors


class ConnectorsService(Service):
    """One connector (an inline entry) or a `ttxt connect` file's connectors, on one producer."""

    kind: ServiceKind = "connector"

    def __init__(self, name: str, config: ConnectorsFile, metrics_port: int | None,
                 metrics_host: str, bootstrap: str) -> None:
        super().__init__(name, metrics_port, metrics_host)
        self.config = config
        self.bootstrap = bootstrap
        self.connectors: list[Connector] = []
        self.traders: list[Trader] = []
        self.queue: MeteredKafkaQueue | None = None
        self._stop_event = asyncio.Event()
        self._task: asyncio.Task[Any] | None = None
        self._started = asyncio.Event()

    async def _start(self) -> None:
        from ttxt_kafka.admin import ensure_topics
        from ttxt_kafka.bus.metered import MeteredKafkaQueue, PublishMetrics
        from ttxt_kafka.connectors.metrics import ConnectorMetrics
        from ttxt_kafka.connectors.runner import producer_settings, topics_of

        await ensure_topics(self.bootstrap, topics_of(self.config))
        self.queue = MeteredKafkaQueue(
            self.bootstrap, prefix=self.config.topic_prefix,
            **producer_settings(self.config), metrics=PublishMetrics(self.registry))
        await self.queue.start()
        queue = self.queue

        def producer_check() -> tuple[bool, str]:
            q = queue.stats
            detail = (f"kafka {q.acknowledged} acked, {queue.pending} pending, "
                      f"{q.delivery_errors} delivery errors, {q.lost} lost, "
                      f"{q.producer_replacements} replaced")
            if not queue.healthy:
                detail += f"; FAILING: {queue.last_delivery_error}"
            return queue.healthy, detail

        self.checks.add("kafka", producer_check)

        def started(connectors: list[Connector]) -> None:
            self.connectors = connectors

        def traders(traders: list[Trader]) -> None:
            self.traders = traders
            metrics = ConnectorMetrics(self.connectors, self.registry, traders)
            self.checks.add("connectors", metrics.check)
            self._started.set()

        self._task = asyncio.ensure_future(self._run(started, traders))
        self._watch(self._task)
        # A config error (unknown symbol) fails here, at start, naming the service.
        await self._until(self._started)
        # Started = its traders consume their orders topics: a new consumer group starts at the
        # topic's end, so a strategy started before would see its first orders skipped.
        for trader in self.traders:
            await self._until(trader.ready, timeout=60.0)

    async def _until(self, event: asyncio.Event, timeout: float | None = None) -> None:
        """Wait for `event` while the service runs; its failure is raised here."""
        assert self._task is not None
        waiter = asyncio.ensure_future(event.wait())
        await asyncio.wait([waiter, self._task], timeout=timeout,
                           return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        if self._task.done():
            self._task.result()
        elif not event.is_set():
            log.warning("%s: not ready after %.0fs; going on", self.label, timeout or 0)

    async def _run(self, started: Callable[[list[Connector]], None],
                   traders: Callable[[list[Trader]], None]) -> None:
        from ttxt_kafka.connectors.runner import run_connectors

        assert self.queue is not None
        # With `bootstrap`, connectors with a `trading` section get their trader beside them.
        await run_connectors(self.config, self.queue, self._stop_event, on_started=started,
                             bootstrap=self.bootstrap, on_traders=traders)

    async def _stop(self) -> None:
        self._stop_event.set()
        try:
            if self._task is not None:
                with contextlib.suppress(Exception):  # reported by `done` already
                    await self._task
        finally:
            if self.queue is not None:
                await self.queue.stop()  # flushes every event published

    def summary(self) -> str | None:
        from ttxt_kafka.connectors.runner import counters

        return "; ".join(counters(self.connectors, self.traders)) or None


# --------------------------------------------------------------------------- recorder


class RecorderRunner(Service):
    kind: ServiceKind = "recorder"

    def __init__(self, spec: RecorderService, prefix: str, metrics_host: str, bootstrap: str,
                 base_dir: Path, topics: list[str] | None = None) -> None:
        super().__init__(spec.name, spec.metrics_port, metrics_host)
        self.spec = spec
        # The pipeline's connector topics, created before subscribing: a pattern subscription
        # sees a topic created later only at its next metadata refresh (up to 10 s).
        self.topics = topics or []
        self.prefix = prefix
        self.bootstrap = bootstrap
        self.out_dir = (base_dir / spec.out) if not Path(spec.out).is_absolute() else Path(spec.out)
        self.recorder: MeteredRecorder | None = None
        self._task: asyncio.Task[Any] | None = None

    async def _start(self) -> None:
        from ttxt_kafka.recorder.buffers import FlushPolicy
        from ttxt_kafka.recorder.metrics import MeteredRecorder
        from ttxt_kafka.recorder.rotation import RotatePolicy
        from ttxt_kafka.recorder.service import RecorderConfig

        s = self.spec
        config = RecorderConfig(
            out_dir=self.out_dir, bootstrap=self.bootstrap, topics=s.topics, group_id=s.group,
            instance_id=s.instance_id, codec=s.codec, rotate=RotatePolicy.parse(s.rotate),
            flush=FlushPolicy(block_size=s.block_size, block_bytes=s.block_bytes,
                              max_delay=s.max_delay),
            prefix=self.prefix)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        if self.topics:
            from ttxt_kafka.admin import ensure_topics

            await ensure_topics(self.bootstrap, self.topics)
        self.recorder = MeteredRecorder(config, self.registry)
        self.checks.add("recorder", self.recorder.metrics.check)
        self._task = asyncio.ensure_future(self.recorder.run())
        self._watch(self._task)
        await asyncio.sleep(0)  # let it open the directory (a locked one fails at once)
        if self._task.done():
            self._task.result()

    async def _stop(self) -> None:
        if self.recorder is None or self._task is None:
            return
        if not self._task.done():
            reached = await self.recorder.drain(self.spec.drain_timeout)
            if not reached:
                log.warning("recorder %s: stopped before reaching the topics' ends "
                            "(drain_timeout %.0fs); the rest is recorded on the next start",
                            self.name, self.spec.drain_timeout)
        with contextlib.suppress(Exception):  # reported by `done` already
            await self._task
        log.info("recorder %s: %s", self.name, self.recorder.stats.summary())

    def summary(self) -> str | None:
        return self.recorder.stats.summary() if self.recorder is not None else None


# --------------------------------------------------------------------------- strategies


class StrategyRunner(Service):
    kind: ServiceKind = "strategy"

    def __init__(self, spec: StrategyService, prefix: str, metrics_host: str,
                 bootstrap: str) -> None:
        super().__init__(spec.service_name, spec.metrics_port, metrics_host)
        self.spec = spec
        self.prefix = prefix
        self.bootstrap = bootstrap
        self._stop_event = asyncio.Event()
        self._task: asyncio.Task[Any] | None = None

    async def _start(self) -> None:
        from ttxt_kafka.strategies.app import run_strategy

        s = self.spec
        strategy = build_strategy(s)
        derived = derived_topics(strategy, self.prefix)
        if derived:
            from ttxt_kafka.admin import ensure_topics

            await ensure_topics(self.bootstrap, derived)
        self._task = asyncio.ensure_future(run_strategy(
            strategy, bootstrap=self.bootstrap, group=s.group, prefix=self.prefix,
            from_beginning=s.from_beginning, run_id=s.run_id,
            snapshot_interval=s.snapshot_interval, stop=self._stop_event,
            registry=self.registry, checks=self.checks))
        self._watch(self._task)

    async def _stop(self) -> None:
        self._stop_event.set()
        if self._task is not None:
            with contextlib.suppress(Exception):  # reported by `done` already
                await self._task

    def summary(self) -> str | None:
        task = self._task
        if task is None or not task.done() or task.cancelled() or task.exception() is not None:
            return "failed" if task is not None and task.done() else None
        s = task.result()
        return (f"{s.events:,} events, {s.dispatched:,} handled, {s.sent:,} commands sent, "
                f"{s.handler_errors:,} handler errors")


def build_strategy(spec: StrategyService) -> Any:
    """The strategy object of an entry (module imported, parameters converted)."""
    from ttxt_kafka.strategies.loader import build

    params = strategy_params(spec.params)
    for key, value in (("venues", spec.venues), ("symbols", spec.symbols),
                       ("channels", spec.channels)):
        if value is not None:
            params[key] = value
    return build(spec.strategy, params)


def derived_topics(strategy: Any, prefix: str) -> list[str]:
    """Topics a strategy emits to, created before it starts (else the first emit waits for
    the broker's auto-creation, and aiokafka logs an error meanwhile): by convention a string
    parameter named `*channel` (`out_channel` of the candle aggregator), on each of its venues."""
    from ttxt_kafka.topics import topic

    channels = [getattr(strategy, k) for k in strategy.params()
                if k.endswith("channel") and isinstance(getattr(strategy, k, None), str)]
    return [topic(v, ch, prefix) for v in strategy.venues for ch in channels if ch]


# --------------------------------------------------------------------------- building


def build_services(pipeline: Pipeline, bootstrap: str | None, base_dir: Path,
                   sim_ports: dict[str, int] | None = None,
                   only: list[str] | None = None) -> list[Service]:
    """The pipeline's services in start order: simulators, connectors, recorder, strategies;
    with `only`, just those (`--service`). `sim_ports` fixes simulator ports: with
    `--processes`, connectors reach simulators running in other processes there."""
    if only is not None:
        pipeline.only(only)  # raises naming an unknown service
    host = pipeline.metrics_host
    services: list[Service] = []
    sims: dict[str, SimulatorService] = {}
    for spec in pipeline.simulators:
        port = (sim_ports or {}).get(spec.service_name)
        if port is not None:
            spec = spec.model_copy(update={"port": port})
        sims[spec.service_name] = SimulatorService(spec, host)
        services.append(sims[spec.service_name])
    for c in pipeline.connectors:
        if isinstance(c, ConnectorFile):
            config = pipeline.connector_file(c.service_name)
            services.append(ConnectorsService(c.service_name, config, c.metrics_port, host,
                                              bootstrap or ""))
        else:
            services.append(SimulatedConnector(c, pipeline, sims, host, bootstrap or ""))
    if pipeline.recorder is not None:
        services.append(RecorderRunner(pipeline.recorder, pipeline.topic_prefix, host,
                                       bootstrap or "", base_dir, connector_topics(pipeline)))
    services += [StrategyRunner(s, pipeline.topic_prefix, host, bootstrap or "")
                 for s in pipeline.strategies]
    if only is not None:
        services = [s for s in services if s.name in only]
    if any(s.kind != "simulator" for s in services) and not bootstrap:
        raise ValueError("no Kafka bootstrap servers for the pipeline")
    return services


def connector_topics(pipeline: Pipeline) -> list[str]:
    """Every topic the pipeline's connectors write (whichever process runs them)."""
    from ttxt_kafka.connectors.config import Config as ConnectorsFile
    from ttxt_kafka.connectors.runner import topics_of

    out: list[str] = []
    for c in pipeline.connectors:
        if isinstance(c, ConnectorFile):
            out += topics_of(pipeline.connector_file(c.service_name))
        else:
            out += topics_of(ConnectorsFile(connectors=[c.connector_config()],
                                            topic_prefix=pipeline.topic_prefix))
    return list(dict.fromkeys(out))


class SimulatedConnector(ConnectorsService):
    """An inline connector; with `simulator:` its endpoints are that simulator's, known once it
    listens (port 0 picks a free one)."""

    def __init__(self, entry: ConnectorService, pipeline: Pipeline,
                 sims: dict[str, SimulatorService], metrics_host: str, bootstrap: str) -> None:
        from ttxt_kafka.connectors.config import Config as ConnectorsFile

        config = ConnectorsFile(connectors=[entry.connector_config()],
                                topic_prefix=pipeline.topic_prefix,
                                kafka=_connector_kafka(pipeline))
        super().__init__(entry.service_name, config, entry.metrics_port, metrics_host, bootstrap)
        self.entry = entry
        self.sim = sims.get(entry.simulator) if entry.simulator else None

    async def _start(self) -> None:
        if self.sim is not None:
            from ttxt_kafka.connectors.config import Config as ConnectorsFile

            sim, spec = self.sim.sim, self.sim.spec
            if sim is not None:  # in this process
                ws, rest = sim.ws_url, sim.rest_url
            elif spec.port:  # in another one, at a known port
                ws, rest = f"ws://{spec.host}:{spec.port}", f"http://{spec.host}:{spec.port}"
            else:
                raise RuntimeError(f"simulator {self.sim.name} runs elsewhere on a port chosen "
                                   "at its start: give it a fixed `port:`")
            self.config = ConnectorsFile(
                connectors=[self.entry.connector_config(ws, rest)],
                topic_prefix=self.config.topic_prefix, kafka=self.config.kafka)
        await super()._start()


def _connector_kafka(pipeline: Pipeline) -> Any:
    from ttxt_kafka.connectors.config import KafkaSettings

    k = pipeline.kafka
    return KafkaSettings(bootstrap_servers=k.bootstrap_servers, producer=k.producer,
                         linger_ms=k.linger_ms)
