"""`ttxt strategy run MODULE:Class`: run a strategy as a Kafka consumer group until Ctrl-C.

    ttxt strategy run strategies.examples.spread_monitor:SpreadMonitor --venue binance
    ttxt strategy run strategies.examples.market_maker:MarketMaker --venue binance \\
        --symbol BTC/USDT --param spread_bps=8 --param size=0.001 --metrics-port 9108

Start the same command twice (same --group) and the two instances split the symbols.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from typing import Any

from .common import CliError, add_bootstrap_arg, resolve_bootstrap


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("strategy", help="run a strategy as a Kafka consumer group",
                              description=__doc__.splitlines()[0] if __doc__ else None)
    sub = p.add_subparsers(dest="action", metavar="ACTION", required=True)
    r = sub.add_parser("run", help="run MODULE:Class until Ctrl-C or SIGTERM")
    r.add_argument("target", metavar="MODULE:Class",
                   help="e.g. strategies.examples.market_maker:MarketMaker or my_file.py:Mine")
    r.add_argument("--group", help="consumer group id (default: strategy.<module>.<Class>); "
                                   "instances with the same group split the symbols")
    r.add_argument("--venue", action="append", default=[], metavar="V",
                   help="venue to read (repeatable; default: the class's `venues`)")
    r.add_argument("--symbol", action="append", default=[], metavar="S",
                   help="symbol to keep, e.g. BTC/USDT (repeatable; default: the class's)")
    r.add_argument("--channel", action="append", default=[], metavar="C",
                   help="channel to read: book, trades, klines, bbo, status, executions, "
                        "account (repeatable; default: the class's `channels`)")
    r.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="set a strategy parameter (repeatable)")
    r.add_argument("--prefix", default="ttxt", help="topic prefix (default ttxt)")
    r.add_argument("--from-beginning", action="store_true",
                   help="a new group starts at the topics' beginning (default: their end)")
    r.add_argument("--snapshot-interval", type=float, default=60.0, metavar="SECONDS",
                   help="the connectors' periodic snapshot interval; books are rebuilt from "
                        "snapshots up to twice this far back (default 60)")
    r.add_argument("--run-id", help="fixed run id in generated order ids (default random)")
    r.add_argument("--metrics-port", type=int, metavar="PORT",
                   help="serve /metrics and /health on this port (0: any free port)")
    r.add_argument("--metrics-host", default="127.0.0.1",
                   help="address to serve metrics on (0.0.0.0 in a container)")
    add_bootstrap_arg(r)
    r.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ttxt_kafka.gcpause import freeze_startup_heap
    from ttxt_kafka.strategies.app import run_strategy
    from ttxt_kafka.strategies.loader import LoadError, build, parse_params
    from ttxt_kafka.strategies.strategy import ParamError
    from ttxt_kafka.strategies.subscription import SubscriptionError

    try:
        params: dict[str, Any] = parse_params(args.param)
        for name, values in (("venues", args.venue), ("symbols", args.symbol),
                             ("channels", args.channel)):
            if values:
                params[name] = values
        strategy = build(args.target, params)
    except (LoadError, ParamError) as exc:
        raise CliError(str(exc)) from exc
    bootstrap = resolve_bootstrap(args.bootstrap)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await run_strategy(strategy, bootstrap=bootstrap, group=args.group, prefix=args.prefix,
                           from_beginning=args.from_beginning, run_id=args.run_id,
                           snapshot_interval=args.snapshot_interval,
                           metrics_port=args.metrics_port, metrics_host=args.metrics_host,
                           stop=stop)

    freeze_startup_heap()  # a long-running service: full collections skip the modules
    try:
        asyncio.run(main())
    except (SubscriptionError, ValueError) as exc:
        raise CliError(str(exc)) from exc
    return 0
