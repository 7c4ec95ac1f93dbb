"""Timing, tables and result files shared by every ``bench_*.py`` module.

A benchmark times each library on the same input in one process run, and reports medians of
several rounds plus the spread, and ratios against a named baseline (the seed, by default), so
the numbers are comparable across machines only as ratios.
"""

from __future__ import annotations

import gc
import json
import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Generic, TypeVar

T = TypeVar("T")

RESULTS_DIR = Path(__file__).resolve().parent / "results"
DEFAULT_ROUNDS = 5


def rounds_from_env(default: int = DEFAULT_ROUNDS) -> int:
    """Number of timed rounds: ``BENCH_ROUNDS`` (>= 1), else ``default``."""
    raw = os.environ.get("BENCH_ROUNDS", "").strip()
    if not raw:
        return default
    try:
        n = int(raw)
    except ValueError:
        raise SystemExit(f"BENCH_ROUNDS must be a positive integer, got {raw!r}") from None
    if n < 1:
        raise SystemExit(f"BENCH_ROUNDS must be a positive integer, got {raw!r}")
    return n


def int_from_env(name: str, default: int) -> int:
    """A positive integer knob from the environment (e.g. ``BENCH_DELTAS``)."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < 1:
        raise SystemExit(f"{name} must be a positive integer, got {raw!r}")
    return int(raw)


@dataclass
class Result:
    """One row of a table: ``median`` of ``samples`` in ``unit``.

    Lower is better for times (``µs``, ...), higher for rates (``ev/s``); ``extra`` holds
    per-row values shown as additional columns (e.g. encoded bytes per event).
    """

    name: str
    metric: str
    unit: str
    median: float
    samples: list[float]
    note: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def higher_is_better(self) -> bool:
        return is_rate(self.unit)

    @property
    def spread(self) -> float:
        """(max - min) / median: how much the rounds disagree, 0.05 = 5%."""
        if not self.samples or self.median == 0:
            return 0.0
        return (max(self.samples) - min(self.samples)) / self.median


@dataclass
class Unavailable:
    """A library that could not be run (not installed, not written yet, failed its check)."""

    name: str
    reason: str


@dataclass
class Report:
    """All rows of one benchmark, with what is needed to reproduce and compare them."""

    bench: str
    baseline: str
    results: list[Result] = field(default_factory=list)
    unavailable: list[Unavailable] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Case(Generic[T]):
    """One thing to time: ``run(setup())``, ``ops`` operations per call."""

    name: str
    metric: str
    run: Callable[[T], object]
    setup: Callable[[], T]
    ops: int
    unit: str = "µs"  # a time per op (see _SCALE) or a rate, ops per second (see _RATES)
    note: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def gc_in_timed_region() -> bool:
    """``BENCH_GC=1`` keeps the garbage collector on while timing (default: off, as timeit)."""
    return os.environ.get("BENCH_GC", "").strip() in ("1", "true", "yes")


def _time_once(case: Case[Any]) -> float:
    state = case.setup()
    gc.collect()
    if not gc_in_timed_region():
        gc.disable()
    try:
        t0 = time.perf_counter()
        case.run(state)
        elapsed = time.perf_counter() - t0
    finally:
        gc.enable()
    if case.unit in _RATES:
        return case.ops / elapsed * _RATES[case.unit]
    return elapsed * _SCALE[case.unit] / case.ops


_SCALE = {"s": 1.0, "ms": 1e3, "µs": 1e6, "ns": 1e9}  # time per op: lower is better
_RATES = {"ev/s": 1.0, "ops/s": 1.0}  # ops per second: higher is better


def is_rate(unit: str) -> bool:
    """True for rate units (higher is better), False for times per op."""
    return unit in _RATES


def measure_all(
    cases: Sequence[Case[Any]], *, rounds: int | None = None, warmup: int = 1
) -> list[Result]:
    """Time every case for ``rounds`` rounds after ``warmup`` untimed ones, interleaved.

    Rounds go round-robin over the cases (A B C, A B C, ...) rather than A A A, B B B: on a
    shared 2-core machine a noisy spell then hits every library alike, which keeps the ratios
    honest. ``setup`` runs before every round, untimed, so libraries that mutate their input
    (the seed's book takes ownership of the delta entries) get fresh input each time. Each
    sample is the round's wall time divided by ``ops``, in the case's unit. The garbage
    collector is off inside the timed region, as in ``timeit``, so a collection triggered by
    setup garbage does not land on whichever library runs next; ``BENCH_GC=1`` turns it on
    (it then also charges a library for the garbage it makes: the seed's book creates three
    closures per delta, ~10% of its time on this machine).
    """
    for case in cases:
        if case.unit not in _SCALE and case.unit not in _RATES:
            known = sorted(_SCALE) + sorted(_RATES)
            raise ValueError(f"unknown unit {case.unit!r}, use one of {known}")
    n_rounds = rounds if rounds is not None else rounds_from_env()
    samples: list[list[float]] = [[] for _ in cases]
    for i in range(warmup + n_rounds):
        for case, out in zip(cases, samples, strict=True):
            sample = _time_once(case)
            if i >= warmup:
                out.append(sample)
    return [
        Result(c.name, c.metric, c.unit, statistics.median(s), s, c.note, dict(c.extra))
        for c, s in zip(cases, samples, strict=True)
    ]


def measure(case: Case[Any], *, rounds: int | None = None, warmup: int = 1) -> Result:
    """Time one case (see ``measure_all``)."""
    return measure_all([case], rounds=rounds, warmup=warmup)[0]


def _fmt(x: float) -> str:
    return f"{x:.3g}" if abs(x) < 100 else f"{x:,.0f}"


def markdown_table(report: Report) -> str:
    """The report as a markdown table, ready to paste into the README.

    Each row's ratio is against the baseline's row of the same metric, so one table can hold
    several metrics (e.g. encode and decode of several events). Keys of the rows' ``extra``
    dicts become additional columns, in order of first appearance.
    """
    bases = {r.metric: r for r in report.results if r.name == report.baseline}
    head = f"vs {report.baseline}" if bases else "vs baseline"
    extra_cols = list(dict.fromkeys(k for r in report.results for k in r.extra))
    lines = [
        "| library | metric | median | spread | " + " | ".join([head, *extra_cols]) + " |",
        "|---|---|---:|---:|---:|" + "---:|" * len(extra_cols),
    ]
    for r in report.results:
        base = bases.get(r.metric)
        ratio = f"{r.median / base.median:.2f}×" if base and base.median else "n/a"
        name = f"{r.name} ({r.note})" if r.note else r.name
        cells = [ratio, *(r.extra.get(k, "") for k in extra_cols)]
        lines.append(
            f"| {name} | {r.metric} | {_fmt(r.median)} {r.unit} | ±{r.spread * 50:.1f}% | "
            + " | ".join(cells)
            + " |"
        )
    notes = [f"- {u.name}: not run ({u.reason})" for u in report.unavailable]
    rates = {r.higher_is_better for r in report.results}
    if rates == {True, False}:
        better = "below 1× is faster for times, above 1× for rates"
    elif rates == {True}:
        better = "above 1× is faster"
    else:
        better = "below 1× is faster"
    footer = (
        f"\nMedian of {_rounds_of(report)} rounds; spread = (max-min)/2 as % of median; "
        f"ratio = median / {report.baseline}'s median ({better})."
    )
    return "\n".join(lines + ([""] + notes if notes else [])) + "\n" + footer


def _rounds_of(report: Report) -> int:
    return len(report.results[0].samples) if report.results else 0


def environment() -> dict[str, Any]:
    """Machine and library versions, stored with every result file."""
    versions: dict[str, str | None] = {}
    for dist in ("ttxt-kafka", "ttxt2", "cryptofeed", "order-book", "aiokafka"):
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = None
    return {
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "machine": platform.machine(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "versions": versions,
    }


def write_json(report: Report, directory: Path = RESULTS_DIR) -> Path:
    """Write ``results/<bench>.json`` (gitignored) and return its path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{report.bench}.json"
    payload = {
        **asdict(report),
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "environment": environment(),
    }
    for row, r in zip(payload["results"], report.results, strict=True):
        row["spread"] = r.spread
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def print_report(report: Report, title: str | None = None) -> None:
    print(f"\n## {title or report.bench}\n")
    if report.params:
        print(", ".join(f"{k}={v}" for k, v in report.params.items()) + "\n")
    print(markdown_table(report))


def versions_line(dists: Sequence[str]) -> str:
    env = environment()["versions"]
    return ", ".join(f"{d} {env.get(d) or 'missing'}" for d in dists)
