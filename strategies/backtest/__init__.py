"""Backtests: a strategy over recorded history, against the simulator's matching engine.

In one process, no Kafka needed: the recorded market feeds each venue's matching engine and
the strategy, the strategy's commands are validated and matched, and what the engine reports
comes back to the strategy as the events a venue's private stream gives (OrderAck, OrderUpdate,
Fill, Wallet, PositionUpdate) — on the exchange clock, deterministically.

    from ttxt_kafka.strategies.backtest import BacktestConfig, file_events, run_backtest
    from ttxt_kafka.strategies.examples.market_maker import MarketMaker

    report = await run_backtest(
        MarketMaker(spread_bps="4"), file_events("data/", symbols=["BTC/USDT"]),
        BacktestConfig(balances={"*": {"USDT": Decimal(10_000), "BTC": Decimal(1)}}),
        out_dir=Path("backtests/mm"))
    print(report.text())

Or `ttxt backtest MODULE:Class --files DIR ...` (see `ttxt backtest --help`).

Layout: `config` (settings and their CLI forms), `sources` (files, Kafka topics), `runner`
(the loop and its clock), `venue` (one venue's engine, validation, reports), `liquidity` (the
recorded book as the engine's external liquidity), `instruments` (whose rules orders are
checked against), `ledger` (exact PnL), `tracker` (what the report needs over time), `report`
(files and summary), `chart` (the PNG).
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable
from pathlib import Path

from ttxt_kafka.events import Event
from ttxt_kafka.strategies.strategy import Strategy

from .config import BacktestConfig, ConfigError
from .report import BacktestReport, build_report, write_report
from .runner import Backtest, BacktestError, BacktestStats
from .sources import file_events, kafka_events


async def run_backtest(strategy: Strategy, events: Iterable[Event] | AsyncIterable[Event],
                       config: BacktestConfig | None = None, *, out_dir: Path | None = None,
                       charts: bool = True, name: str = "",
                       params: dict[str, str] | None = None) -> BacktestReport:
    """Run the strategy over the events; with `out_dir`, write the report files there."""
    backtest = Backtest(strategy, config)
    await backtest.run(events)
    report = build_report(backtest, name, params)
    if out_dir is not None:
        write_report(backtest, report, out_dir, charts=charts)
    return report


__all__ = [
    "Backtest",
    "BacktestConfig",
    "BacktestError",
    "BacktestReport",
    "BacktestStats",
    "ConfigError",
    "build_report",
    "file_events",
    "kafka_events",
    "run_backtest",
    "write_report",
]
