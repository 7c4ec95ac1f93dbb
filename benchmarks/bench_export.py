"""Parquet export rate: `ttxt export` over recorded files of the simulator's synthetic market
(10-50 level book deltas and trades), events/s and rows/s, median of several rounds.

    .venv/bin/python benchmarks/bench_export.py [--steps N] [--rounds R]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from backtest_helpers import record_files, synthetic_market  # noqa: E402

from ttxt_kafka.replayer.parquet import export_parquet  # noqa: E402


def main(argv: list[str] | None = None) -> None:
    """`run_all.py` calls main() with no arguments: the defaults."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv or [])
    with tempfile.TemporaryDirectory() as tmp:
        files = record_files(synthetic_market(steps=args.steps), Path(tmp) / "files")
        rates, row_rates = [], []
        for i in range(args.rounds):
            stats = export_parquet(files, Path(tmp) / f"out{i}")
            rates.append(stats.rate)
            row_rates.append(sum(stats.rows.values()) / stats.seconds)
        print(f"export: {stats.events:,} events -> {dict(stats.rows)} rows; "
              f"median {statistics.median(rates):,.0f} events/s, "
              f"{statistics.median(row_rates):,.0f} rows/s over {args.rounds} rounds")


if __name__ == "__main__":
    main(sys.argv[1:])
