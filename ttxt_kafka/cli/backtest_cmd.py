"""`ttxt backtest MODULE:Class`: a strategy over recorded history, against the matching engine.

    ttxt backtest strategies.examples.market_maker:MarketMaker --files data/ \\
        --symbol BTC/USDT --param spread_bps=4 --balance USDT=10000 --balance BTC=0.5 \\
        --fees 0.0002,0.0005 --out backtests/mm
    ttxt backtest my_strategy.py:Mine --topics '^ttxt\\.replay\\.run1\\.' --since 2024-05-01

In one process (no Kafka for --files), deterministic: the same input gives the same fills.
Prints a summary and writes fills.csv, equity.csv, summary.json and a PNG chart per symbol.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from .common import CliError, add_bootstrap_arg, resolve_bootstrap


def register(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "backtest", help="run a strategy over recorded files or replay topics",
        description="Replay recorded market data (--files DIR, or Kafka topics with --topics "
                    "REGEX) through the simulator's matching engine and a strategy, in one "
                    "process and on the exchange clock; print a summary and write a report "
                    "(fills, PnL over time, chart). Times: ISO 8601 (UTC unless a zone is "
                    "given) or seconds / ms / µs since the epoch.")
    p.add_argument("target", metavar="MODULE:Class",
                   help="e.g. strategies.examples.market_maker:MarketMaker or my_file.py:Mine")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--files", type=Path, metavar="DIR", help="a recorder directory")
    src.add_argument("--topics", metavar="REGEX",
                     help="Kafka topics to read instead, e.g. replay topics "
                          r"'^ttxt\.replay\.RUN\.' (from --since, default the beginning)")
    p.add_argument("--since", metavar="T", help="from this exchange time on (inclusive)")
    p.add_argument("--until", metavar="T", help="up to this exchange time (exclusive)")
    p.add_argument("--venue", action="append", default=[], metavar="V",
                   help="venue to trade and read (repeatable; default: the strategy's)")
    p.add_argument("--symbol", action="append", default=[], metavar="S",
                   help="symbol, BASE/QUOTE (repeatable; default: the strategy's)")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                   help="set a strategy parameter (repeatable)")
    p.add_argument("--balance", action="append", default=[], metavar="[VENUE:]ASSET=QTY",
                   help="starting balance (repeatable; default: 100000 of each quote asset)")
    p.add_argument("--fees", action="append", default=[], metavar="[VENUE:]MAKER,TAKER",
                   help="fee rates, e.g. 0.0002,0.0005 (default: the venue's regular tier)")
    p.add_argument("--market", action="append", default=[], metavar="VENUE=spot|linear",
                   help="how a venue settles (default: linear for *_usdm / *_linear, else "
                        "spot)")
    p.add_argument("--instrument", action="append", default=[],
                   metavar="[VENUE:]BASE/QUOTE:tick=..,lot=..",
                   help="order rules (also min_qty, max_qty, min_notional); default: recorded "
                        "InstrumentInfo, else inferred from the data")
    p.add_argument("--latency-ms", default="5", metavar="MS",
                   help="order arrival delay in exchange time (default 5)")
    p.add_argument("--report-latency-ms", default="0", metavar="MS",
                   help="delay of acks, fills and account updates back to the strategy "
                        "(default 0)")
    p.add_argument("--fill-on-touch", action="store_true",
                   help="a market trade AT a resting order's price fills it (default: only "
                        "trades through it; the queue ahead is unknown)")
    p.add_argument("--leverage", default="1", metavar="N", help="linear venues (default 1)")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="report directory (default backtests/<Class>-<UTC time>)")
    p.add_argument("--no-chart", action="store_true", help="do not draw the PNG charts")
    p.add_argument("--skip-corrupt", action="store_true",
                   help="skip corrupted file blocks instead of stopping")
    add_bootstrap_arg(p)
    p.set_defaults(func=run)


def _us(text: str, what: str) -> int:
    try:
        value = Decimal(text) * 1000
    except InvalidOperation:
        raise CliError(f"{what} {text!r}: give milliseconds, e.g. 5 or 0.5") from None
    if not value.is_finite() or value < 0:
        raise CliError(f"{what} {text!r}: give a non-negative number of milliseconds")
    return int(value)


def _config(args: argparse.Namespace, venues: list[str]) -> Any:
    from ttxt_kafka.matching import FeeSchedule, MarketKind
    from ttxt_kafka.strategies.backtest.config import (
        BacktestConfig,
        parse_balance,
        parse_fees,
        parse_instrument,
        parse_market,
    )

    balances: dict[str, dict[str, Decimal]] = {}
    fees: dict[str, FeeSchedule] = {}
    markets: dict[str, MarketKind] = {}
    for text in args.balance:
        parse_balance(text, balances)
    for text in args.fees:
        parse_fees(text, fees)
    for text in args.market:
        parse_market(text, markets)
    try:
        leverage = Decimal(args.leverage)
    except InvalidOperation:
        raise CliError(f"--leverage {args.leverage!r} is not a number") from None
    config = BacktestConfig(balances=balances, fees=fees, markets=markets,
                            latency_us=_us(args.latency_ms, "--latency-ms"),
                            report_latency_us=_us(args.report_latency_ms,
                                                  "--report-latency-ms"),
                            fill_on_touch=args.fill_on_touch, leverage=leverage)
    default_venue = venues[0] if len(venues) == 1 else None
    config.instruments = [parse_instrument(text, default_venue, config)
                          for text in args.instrument]
    return config


def run(args: argparse.Namespace) -> int:
    from ttxt_kafka.bus import KafkaUnavailableError
    from ttxt_kafka.replayer import CorruptBlockError, parse_time
    from ttxt_kafka.strategies.backtest import (
        BacktestError,
        ConfigError,
        file_events,
        kafka_events,
        run_backtest,
    )
    from ttxt_kafka.strategies.loader import LoadError, build, parse_params
    from ttxt_kafka.strategies.strategy import ParamError

    try:
        raw_params = parse_params(args.param)
        params: dict[str, Any] = dict(raw_params)
        if args.venue:
            params["venues"] = args.venue
        if args.symbol:
            params["symbols"] = args.symbol
        strategy = build(args.target, params)
        since = parse_time(args.since) if args.since else None
        until = parse_time(args.until) if args.until else None
        if since is not None and until is not None and until <= since:
            raise CliError("--until must be after --since")
        venues, symbols = list(strategy.venues), list(strategy.symbols)
        config = _config(args, venues)
    except (LoadError, ParamError, ConfigError, ValueError) as exc:
        raise CliError(str(exc)) from exc

    name = type(strategy).__name__
    out = args.out or Path("backtests") / f"{name}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}"
    if args.files is not None:
        if not args.files.is_dir():
            raise CliError(f"no recorder directory {args.files}")
        events = file_events(args.files, venues=venues, symbols=symbols, since=since,
                             until=until, skip_corrupt=args.skip_corrupt)
        where = str(args.files)
    else:
        events = kafka_events(resolve_bootstrap(args.bootstrap), args.topics, venues=venues,
                              symbols=symbols, since=since, until=until)
        where = f"topics /{args.topics}/"
    print(f"ttxt backtest: {name} over {where}"
          + (f" ({', '.join(venues)}" + (f" {', '.join(symbols)}" if symbols else "") + ")"
             if venues else ""), file=sys.stderr, flush=True)
    started = time.perf_counter()
    try:
        report = asyncio.run(run_backtest(strategy, events, config, out_dir=out,
                                          charts=not args.no_chart, name=args.target,
                                          params=raw_params))
    except (BacktestError, CorruptBlockError, KafkaUnavailableError, FileNotFoundError) as exc:
        raise CliError(str(exc)) from exc
    print(report.text())
    elapsed = time.perf_counter() - started
    rate = report.stats.events / elapsed if elapsed > 0 else 0.0
    print(f"ttxt backtest: {report.stats.events:,} events in {elapsed:.1f}s ({rate:,.0f}/s)",
          file=sys.stderr)
    return 0
