"""`ttxt run PIPELINE.yaml`: start what a pipeline file declares, until Ctrl-C or SIGTERM.

    ttxt run examples/pipeline_offline.yaml               # every service in this process
    ttxt run examples/pipeline_offline.yaml --processes   # one process per service
    ttxt run pipeline.yaml --service binance              # only that service (a container's job)
    ttxt run pipeline.yaml --check                        # validate, list the services, exit
    ttxt run pipeline.yaml --duration 60                  # stop by itself after a minute

Ctrl-C / SIGTERM stop every service cleanly: strategies first (their last commands delivered),
connectors (producers flushed), the recorder (last blocks written, offsets committed),
simulators. A second Ctrl-C stops at once.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from pathlib import Path
from typing import Any

from .common import CliError, add_bootstrap_arg, resolve_bootstrap

log = logging.getLogger("ttxt.run")


def register(sub: Any) -> None:
    p = sub.add_parser("run", help="start the services a pipeline file declares",
                       description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("pipeline", metavar="PIPELINE.yaml", type=Path)
    p.add_argument("--processes", action="store_true",
                   help="one process per service (default: all in this process)")
    p.add_argument("--service", action="append", metavar="NAME",
                   help="run only this service (repeatable)")
    p.add_argument("--check", action="store_true",
                   help="validate the pipeline, print its services and exit")
    p.add_argument("--duration", type=float, metavar="SECONDS",
                   help="stop cleanly after this long")
    p.add_argument("--probe", action="store_true",
                   help="with one --service: exit 0 if its /health says ok, else 1 (container "
                        "health checks; the port comes from the pipeline file)")
    add_bootstrap_arg(p)
    # Set by `--processes` for its children.
    p.add_argument("--simulator-port", action="append", default=[], help=argparse.SUPPRESS)
    p.add_argument("--parent-pid", type=int, help=argparse.SUPPRESS)
    p.add_argument("--ready-file", type=Path, help=argparse.SUPPRESS)
    p.set_defaults(func=run)


def _sim_ports(items: list[str]) -> dict[str, int]:
    out = {}
    for item in items:
        name, _, port = item.partition("=")
        out[name] = int(port)
    return out


def describe(pipeline: Any) -> list[str]:
    """One line per service: what it is, and where its metrics are."""
    lines = []
    ports = pipeline.metrics_ports()
    for kind, name in pipeline.service_names():
        port = ports.get(name)
        where = "" if port is None else f"  metrics :{port}" if port else "  metrics :any"
        lines.append(f"{kind:<10} {name}{where}")
    return lines


def run(args: argparse.Namespace) -> int:
    from ..pipeline.config import PipelineError, load_pipeline

    try:
        pipeline = load_pipeline(args.pipeline)
        if args.service:
            pipeline.only(args.service)
    except PipelineError as exc:
        print(f"ttxt: error: {exc}", file=sys.stderr)
        return 2
    if args.probe:
        return probe(pipeline, args.service)
    if args.check:
        print(f"{pipeline.name}: {len(pipeline.service_names())} services, topic prefix "
              f"{pipeline.topic_prefix}")
        for line in describe(pipeline):
            print("  " + line)
        return 0
    if args.service and len(args.service) == 1:
        _tag_log_lines(args.service[0])
    needs_kafka = bool(pipeline.connectors or pipeline.recorder or pipeline.strategies)
    bootstrap = None
    if needs_kafka:
        bootstrap = (args.bootstrap or pipeline.kafka.bootstrap_servers
                     or resolve_bootstrap(None))
    try:
        return asyncio.run(_main(args, pipeline, bootstrap))
    except KeyboardInterrupt:
        return 130


def probe(pipeline: Any, services: list[str] | None) -> int:
    """GET the service's /health on its metrics port; 0 if it answers 200."""
    import urllib.error
    import urllib.request

    if not services or len(services) != 1:
        raise CliError("--probe needs exactly one --service")
    port = pipeline.metrics_ports().get(services[0])
    if not port:
        raise CliError(f"service {services[0]} has no metrics_port to probe")
    host = "127.0.0.1" if pipeline.metrics_host in ("0.0.0.0", "::") else pipeline.metrics_host
    try:
        with urllib.request.urlopen(f"http://{host}:{port}/health", timeout=3) as resp:
            print(resp.read().decode())
            return 0
    except urllib.error.HTTPError as exc:
        print(exc.read().decode())
    except OSError as exc:
        print(f"{services[0]}: no answer on {host}:{port}: {exc}")
    return 1


def _print_summary(summaries: list[tuple[str, str]]) -> None:
    if not summaries:
        return
    width = max(len(label) for label, _ in summaries)
    print("ttxt run: summary", file=sys.stderr)
    for label, said in summaries:
        print(f"  {label:<{width}}  {said}", file=sys.stderr)
    sys.stderr.flush()


def _tag_log_lines(name: str) -> None:
    """A service's log lines carry its name (several share one terminal or log collector)."""
    fmt = logging.Formatter(f"%(asctime)s %(levelname)s [{name}] %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.setFormatter(fmt)


async def _main(args: argparse.Namespace, pipeline: Any, bootstrap: str | None) -> int:
    from ..pipeline.processes import run_processes, watch_parent
    from ..pipeline.runner import ServiceError, run_pipeline

    stop = asyncio.Event()
    main_task = asyncio.current_task()
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        if stop.is_set() and main_task is not None:
            log.warning("stopping at once")
            main_task.cancel()
            return
        log.info("stopping (again to stop at once)")
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, on_signal)
    guards = []
    if args.duration:
        guards.append(loop.call_later(args.duration, stop.set))
    watcher = (asyncio.ensure_future(watch_parent(args.parent_pid, stop))
               if args.parent_pid else None)
    runs: list[Any] = []
    try:
        if args.processes:
            return await run_processes(args.pipeline, pipeline, bootstrap, stop)
        # Relative data paths (the recorder's `out`) are from where ttxt runs, as with
        # `ttxt record --out`; `config:` references were resolved from the file's folder.
        def started(run: Any) -> None:
            runs.append(run)
            if args.ready_file is not None:  # the supervisor starts the next kind now
                args.ready_file.touch()

        await run_pipeline(pipeline, bootstrap, stop, base_dir=Path.cwd(),
                           only=args.service, sim_ports=_sim_ports(args.simulator_port),
                           on_started=started)
        return 0
    except ServiceError as exc:
        raise CliError(str(exc)) from None
    except (ValueError, OSError) as exc:  # no broker, a port in use, a locked directory
        raise CliError(f"{type(exc).__name__}: {exc}") from None
    except asyncio.CancelledError:
        return 130
    finally:
        for guard in guards:
            guard.cancel()
        if watcher is not None:
            watcher.cancel()
        for run in runs:  # what each service did (it also stops on a failure)
            _print_summary(run.summaries)
