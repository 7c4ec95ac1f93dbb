"""`ttxt kafka start|status|stop`: the local Kafka broker, or the KAFKA_BOOTSTRAP_SERVERS one."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ttxt_kafka.local_kafka import (
    ENV_BOOTSTRAP,
    KafkaSetupError,
    LocalCluster,
    LocalKafka,
    bootstrap_from_env,
    cache_root,
    wait_for_broker,
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "kafka",
        help="start, inspect or stop the local Kafka broker",
        description=(
            "Run a single-node Apache Kafka broker on 127.0.0.1 (jars fetched once from Maven "
            "Central; needs Java 17+), or with `start --nodes 3` a local 3-node KRaft cluster "
            "(replication factor 3, min.insync.replicas=2) to try failover on one machine. "
            f"With {ENV_BOOTSTRAP} set, that cluster is used instead."
        ),
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--state-dir",
        type=Path,
        default=None,
        help="broker state (config, data, log, pid); default: <cache>/ttxt-kafka/run, "
             "for a cluster <cache>/ttxt-kafka/cluster (one node-<id> folder per node)",
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
    start.add_argument(
        "--nodes", type=int, default=1,
        help="1: a single broker (default); 3 (or more): a local KRaft cluster, each node a "
             "broker and a controller; prints the bootstrap list",
    )
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
        if args.nodes > 1 or (args.state_dir is not None
                              and LocalCluster.is_cluster_dir(args.state_dir)):
            if args.port is not None or args.controller_port is not None:
                raise KafkaSetupError("--port and --controller-port are for a single broker; a "
                                      "cluster picks free ports (kept across restarts)")
            cluster = LocalCluster(args.state_dir, nodes=max(args.nodes, 1))
            print(cluster.start(timeout=max(args.timeout, 180.0)))
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
    cluster = _cluster(args.state_dir)
    if cluster is not None:
        bootstrap = cluster.status()
        if bootstrap is None:
            running = sum(1 for pid in cluster.pids() if pid is not None)
            print(f"the local Kafka cluster is not running whole ({running} of "
                  f"{len(cluster.nodes)} nodes up; start it with `ttxt kafka start --nodes "
                  f"{len(cluster.nodes)}`)")
            return 1
        print(bootstrap)
        return 0
    bootstrap = LocalKafka(args.state_dir).status()
    if bootstrap is None:
        print("the local Kafka broker is not running (start it with `ttxt kafka start`)")
        return 1
    print(bootstrap)
    return 0


def _cluster(state_dir: Path | None) -> LocalCluster | None:
    """The local cluster `status`/`stop` mean: the one in `state_dir`, or without it the
    default one when it has nodes running and the single broker does not run."""
    if state_dir is not None:
        return LocalCluster(state_dir) if LocalCluster.is_cluster_dir(state_dir) else None
    default = cache_root() / "cluster"
    if not LocalCluster.is_cluster_dir(default):
        return None
    cluster = LocalCluster(default)
    if any(pid is not None for pid in cluster.pids()) and LocalKafka().pid() is None:
        return cluster
    return None


def _stop(args: argparse.Namespace) -> int:
    env = bootstrap_from_env()
    if env is not None:
        print(f"{ENV_BOOTSTRAP}={env} is in use: there is no local broker to stop")
        return 0
    cluster = _cluster(args.state_dir)
    if cluster is not None:
        try:
            pids = [p for p in cluster.pids() if p is not None]
            cluster.stop()
        except (KafkaSetupError, OSError) as exc:
            return _fail(exc)
        print(f"stopped {len(pids)} node(s) (pids {', '.join(map(str, pids))})" if pids
              else "the local Kafka cluster was not running")
        return 0
    kafka = LocalKafka(args.state_dir)
    try:
        pid = kafka.pid()
        kafka.stop()
    except (KafkaSetupError, OSError) as exc:
        return _fail(exc)
    print(f"stopped (pid {pid})" if pid is not None else "the local Kafka broker was not running")
    return 0
