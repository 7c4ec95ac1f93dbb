"""Helpers shared by subcommands."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Coroutine
from typing import Any, TypeVar

from ..bootstrap import NoBrokerError, bootstrap_servers

T = TypeVar("T")


class CliError(Exception):
    """A user-facing error: printed as one line, exit code 2."""


def add_bootstrap_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--bootstrap", metavar="HOST:PORT",
        help="Kafka bootstrap servers (default: KAFKA_BOOTSTRAP_SERVERS, else the broker "
             "started by `ttxt kafka start`)",
    )


def resolve_bootstrap(explicit: str | None) -> str:
    """--bootstrap, else KAFKA_BOOTSTRAP_SERVERS, else the running local broker (the same
    helper the examples use: `ttxt_kafka.bootstrap.bootstrap_servers`)."""
    try:
        return bootstrap_servers(explicit)
    except NoBrokerError as exc:
        raise CliError(str(exc)) from None


def fail(message: str) -> int:
    print(f"ttxt: error: {message}", file=sys.stderr)
    return 2


async def until_stopped(work: Coroutine[Any, Any, T]) -> tuple[T | None, int]:
    """Run `work` until it ends or Ctrl-C (SIGINT) / SIGTERM: (its result, 0), or (None, the
    signal's number) when a signal stopped it.

    The signal cancels the work from the event loop, between two callbacks. asyncio.run's own
    SIGINT handler cancels the main task from inside whatever Python code is running, e.g.
    aiokafka decoding the answer to a request the task awaits (offsets, metadata): the request's
    future is cancelled between aiokafka's done() check and its set_result, which then raises
    InvalidStateError, logged with a traceback by aiokafka.conn (0.12 to 0.14). SIGTERM would
    otherwise end the process at once, its consumers not closed."""
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    assert task is not None
    stopped_by = 0

    def stop(signum: int) -> None:
        nonlocal stopped_by
        stopped_by = signum
        task.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not on Windows
            loop.add_signal_handler(sig, stop, int(sig))
    try:
        return await work, 0
    except asyncio.CancelledError:
        if not stopped_by:
            raise
        return None, stopped_by
