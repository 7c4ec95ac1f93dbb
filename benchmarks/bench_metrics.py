"""Metrics on the hot path: ttxt's metric children vs prometheus-client's metric objects.

Why `ttxt_kafka.metrics` keeps its own values and uses prometheus-client only to write the
text format: the bus and the strategies update a counter and a histogram per event, and
prometheus-client takes a lock on every update. Timed: one update of a labelled child already
looked up (what the bus holds), the same through ``.labels(...)`` each time, and one histogram
observation with the millisecond buckets. Median of ``BENCH_ROUNDS`` rounds (default 5).

Run: ``.venv/bin/python -m benchmarks.bench_metrics``.
"""

from __future__ import annotations

import statistics
import timeit
from collections.abc import Callable

from prometheus_client import CollectorRegistry
from prometheus_client import Counter as PromCounter
from prometheus_client import Histogram as PromHistogram

from benchmarks.common import rounds_from_env
from ttxt_kafka.metrics import LATENCY_MS_BUCKETS, Registry

N = 200_000


def _ns(fn: Callable[[], object], rounds: int) -> tuple[float, float]:
    """(median, spread %) of ns per call over the rounds."""
    per = [t / N * 1e9 for t in timeit.repeat(fn, number=N, repeat=rounds)]
    med = statistics.median(per)
    return med, (max(per) - min(per)) / 2 / med * 100


def main() -> None:
    rounds = rounds_from_env()
    ours = Registry()
    prom = CollectorRegistry()
    o_counter = ours.counter("x_total", "x", ["topic"])
    p_counter = PromCounter("x_total", "x", ["topic"], registry=prom)
    o_hist = ours.histogram("h_ms", "h", ["stage"], LATENCY_MS_BUCKETS)
    p_hist = PromHistogram("h_ms", "h", ["stage"], registry=prom, buckets=LATENCY_MS_BUCKETS)
    o_child, p_child = o_counter.labels("t"), p_counter.labels("t")
    o_h, p_h = o_hist.labels("decode"), p_hist.labels("decode")
    cases = [
        ("counter child .inc()", o_child.inc, p_child.inc),
        ("counter .labels(t).inc()", lambda: o_counter.labels("t").inc(),
         lambda: p_counter.labels("t").inc()),
        ("histogram child .observe(3.0)", lambda: o_h.observe(3.0), lambda: p_h.observe(3.0)),
    ]
    print(f"## Metrics updates (ns per call, median of {rounds} rounds of {N:,})\n")
    print("| operation | ttxt | prometheus-client | ratio |")
    print("|---|---:|---:|---:|")
    for name, o_fn, p_fn in cases:
        (o, o_s), (p, p_s) = _ns(o_fn, rounds), _ns(p_fn, rounds)
        print(f"| {name} | {o:,.0f} ±{o_s:.0f}% | {p:,.0f} ±{p_s:.0f}% | {p / o:.1f}x |")


if __name__ == "__main__":
    main()
