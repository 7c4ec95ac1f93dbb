"""The `ttxt` command line.

Each subcommand lives in its own module under `ttxt_kafka/cli/` and exposes
`register(subparsers)`, which adds its parser and sets `func` to a callable
taking the parsed arguments and returning an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

# Modules that contribute subcommands, in the order `ttxt --help` lists them.
COMMAND_MODULES = [
    "ttxt_kafka.cli.kafka_cmd",
    "ttxt_kafka.cli.registry_cmd",
    "ttxt_kafka.cli.topics_cmd",
    "ttxt_kafka.cli.tail_cmd",
    "ttxt_kafka.cli.demo_cmd",
    "ttxt_kafka.cli.simulate_cmd",
    "ttxt_kafka.cli.connect_cmd",
    "ttxt_kafka.cli.strategy_cmd",
    "ttxt_kafka.cli.record_cmd",
    "ttxt_kafka.cli.files_cmd",
    "ttxt_kafka.cli.replay_cmd",
    "ttxt_kafka.cli.export_cmd",
    "ttxt_kafka.cli.backtest_cmd",
    "ttxt_kafka.cli.order_cmd",
    "ttxt_kafka.cli.run_cmd",
    "ttxt_kafka.cli.top_cmd",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ttxt", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log at DEBUG level")
    parser.add_argument(
        "--serialization", choices=("single-object", "confluent"), default=None,
        help="how records are framed on Kafka (default: TTXT_SERIALIZATION, else "
             "single-object); every consumer reads both")
    parser.add_argument(
        "--schema-registry", metavar="URL", default=None,
        help="Confluent-compatible schema registry (default: TTXT_SCHEMA_REGISTRY_URL; "
             "`ttxt registry start` prints the local one)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # aiokafka narrates every group join and coordinator change; keep it for -v.
    logging.getLogger("aiokafka").setLevel(logging.INFO if args.verbose else logging.ERROR)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    from .common import CliError, fail

    try:
        _configure_serialization(args)
        return int(args.func(args) or 0)
    except CliError as exc:
        return fail(str(exc))
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        why = _unreachable(exc)
        if why is None:
            raise
        return fail(why)


def _unreachable(exc: Exception) -> str | None:
    """A command whose Kafka client could not reach the broker: one line, not a traceback
    (aiokafka's KafkaConnectionError out of a bare `start()`; it names the address)."""
    from aiokafka.errors import KafkaConnectionError

    if not isinstance(exc, KafkaConnectionError):
        return None
    return (f"Kafka is not reachable ({exc}). Start a local broker with `ttxt kafka start`, "
            "or set KAFKA_BOOTSTRAP_SERVERS.")


def _configure_serialization(args: argparse.Namespace) -> None:
    """--serialization / --schema-registry over the environment; the confluent setting with no
    registry URL anywhere takes the local registry `ttxt registry start` runs, as commands take
    the local broker without KAFKA_BOOTSTRAP_SERVERS (`ttxt demo` starts it, as it starts Kafka)."""
    import os

    from .. import serialization
    from .common import CliError

    # `ttxt connect` and `ttxt run` read a file whose kafka.serialization may name the registry.
    reads_file = args.command in ("connect", "run")
    fmt = args.serialization or os.environ.get("TTXT_SERIALIZATION", "").strip()
    url = args.schema_registry or os.environ.get("TTXT_SCHEMA_REGISTRY_URL", "").strip()
    if fmt == serialization.CONFLUENT and not url and args.command != "registry":
        from ..local_registry import LocalRegistry, RegistrySetupError

        if args.command == "demo":  # the demo starts what it needs, the registry as Kafka
            try:
                url = LocalRegistry().start()
            except RegistrySetupError as exc:
                raise CliError(str(exc)) from None
        else:
            url = LocalRegistry().status() or ""
        if not url and not reads_file:
            raise CliError("the confluent serialization needs a schema registry: set "
                           "TTXT_SCHEMA_REGISTRY_URL or --schema-registry, or start the local "
                           "one with `ttxt registry start`")
        if url:
            # As if the environment named it: a config file's URL (`ttxt connect`, a pipeline)
            # still wins; processes this command starts inherit it.
            os.environ["TTXT_SCHEMA_REGISTRY_URL"] = url
    if args.serialization or args.schema_registry:
        try:
            serialization.configure_command_line(
                format=args.serialization, registry_url=args.schema_registry,
                complete=not reads_file)
        except serialization.SerializationError as exc:
            raise CliError(str(exc)) from None
        # Processes this command starts (`ttxt run --processes`) inherit the same setting.
        if args.serialization:
            os.environ["TTXT_SERIALIZATION"] = args.serialization
        if args.schema_registry:
            os.environ["TTXT_SCHEMA_REGISTRY_URL"] = args.schema_registry


if __name__ == "__main__":
    sys.exit(main())
