"""`make demo` / `ttxt demo`: the offline pipeline for a minute, then what it did, checked.

1. the local broker (or KAFKA_BOOTSTRAP_SERVERS), and the event catalogue through it and back;
2. `examples/pipeline_offline.yaml` in this process: synthetic Binance and Bybit markets
   (the simulator), their connectors, the recorder, the example strategies (the market maker
   trading on paper) — under a topic prefix of its own (`demo-<id>`), metrics on free ports;
3. a progress line while it runs; then a clean stop (what `ttxt run` does on Ctrl-C);
4. the recorded files replayed, the books compared three ways, the trading summed up (check.py);
5. the summary (report.py), ending with the one line that runs the same pipeline live.

Logs go to `<out>/demo.log` (and what the spread monitor prints to `<out>/spread_monitor.txt`),
so the terminal shows the demo only; warnings still reach the terminal.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import secrets
import shutil
import signal
import sys
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ..local_kafka import ensure_kafka
from ..metrics import Counter, Registry
from ..pipeline.config import ConnectorService, Pipeline, load_pipeline
from ..pipeline.runner import PipelineRun
from ..pipeline.services import ConnectorsService, RecorderRunner
from . import check
from .catalogue import round_trip
from .examples import example_path

if TYPE_CHECKING:
    from ttxt_kafka.archive.files import FileInfo

log = logging.getLogger(__name__)

PIPELINE = "pipeline_offline.yaml"
LIVE = "pipeline_live.yaml"


@dataclass
class DemoResult:
    """What the summary is made of (the demo's test reads it too)."""

    bootstrap: str
    prefix: str
    seconds: float
    out_dir: Path
    data_dir: Path
    catalogue: tuple[int, int] = (0, 0)
    counts: dict[str, int] = field(default_factory=dict)
    replay: check.Replay | None = None
    books: list[check.BookCheck] = field(default_factory=list)
    files: list[FileInfo] = field(default_factory=list)
    trading: list[check.Trading] = field(default_factory=list)
    marks: dict[str, Decimal | None] = field(default_factory=dict)  # "venue symbol" -> mid
    metrics_urls: dict[str, str] = field(default_factory=dict)
    monitor_lines: list[str] = field(default_factory=list)
    candles: int = 0
    backtest: Any = None  # strategies.backtest.BacktestReport
    chart: str | None = None
    chart_note: str = ""

    @property
    def ok(self) -> bool:
        return (self.catalogue[0] == self.catalogue[1] and bool(self.books)
                and all(b.equal for b in self.books))


def demo_pipeline(path: Path, prefix: str, data_dir: Path) -> Pipeline:
    """The example pipeline under the demo's own prefix, groups and data folder, with every
    metrics server on a free port (several demos or test runs may share a machine)."""
    p = load_pipeline(path)
    recorder = p.recorder.model_copy(update={
        "out": str(data_dir), "group": f"{prefix}-recorder", "metrics_port": 0,
        "instance_id": f"{prefix}-recorder"}) if p.recorder else None
    return p.model_copy(update={
        "name": f"demo {prefix}",
        "topic_prefix": prefix,
        "connectors": [_own_groups(c.model_copy(update={"metrics_port": 0}), prefix)
                       for c in p.connectors],
        "recorder": recorder,
        "strategies": [s.model_copy(update={"metrics_port": 0,
                                            "group": f"{prefix}-{s.service_name}"})
                       for s in p.strategies],
    })


def _own_groups(connector: Any, prefix: str) -> Any:
    """A trading connector's orders consumer group, the demo's own (several demos, or a demo
    and a test run, may share a broker)."""
    trading = getattr(connector, "trading", None)
    if trading is None:
        return connector
    return connector.model_copy(update={"trading": trading.model_copy(
        update={"group_id": f"{prefix}-trader-{connector.service_name}"})})


# --------------------------------------------------------------------------- logging


class _NotAiokafka(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.name.startswith("aiokafka")


@contextlib.contextmanager
def quiet_logs(log_file: Path):  # type: ignore[no-untyped-def]
    """Everything to `log_file`; warnings (not aiokafka's narration) to the terminal."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level, logging.getLogger("aiokafka").level)
    to_file = logging.FileHandler(log_file, encoding="utf-8")
    to_file.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    to_term = logging.StreamHandler(sys.stderr)
    to_term.setLevel(logging.WARNING)
    to_term.addFilter(_NotAiokafka())
    to_term.setFormatter(logging.Formatter("  warning: %(name)s: %(message)s"))
    root.handlers = [to_file, to_term]
    root.setLevel(logging.INFO)
    logging.getLogger("aiokafka").setLevel(logging.WARNING)
    try:
        yield
    finally:
        to_file.close()
        root.handlers, root.level = saved[0], saved[1]
        logging.getLogger("aiokafka").setLevel(saved[2])


@contextlib.contextmanager
def _steps_of(logger: str, say: TextIO):  # type: ignore[no-untyped-def]
    """A module's INFO lines (fetching the jars, broker ready) on the screen as steps, without
    the log format (they go to the log file too)."""
    handler = logging.StreamHandler(say)
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter("      %(message)s"))
    logging.getLogger(logger).addHandler(handler)
    try:
        yield
    finally:
        logging.getLogger(logger).removeHandler(handler)


# --------------------------------------------------------------------------- progress


ORDER_COMMANDS = ("CreateOrder", "AmendOrder", "CancelOrder", "CancelAllOrders")


def _counter_total(registry: Registry, name: str, last_label: tuple[str, ...] = (),
                   suffix: str = "") -> int:
    """A counter's total over the children whose last label is one of `last_label` (or ends
    with `suffix`); all children when neither is given."""
    family = registry.get(name)
    if not isinstance(family, Counter):
        return 0
    return int(sum(child.value for labels, child in family.samples()
                   if (not last_label or (labels and labels[-1] in last_label))
                   and (not suffix or (labels and labels[-1].endswith(suffix)))))


class Progress:
    """One line, rewritten in place on a terminal; a line every 10 s otherwise."""

    def __init__(self, run: PipelineRun, seconds: float, out: TextIO) -> None:
        self.run = run
        self.seconds = seconds
        self.out = out
        self.tty = out.isatty()
        self._last_line = 0.0

    def numbers(self) -> dict[str, int]:
        events = recorded = orders = executions = 0
        for s in self.run.started:
            if isinstance(s, ConnectorsService):
                events += sum(c.stats.events for c in s.connectors)
                executions += _counter_total(s.registry, "ttxt_events_out_total",
                                             suffix=".executions")
            elif isinstance(s, RecorderRunner) and s.recorder is not None:
                recorded += s.recorder.stats.written
            elif s.kind == "strategy":
                orders += _counter_total(s.registry, "ttxt_strategy_commands_total",
                                         ORDER_COMMANDS)
        return {"events": events, "recorded": recorded, "commands": orders,
                "executions": executions}

    def show(self, elapsed: float) -> None:
        n = self.numbers()
        rate = n["events"] / elapsed if elapsed > 0 else 0.0
        line = (f"  running {min(elapsed, self.seconds):4.0f}/{self.seconds:.0f} s   "
                f"events {n['events']:>8,} ({rate:,.0f}/s)   recorded {n['recorded']:>8,}   "
                f"orders {n['commands']:>5,}   executions {n['executions']:>5,}")
        if self.tty:
            self.out.write("\r" + line)
            self.out.flush()
        elif elapsed - self._last_line >= 10 or elapsed >= self.seconds:
            self._last_line = elapsed
            self.out.write(line + "\n")
            self.out.flush()

    def done(self) -> None:
        if self.tty:
            self.out.write("\n")


# --------------------------------------------------------------------------- the demo


def run_demo(seconds: float = 60.0, out_dir: Path = Path("demo-out"),
             pipeline_path: Path | None = None,
             until: Callable[[Coroutine[Any, Any, DemoResult]],
                             Coroutine[Any, Any, tuple[DemoResult | None, int]]] | None = None
             ) -> int:
    """The demo, its summary, its exit status. `until`: runs the demo until a signal stops it
    ((result, 0), or (None, the signal's number)); the command line passes its own."""
    from .report import print_summary

    say = sys.stdout
    out_dir = out_dir.resolve()
    demo = _demo(seconds, out_dir, pipeline_path or example_path(PIPELINE), say)
    if until is None:
        result: DemoResult | None = asyncio.run(demo)
        stopped_by = 0
    else:
        result, stopped_by = asyncio.run(until(demo))
    if result is None:  # the services were stopped and closed on the way out
        _say(say, f"\nttxt demo: stopped by {signal.Signals(stopped_by).name} before the end; "
                  f"what it had written is in {out_dir}")
        return 128 + stopped_by
    print_summary(result, say)
    return 0 if result.ok else 1


def _say(out: TextIO, text: str = "") -> None:
    out.write(text + "\n")
    out.flush()


async def _demo(seconds: float, out_dir: Path, pipeline_path: Path, say: TextIO) -> DemoResult:
    _say(say, "ttxt-kafka demo: a trading pipeline on synthetic Binance and Bybit markets, "
              "through a real Kafka broker")
    _say(say, "-" * 78)
    t0 = time.perf_counter()
    prefix = f"demo-{secrets.token_hex(3)}"
    data_dir = out_dir / "data"
    previous = _previous_prefix(out_dir)
    shutil.rmtree(out_dir, ignore_errors=True)
    out_dir.mkdir(parents=True)
    (out_dir / "run.json").write_text(json.dumps({"prefix": prefix}))
    with quiet_logs(out_dir / "demo.log"):
        _say(say, "[0/4] Kafka: KAFKA_BOOTSTRAP_SERVERS, else the local broker (started if "
                  "needed; its first start fetches the broker jars, ~45 MB)...")
        with _steps_of("ttxt_kafka.local_kafka", say):
            bootstrap = ensure_kafka()
        result = DemoResult(bootstrap, prefix, seconds, out_dir, data_dir)
        if previous:
            await _delete_topics(bootstrap, previous)
        # Its own prefix: sample orders and fills must not count as the market maker's.
        result.catalogue = await round_trip(bootstrap, f"{prefix}-catalogue")
        sent, back = result.catalogue
        _say(say, f"[1/4] Kafka ready at {bootstrap} ({time.perf_counter() - t0:.1f} s); the "
                  f"event catalogue round trip: {back}/{sent} types back, decoded and equal")
        pipeline = demo_pipeline(pipeline_path, prefix, data_dir)
        _say(say, f"[2/4] running {_relative(pipeline_path)} for {seconds:.0f} s under topic "
                  f"prefix {prefix}:")
        for kind, name in pipeline.service_names():
            _say(say, f"        {kind:<10} {name}")
        run = await _run(pipeline, seconds, out_dir, say, result)
        _say(say, "[3/4] stopped cleanly (strategies, connectors flushed, recorder drained and "
                  "committed); replaying the recorded files...")
        await _check(run, result)
        _say(say, "[4/4] summary")
    return result


async def _run(pipeline: Pipeline, seconds: float, out_dir: Path, say: TextIO,
               result: DemoResult) -> PipelineRun:
    run = PipelineRun(pipeline, result.bootstrap, Path.cwd())
    monitor = out_dir / "spread_monitor.txt"
    with monitor.open("w", encoding="utf-8") as printed, contextlib.redirect_stdout(printed):
        await run.start()
        waiter: asyncio.Future[None] | None = None
        try:
            result.metrics_urls = {s.label: f"{s.server.url}/metrics" for s in run.started
                                   if s.server is not None}
            progress = Progress(run, seconds, say)
            stop = asyncio.Event()
            started = time.monotonic()
            waiter = asyncio.ensure_future(run.wait(stop))
            while time.monotonic() - started < seconds and not waiter.done():
                await asyncio.sleep(1.0)
                progress.show(time.monotonic() - started)
            progress.done()
            stop.set()
            await waiter  # raises if a service failed on its own
        finally:
            # Stopped early (Ctrl-C, SIGTERM): the watcher would see the services end and
            # raise into a task nobody awaits any more ("exception never retrieved").
            if waiter is not None and not waiter.done():
                waiter.cancel()
            await run.stop()
    result.monitor_lines = monitor.read_text(encoding="utf-8").splitlines()
    return run


async def _check(run: PipelineRun, result: DemoResult) -> None:
    connector_books = {}
    for s in run.services:
        if isinstance(s, ConnectorsService):
            for c in s.connectors:
                for symbol, book in c.books.items():
                    connector_books[(c.venue, symbol)] = book
    result.counts = await check.topic_counts(result.bootstrap, result.prefix)
    topic_books = await check.books_from_topics(result.bootstrap, result.prefix)
    result.replay = await check.replay_files(result.data_dir)
    result.books = check.compare_books(connector_books, topic_books, result.replay.books)
    result.marks = {f"{v} {s}": b.mid() for (v, s), b in connector_books.items()}
    from ttxt_kafka.archive.files import list_files, scan_file

    result.files = [i for p in list_files(result.data_dir) if (i := scan_file(p)) is not None]
    modes = {c.venue: c.trading.mode for c in run.pipeline.connectors
             if isinstance(c, ConnectorService) and c.trading is not None}
    for venue in sorted({c.venue for c in run.pipeline.connectors if hasattr(c, "venue")}):
        traded = await check.trading(result.bootstrap, result.prefix, venue)
        traded.mode = modes.get(venue, traded.mode)
        if traded.commands:
            result.trading.append(traded)
    result.candles = sum(n for t, n in result.counts.items() if t.endswith(".klines_agg"))
    await _backtest(result, run.pipeline)


async def _backtest(result: DemoResult, pipeline: Pipeline) -> None:
    """The pipeline's market maker, the same class and parameters, backtested over the files
    the recorder just wrote (`ttxt backtest`): its report and chart go to <out>/backtest."""
    from ttxt_kafka.strategies.backtest import file_events, run_backtest

    from ..pipeline.services import build_strategy

    spec = next((s for s in pipeline.strategies if s.strategy.endswith(":MarketMaker")), None)
    if spec is None:
        result.chart_note = "no market maker in the pipeline: no backtest"
        return
    strategy = build_strategy(spec)
    config = _backtest_config(pipeline, strategy)
    out = result.out_dir / "backtest"
    report = await run_backtest(
        strategy, file_events(result.data_dir, venues=strategy.venues, symbols=strategy.symbols),
        config, out_dir=out, name=spec.strategy)
    result.backtest = report
    charts = [out / s.chart for s in report.symbols if s.chart]
    result.chart = str(charts[0]) if charts else None
    if not charts:
        result.chart_note = "not drawn: " + report.files.get("chart_error", "no symbol traded")


def _backtest_config(pipeline: Pipeline, strategy: Any) -> Any:
    """The paper account of the strategy's venue (balances, fees), for a like-for-like backtest."""
    from ttxt_kafka.matching import FeeSchedule
    from ttxt_kafka.strategies.backtest import BacktestConfig

    venue = strategy.venues[0]
    trading = next((getattr(c, "trading", None) for c in pipeline.connectors
                    if getattr(c, "venue", None) == venue), None)
    if trading is None:
        base, _, quote = str(strategy.symbols[0]).partition("/")
        return BacktestConfig(balances={"*": {quote: Decimal(100_000), base: Decimal(1)}})
    paper = trading.paper
    return BacktestConfig(
        balances={venue: {asset: Decimal(qty) for asset, qty in paper.balances.items()}},
        fees={venue: FeeSchedule(Decimal(paper.maker_fee), Decimal(paper.taker_fee))})


def _previous_prefix(out_dir: Path) -> str | None:
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        return str(json.loads((out_dir / "run.json").read_text())["prefix"])
    return None


async def _delete_topics(bootstrap: str, prefix: str) -> None:
    """The previous demo's topics, its catalogue's too (the prefix is kept in <out>/run.json)."""
    from aiokafka.admin import AIOKafkaAdminClient

    from ..admin import list_topics
    from ..cluster import client_options

    topics = await list_topics(bootstrap, rf"^{re.escape(prefix)}(-catalogue)?\.")
    if not topics:
        return
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **client_options())
    await admin.start()
    try:
        await admin.delete_topics(topics)
    except Exception as exc:  # best effort: old demo topics only take disk space
        log.info("could not delete the previous demo's topics: %s", exc)
    finally:
        await admin.close()


def _relative(path: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(path.resolve().relative_to(Path.cwd()))
    return str(path)
