"""Run every ``benchmarks/bench_*.py`` module's ``main()`` in turn (``make bench``).

Usage: ``.bench-venv/bin/python benchmarks/run_all.py [NAME ...]`` — names filter by substring
(``run_all.py orderbook``). Knobs: ``BENCH_ROUNDS`` (default 5), ``BENCH_GC=1`` (keep the garbage
collector on while timing), and per-bench ones such as ``BENCH_DELTAS`` (default 20000) and
``BENCH_CODEC_EVENTS`` (default 10000).
Exits non-zero if any benchmark raised, after running the others.
"""

from __future__ import annotations

import importlib
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Run as a script, so make the repo root importable for ``benchmarks.*`` (and, through the
# editable install, ``ttxt_kafka``).
if str(HERE.parent) not in sys.path:
    sys.path.insert(0, str(HERE.parent))


def discover(filters: list[str]) -> list[str]:
    names = sorted(p.stem for p in HERE.glob("bench_*.py"))
    return [n for n in names if not filters or any(f in n for f in filters)]


def main(argv: list[str] | None = None) -> int:
    from benchmarks.common import environment, rounds_from_env

    env = environment()
    print("# ttxt-kafka benchmarks\n")
    print(
        f"Python {env['python']} on {env['platform']}, {env['cpus']} CPUs; "
        + ", ".join(f"{k} {v or 'missing'}" for k, v in env["versions"].items())
        + f"; BENCH_ROUNDS={rounds_from_env()}"
    )
    failed: list[str] = []
    for name in discover(sys.argv[1:] if argv is None else argv):
        t0 = time.perf_counter()
        try:
            importlib.import_module(f"benchmarks.{name}").main()
        except Exception:  # keep going: one broken bench must not hide the others' numbers
            traceback.print_exc()
            failed.append(name)
        print(f"\n({name}: {time.perf_counter() - t0:.1f} s)", flush=True)
    if failed:
        print(f"\nFAILED: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
