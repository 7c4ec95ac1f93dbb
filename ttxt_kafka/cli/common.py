"""Helpers shared by subcommands."""

from __future__ import annotations

import argparse
import sys

from ..local_kafka import LocalKafka, bootstrap_from_env


class CliError(Exception):
    """A user-facing error: printed as one line, exit code 2."""


def add_bootstrap_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--bootstrap", metavar="HOST:PORT",
        help="Kafka bootstrap servers (default: KAFKA_BOOTSTRAP_SERVERS, else the broker "
             "started by `ttxt kafka start`)",
    )


def resolve_bootstrap(explicit: str | None) -> str:
    """--bootstrap, else KAFKA_BOOTSTRAP_SERVERS, else the running local broker."""
    if explicit:
        return explicit
    env = bootstrap_from_env()
    if env:
        return env
    local = LocalKafka().status()
    if local:
        return local
    raise CliError(
        "no Kafka broker: start one with `ttxt kafka start`, or set KAFKA_BOOTSTRAP_SERVERS "
        "(or pass --bootstrap)"
    )


def fail(message: str) -> int:
    print(f"ttxt: error: {message}", file=sys.stderr)
    return 2
