"""`ttxt run --processes`: one child process per service, supervised by this one.

Each child is `ttxt run PIPELINE --service NAME` on the same file (same environment, so the same
`${VAR}` expansion; no resolved copy with secrets is written anywhere). They start kind after
kind as in one process — simulators, connectors, recorder, strategies — the next kind once each
child of the previous one says it has started (it creates its `--ready-file`). Simulators asked
for port 0 get a free port chosen here, passed to every child, so connectors in other processes
can reach them. Children run in their own session: a Ctrl-C in the terminal reaches only this
supervisor, which stops the children in the pipeline's stop order (strategies, connectors,
recorder, simulators), each group with SIGTERM, waiting for it to finish cleanly. A child that
exits on its own stops the rest the same way. Children stop by themselves if this process dies.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .. import serialization
from .config import Pipeline
from .runner import STOP_ORDER, ServiceError

log = logging.getLogger(__name__)

STOP_TIMEOUT = 60.0  # seconds a child gets to stop cleanly before it is killed


@dataclass
class Child:
    kind: str
    name: str
    proc: asyncio.subprocess.Process


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


async def _wait_started(child: Child, ready: Path, timeout: float = 120.0) -> None:
    """Until the child has started its service (it creates `ready` then, as `ttxt run` does
    for `--ready-file`), so the next kind starts after it, as in one process."""
    deadline = time.monotonic() + timeout
    while not ready.exists():
        if child.proc.returncode is not None:
            raise ServiceError(f"{child.kind} {child.name} exited with code "
                               f"{child.proc.returncode} while starting")
        if time.monotonic() > deadline:
            raise ServiceError(f"{child.kind} {child.name} not started after {timeout:.0f}s")
        await asyncio.sleep(0.05)


async def run_processes(path: Path, pipeline: Pipeline, bootstrap: str | None,
                        stop: asyncio.Event, extra: list[str] | None = None) -> int:
    """Start every service as a child, wait for `stop` or a child's exit, stop them all.
    Returns 0 when every child exited cleanly after a requested stop, else 1."""
    sim_ports = {s.service_name: s.port or free_port(s.host) for s in pipeline.simulators}
    common = [str(path), "--parent-pid", str(os.getpid()), *(extra or [])]
    if bootstrap:
        common += ["--bootstrap", bootstrap]
    for name, port in sim_ports.items():
        common += ["--simulator-port", f"{name}={port}"]
    children: list[Child] = []
    failed = False
    with tempfile.TemporaryDirectory(prefix="ttxt-run-") as tmp:
        try:
            # Kind after kind (simulators, connectors, recorder, strategies), each kind's
            # children together, the next kind once they have all started.
            for kind in dict.fromkeys(k for k, _ in pipeline.service_names()):
                group = []
                for name in (n for k, n in pipeline.service_names() if k == kind):
                    ready = Path(tmp) / f"{len(children)}.ready"
                    proc = await asyncio.create_subprocess_exec(
                        sys.executable, "-m", "ttxt_kafka.cli",
                        *serialization.command_line_args(), "run", *common, "--service",
                        name, "--ready-file", str(ready),
                        start_new_session=True)  # the terminal's Ctrl-C is ours to forward
                    child = Child(kind, name, proc)
                    children.append(child)
                    group.append((child, ready))
                    log.info("starting %s %s (pid %d)", kind, name, proc.pid)
                for child, ready in group:
                    await _wait_started(child, ready)
            failed = await _supervise(children, stop)
        finally:
            failed = not await _stop_children(children) or failed
    return 1 if failed else 0


async def _supervise(children: list[Child], stop: asyncio.Event) -> bool:
    """Until `stop`, or a child exits on its own (then True)."""
    failed = False
    exits = {asyncio.ensure_future(c.proc.wait()): c for c in children}
    stopper = asyncio.ensure_future(stop.wait())
    done, _ = await asyncio.wait([stopper, *exits], return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    for fut in done:
        if fut in exits:
            c = exits[fut]
            failed = True
            log.error("%s %s exited on its own (code %s): stopping the pipeline", c.kind,
                      c.name, c.proc.returncode)
    return failed


async def _stop_children(children: list[Child]) -> bool:
    """SIGTERM each group in stop order and wait; True if all exited with code 0."""
    clean = True
    for kind in STOP_ORDER:
        group = [c for c in children if c.kind == kind and c.proc.returncode is None]
        for c in group:
            with contextlib.suppress(ProcessLookupError):
                c.proc.send_signal(signal.SIGTERM)
        for c in group:
            try:
                await asyncio.wait_for(c.proc.wait(), STOP_TIMEOUT)
            except TimeoutError:
                log.error("%s %s did not stop within %.0fs: killed", c.kind, c.name, STOP_TIMEOUT)
                c.proc.kill()
                await c.proc.wait()
        for c in (c for c in children if c.kind == kind):
            if c.proc.returncode != 0:
                clean = False
                log.error("%s %s exited with code %s", c.kind, c.name, c.proc.returncode)
            else:
                log.info("stopped %s %s", c.kind, c.name)
    return clean


async def watch_parent(parent_pid: int, stop: asyncio.Event) -> None:
    """A child's guard: stop when the supervising process is gone (killed, crashed)."""
    while not stop.is_set():
        if os.getppid() != parent_pid:
            log.warning("the supervising process %d is gone: stopping", parent_pid)
            stop.set()
            return
        await asyncio.sleep(1.0)
