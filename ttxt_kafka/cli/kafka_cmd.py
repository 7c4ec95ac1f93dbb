"""`ttxt kafka start|status|stop`: the local Kafka broker, or the KAFKA_BOOTSTRAP_SERVERS one."""

from __future__ import annotations

import argparse
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

from .local_service import ServiceCommands, fail


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


COMMANDS = ServiceCommands(
    name="local Kafka broker", short="local broker", command="kafka", env=ENV_BOOTSTRAP,
    from_env=bootstrap_from_env, wait=wait_for_broker, error=KafkaSetupError)


def _start(args: argparse.Namespace) -> int:
    def start_local() -> str:
        if args.nodes > 1 or (args.state_dir is not None
                              and LocalCluster.is_cluster_dir(args.state_dir)):
            if args.port is not None or args.controller_port is not None:
                raise KafkaSetupError("--port and --controller-port are for a single broker; a "
                                      "cluster picks free ports (kept across restarts)")
            cluster = LocalCluster(args.state_dir, nodes=max(args.nodes, 1))
            return cluster.start(timeout=max(args.timeout, 180.0))
        kafka = LocalKafka(args.state_dir, port=args.port, controller_port=args.controller_port)
        return kafka.start(timeout=args.timeout)

    return COMMANDS.start(args.timeout, start_local)


def _status(args: argparse.Namespace) -> int:
    found = COMMANDS.external_status()
    if found is not None:
        return found
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
    return COMMANDS.report(LocalKafka(args.state_dir).status())


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
    if COMMANDS.external_stop():
        return 0
    cluster = _cluster(args.state_dir)
    if cluster is not None:
        try:
            pids = [p for p in cluster.pids() if p is not None]
            cluster.stop()
        except (KafkaSetupError, OSError) as exc:
            return fail(exc)
        print(f"stopped {len(pids)} node(s) (pids {', '.join(map(str, pids))})" if pids
              else "the local Kafka cluster was not running")
        return 0
    return COMMANDS.stop(LocalKafka(args.state_dir))
