"""`ttxt registry start|status|stop`: the local schema registry (Apicurio), or the
TTXT_SCHEMA_REGISTRY_URL one."""

from __future__ import annotations

import argparse
from pathlib import Path

from ttxt_kafka.local_registry import (
    ENV_URL,
    LocalRegistry,
    RegistrySetupError,
    url_from_env,
    wait_for_registry,
)

from .local_service import ServiceCommands


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "registry",
        help="start, inspect or stop the local schema registry",
        description=(
            "Run Apicurio Registry on 127.0.0.1 (built once from Maven Central; needs Java 17+ "
            "and Maven), the schema registry of the `confluent` serialization. `start` prints "
            "its Confluent-compatible URL (.../apis/ccompat/v7): give it to "
            f"TTXT_SERIALIZATION=confluent as {ENV_URL}. With {ENV_URL} set, that registry "
            "is used instead."
        ),
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--state-dir", type=Path, default=None,
                        help="registry state (H2 data, log, pid, port); default: "
                             "<cache>/ttxt-kafka/registry-run")
    actions = parser.add_subparsers(dest="registry_action", metavar="ACTION", required=True)
    start = actions.add_parser("start", parents=[common],
                               help="start the registry (or find it running); print its URL")
    start.add_argument("--port", type=int, default=None, help="HTTP port (default: a free one)")
    start.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for it")
    start.set_defaults(func=_start)
    status = actions.add_parser("status", parents=[common],
                                help="print the URL if it answers (exit 0), else exit 1")
    status.set_defaults(func=_status)
    stop = actions.add_parser("stop", parents=[common], help="stop the local registry")
    stop.set_defaults(func=_stop)


COMMANDS = ServiceCommands(
    name="local schema registry", short="local registry", command="registry", env=ENV_URL,
    from_env=url_from_env, wait=wait_for_registry,
    error=RegistrySetupError, show_env_value=False)


def _start(args: argparse.Namespace) -> int:
    registry = LocalRegistry(args.state_dir, port=args.port)
    return COMMANDS.start(args.timeout, lambda: registry.start(timeout=args.timeout))


def _status(args: argparse.Namespace) -> int:
    found = COMMANDS.external_status()
    return found if found is not None else COMMANDS.report(LocalRegistry(args.state_dir).status())


def _stop(args: argparse.Namespace) -> int:
    if COMMANDS.external_stop():
        return 0
    return COMMANDS.stop(LocalRegistry(args.state_dir))
