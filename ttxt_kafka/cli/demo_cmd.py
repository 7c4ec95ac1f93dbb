"""`ttxt demo`: the offline demo (what `make demo` runs)."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "demo", help="run the offline pipeline demo against a real local Kafka broker",
        description="Synthetic Binance and Bybit markets, their connectors, the recorder and "
                    "the example strategies (market maker on paper) for a minute, then the "
                    "recorded files replayed and checked, and a summary.")
    p.add_argument("--seconds", type=float, default=60.0,
                   help="how long the pipeline runs (default 60)")
    p.add_argument("--out", type=Path, default=Path("demo-out"), metavar="DIR",
                   help="where the recorded files and logs go (emptied first; default demo-out)")
    p.add_argument("--pipeline", type=Path, metavar="PIPELINE.yaml",
                   help="another offline pipeline (default examples/pipeline_offline.yaml)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ..demo import run_demo
    from .common import until_stopped

    # Ctrl-C and SIGTERM alike: the pipeline's services stopped and closed, exit 130 / 143
    return run_demo(args.seconds, args.out, args.pipeline, until=until_stopped)
