"""`ttxt kafka start|status|stop`: the local Kafka broker, or the KAFKA_BOOTSTRAP_SERVERS one."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ttxt_kafka.local_kafka import (
    ENV_BOOTSTRAP,
    KafkaSetupError,
    LocalKafka,
    bootstrap_from_env,
    wait_for_broker,
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "kafka",
        help="start, inspect or stop the local Kafka broker",
        description=(
            "Run a single-node Apache Kafka broker on 127.0.0.1 (jars fetched once from Maven "
            f"Central; needs Java 17+). With {ENV_BOOTSTRAP} set, that cluster is used instead."
        ),
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="broker state (config, data, log, pid); default: <cache>/ttxt-kafka/run",
    )
    actions = parser.add_subparsers(dest="kafka_action", metavar="ACTION", required=True)

    start = actions.add_parser(
        "start", help="start the broker (or find it running); print its address",
        parents=[common],
    )
    start.add_argument("--port", type=int, default=None, help="client port (default: a free one)")
    start.add_argument(
        "--controller-port", type=int, default=None, help="KRaft controller port (default: free)"
    )
    start.add_argument("--timeout", type=float, default=120.0, help="seconds to wait for it")
    start.set_defaults(func=_start)

    status = actions.add_parser(
        "status", help="print the address if it answers (exit 0), else exit 1",
        parents=[common],
    )
    status.set_defaults(func=_status)

    stop = actions.add_parser("stop", help="stop the local broker", parents=[common])
    stop.set_defaults(func=_stop)


def _fail(exc: Exception) -> int:
    # One line, no traceback: the message already says what to do.
    print(f"ttxt: error: {' '.join(str(exc).split())}", file=sys.stderr)
    return 2


def _start(args: argparse.Namespace) -> int:
    env = bootstrap_from_env()
    try:
        if env is not None:
            try:
                wait_for_broker(env, timeout=args.timeout)
            except KafkaSetupError as exc:
                raise KafkaSetupError(f"{ENV_BOOTSTRAP} is set: {exc}") from None
            print(env)
            return 0
        kafka = LocalKafka(args.state_dir, port=args.port, controller_port=args.controller_port)
        print(kafka.start(timeout=args.timeout))
    except (KafkaSetupError, OSError) as exc:
        return _fail(exc)
    return 0


def _status(args: argparse.Namespace) -> int:
    env = bootstrap_from_env()
    if env is not None:
        try:
            wait_for_broker(env, timeout=5.0)
        except KafkaSetupError as exc:
            print(f"not reachable: {ENV_BOOTSTRAP}={env} ({exc})")
            return 1
        print(env)
        return 0
    bootstrap = LocalKafka(args.state_dir).status()
    if bootstrap is None:
        print("the local Kafka broker is not running (start it with `ttxt kafka start`)")
        return 1
    print(bootstrap)
    return 0


def _stop(args: argparse.Namespace) -> int:
    env = bootstrap_from_env()
    if env is not None:
        print(f"{ENV_BOOTSTRAP}={env} is in use: there is no local broker to stop")
        return 0
    kafka = LocalKafka(args.state_dir)
    try:
        pid = kafka.pid()
        kafka.stop()
    except (KafkaSetupError, OSError) as exc:
        return _fail(exc)
    print(f"stopped (pid {pid})" if pid is not None else "the local Kafka broker was not running")
    return 0
