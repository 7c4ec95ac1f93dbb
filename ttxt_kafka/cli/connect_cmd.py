"""`ttxt connect CONFIG.yaml`: run the connectors a config names, into Kafka, until Ctrl-C.

    ttxt connect examples/binance.yaml                 # real exchange, local broker
    ttxt connect my.yaml --bootstrap 10.0.0.5:9092
    ttxt connect my.yaml --check                       # validate the config and exit

The file's `kafka.serialization` (format, schema_registry_url, ...) wins over TTXT_SERIALIZATION
and TTXT_SCHEMA_REGISTRY_*; `ttxt --serialization ... --schema-registry ... connect` over both.

SIGINT/SIGTERM stop it cleanly: sockets closed (DISCONNECTED status events), producer flushed.
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from .common import CliError, add_bootstrap_arg, resolve_bootstrap


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("connect", help="run exchange connectors from a YAML config into Kafka",
                       description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("config", metavar="CONFIG.yaml")
    add_bootstrap_arg(p)
    p.add_argument("--check", action="store_true",
                   help="validate the config, print what it would run, and exit")
    p.add_argument("--stats-interval", type=float, default=30.0, metavar="SECONDS",
                   help="log counters this often (0: never; default 30)")
    p.set_defaults(func=run)


def _final(lines: list[str]) -> None:
    """The final counters, on stop (Ctrl-C, SIGTERM) as on failure."""
    for line in lines:
        print(f"ttxt connect: {line}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    from ttxt_kafka.connectors.base.errors import ConnectorError
    from ttxt_kafka.connectors.config import ConfigError, load_config
    from ttxt_kafka.connectors.runner import run_to_kafka, topics_of
    from ttxt_kafka.gcpause import freeze_startup_heap

    try:
        config = load_config(args.config)
        # kafka.serialization over the environment (--serialization / --schema-registry win).
        framing = config.kafka.serialization.apply(args.config)
    except ConfigError as exc:
        print(f"ttxt: error: {exc}", file=sys.stderr)
        return 2
    if args.check:
        print(f"serialization: {framing.describe()}")
        for c in config.connectors:
            streams = [k for k, v in c.streams.model_dump().items() if v]
            trading = f" trading {c.trading.mode}" if c.trading is not None else ""
            print(f"{c.venue}: {', '.join(c.symbols)} [{', '.join(streams)}]{trading}")
        print("topics: " + ", ".join(topics_of(config)))
        return 0
    from aiokafka.errors import KafkaError

    bootstrap = args.bootstrap or config.kafka.bootstrap_servers or resolve_bootstrap(None)
    freeze_startup_heap()  # a long-running service: full collections skip the modules
    try:
        asyncio.run(run_to_kafka(config, bootstrap, stats_interval=args.stats_interval,
                                 on_stopped=_final))
    except ConnectorError as exc:
        raise CliError(str(exc)) from None
    except (KafkaError, ConnectionError) as exc:  # KafkaUnavailableError is a ConnectionError
        raise CliError(f"Kafka at {bootstrap}: {type(exc).__name__}: {exc}") from None
    except KeyboardInterrupt:
        return 130
    return 0
