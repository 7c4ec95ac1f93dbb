"""Helpers shared by subcommands."""

from __future__ import annotations

import argparse
import sys

from ..bootstrap import NoBrokerError, bootstrap_servers


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
