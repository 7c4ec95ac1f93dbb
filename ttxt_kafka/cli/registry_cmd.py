"""`ttxt registry start|status|stop`: the local schema registry (Apicurio), or the
TTXT_SCHEMA_REGISTRY_URL one."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ttxt_kafka.local_registry import (
    ENV_URL,
    LocalRegistry,
    RegistrySetupError,
    url_from_env,
    wait_for_registry,
)


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


def _fail(exc: Exception) -> int:
    print(f"ttxt: error: {' '.join(str(exc).split())}", file=sys.stderr)
    return 2


def _start(args: argparse.Namespace) -> int:
    env = url_from_env()
    try:
        if env is not None:
            try:
                wait_for_registry(env, timeout=args.timeout)
            except RegistrySetupError as exc:
                raise RegistrySetupError(f"{ENV_URL} is set: {exc}") from None
            print(env)
            return 0
        print(LocalRegistry(args.state_dir, port=args.port).start(timeout=args.timeout))
    except (RegistrySetupError, OSError) as exc:
        return _fail(exc)
    return 0


def _status(args: argparse.Namespace) -> int:
    env = url_from_env()
    if env is not None:
        try:
            wait_for_registry(env, timeout=5.0)
        except RegistrySetupError as exc:
            print(f"not reachable: {ENV_URL}={env} ({exc})")
            return 1
        print(env)
        return 0
    url = LocalRegistry(args.state_dir).status()
    if url is None:
        print("the local schema registry is not running (start it with `ttxt registry start`)")
        return 1
    print(url)
    return 0


def _stop(args: argparse.Namespace) -> int:
    if url_from_env() is not None:
        print(f"{ENV_URL} is in use: there is no local registry to stop")
        return 0
    registry = LocalRegistry(args.state_dir)
    try:
        pid = registry.pid()
        registry.stop()
    except (RegistrySetupError, OSError) as exc:
        return _fail(exc)
    print(f"stopped (pid {pid})" if pid is not None
          else "the local schema registry was not running")
    return 0
