"""Metrics in the Prometheus text exposition format (version 0.0.4), with no dependency.

    from ttxt_kafka.metrics import REGISTRY, latency_histogram

    events = REGISTRY.counter("ttxt_events_in_total", "events consumed", ["topic"])
    events.labels(topic="ttxt.binance.book").inc()
    lag = REGISTRY.gauge("ttxt_consumer_lag", "records behind the end", ["topic", "partition"])
    latency = latency_histogram("ttxt_handler_latency_ms", "handler time")
    latency.observe(0.42)                       # milliseconds
    print(REGISTRY.render())                    # what GET /metrics serves

`REGISTRY` is the process-wide default every service registers into; asking it twice for the
same name gives the same family (so several components share one), asking with another type or
other label names is an error. `serve_metrics` (in `ttxt_kafka.health`) serves it over HTTP.
Collectors (`add_collector`) run just before each render, for values cheaper to read on demand
(consumer lag from the client's cached high-water marks, say).
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Generic, TypeVar

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

# Milliseconds: from a fast in-process hop to a slow exchange round trip.
LATENCY_MS_BUCKETS: tuple[float, ...] = (
    0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000,
)

_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


class MetricsError(ValueError):
    pass


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def format_value(value: float) -> str:
    """A sample value as the text format writes it (integers without a decimal point)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def _label_text(names: Sequence[str], values: Sequence[str], extra: str = "") -> str:
    parts = [f'{n}="{_escape_label(v)}"' for n, v in zip(names, values, strict=True)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


# ---------------------------------------------------------------- children (one label set)


class CounterChild:
    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0.0

    def inc(self, amount: float = 1.0) -> None:
        if amount < 0:
            raise MetricsError("a counter only goes up")
        self.value += amount


class GaugeChild:
    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0.0

    def set(self, value: float) -> None:
        self.value = float(value)

    def inc(self, amount: float = 1.0) -> None:
        self.value += amount

    def dec(self, amount: float = 1.0) -> None:
        self.value -= amount


class HistogramChild:
    __slots__ = ("buckets", "counts", "sum", "count")

    def __init__(self, buckets: tuple[float, ...]) -> None:
        self.buckets = buckets
        self.counts = [0] * len(buckets)  # per bucket, not cumulative (cumulated on render)
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        self.sum += value
        self.count += 1
        for i, bound in enumerate(self.buckets):
            if value <= bound:
                self.counts[i] += 1
                return

    @contextmanager
    def time_ms(self) -> Iterator[None]:
        """Observe the block's wall time in milliseconds."""
        start = time.perf_counter()
        try:
            yield
        finally:
            self.observe((time.perf_counter() - start) * 1000.0)


C = TypeVar("C", CounterChild, GaugeChild, HistogramChild)


class _Family(Generic[C]):
    """A metric name with its help text, type and label names; one child per label set."""

    TYPE = ""

    def __init__(self, name: str, help: str, labelnames: Sequence[str] = ()) -> None:
        if not _NAME.match(name):
            raise MetricsError(f"invalid metric name {name!r}")
        for label in labelnames:
            if not _LABEL.match(label) or label.startswith("__") or label == "le":
                raise MetricsError(f"invalid label name {label!r} for {name}")
        self.name = name
        self.help = help
        self.labelnames = tuple(labelnames)
        self._children: dict[tuple[str, ...], C] = {}
        self._lock = threading.Lock()

    def _new_child(self) -> C:
        raise NotImplementedError

    def labels(self, *values: object, **kw: object) -> C:
        if values and kw:
            raise MetricsError("give label values by position or by name, not both")
        if kw:
            if set(kw) != set(self.labelnames):
                raise MetricsError(f"{self.name} has labels {list(self.labelnames)}, "
                                   f"got {sorted(kw)}")
            values = tuple(kw[n] for n in self.labelnames)
        if len(values) != len(self.labelnames):
            raise MetricsError(f"{self.name} has labels {list(self.labelnames)}, "
                               f"got {len(values)} values")
        key = tuple(str(v) for v in values)
        child = self._children.get(key)
        if child is None:
            with self._lock:
                child = self._children.setdefault(key, self._new_child())
        return child

    def remove(self, *values: object) -> None:
        """Forget one label set (a partition no longer assigned, say)."""
        self._children.pop(tuple(str(v) for v in values), None)

    def clear(self) -> None:
        self._children.clear()

    def _unlabelled(self) -> C:
        if self.labelnames:
            raise MetricsError(f"{self.name} has labels {list(self.labelnames)}: use .labels()")
        return self.labels()

    def samples(self) -> Iterator[tuple[tuple[str, ...], C]]:
        yield from list(self._children.items())

    def render(self, out: list[str]) -> None:
        out.append(f"# HELP {self.name} {_escape_help(self.help)}")
        out.append(f"# TYPE {self.name} {self.TYPE}")
        for values, child in self.samples():
            self._render_child(out, values, child)

    def _render_child(self, out: list[str], values: tuple[str, ...], child: C) -> None:
        raise NotImplementedError


def _render_simple(family: _Family[C], out: list[str], values: tuple[str, ...],
                   value: float) -> None:
    out.append(f"{family.name}{_label_text(family.labelnames, values)} {format_value(value)}")


class Counter(_Family[CounterChild]):
    TYPE = "counter"

    def _new_child(self) -> CounterChild:
        return CounterChild()

    def _render_child(self, out: list[str], values: tuple[str, ...],
                      child: CounterChild) -> None:
        _render_simple(self, out, values, child.value)

    def inc(self, amount: float = 1.0) -> None:
        self._unlabelled().inc(amount)


class Gauge(_Family[GaugeChild]):
    TYPE = "gauge"

    def _new_child(self) -> GaugeChild:
        return GaugeChild()

    def _render_child(self, out: list[str], values: tuple[str, ...], child: GaugeChild) -> None:
        _render_simple(self, out, values, child.value)

    def set(self, value: float) -> None:
        self._unlabelled().set(value)

    def inc(self, amount: float = 1.0) -> None:
        self._unlabelled().inc(amount)

    def dec(self, amount: float = 1.0) -> None:
        self._unlabelled().dec(amount)


class Histogram(_Family[HistogramChild]):
    TYPE = "histogram"

    def __init__(self, name: str, help: str, labelnames: Sequence[str] = (),
                 buckets: Sequence[float] = LATENCY_MS_BUCKETS) -> None:
        super().__init__(name, help, labelnames)
        bounds = tuple(float(b) for b in buckets if not math.isinf(b))
        if list(bounds) != sorted(set(bounds)) or not bounds:
            raise MetricsError(f"{name}: buckets must be increasing and not empty")
        self.buckets = bounds

    def _new_child(self) -> HistogramChild:
        return HistogramChild(self.buckets)

    def observe(self, value: float) -> None:
        self._unlabelled().observe(value)

    def time_ms(self) -> AbstractContextManager[None]:
        return self._unlabelled().time_ms()

    def _render_child(self, out: list[str], values: tuple[str, ...],
                      child: HistogramChild) -> None:
        cumulative = 0
        for bound, n in zip(child.buckets, child.counts, strict=True):
            cumulative += n
            le = f'le="{format_value(bound)}"'
            out.append(f"{self.name}_bucket{_label_text(self.labelnames, values, le)} "
                       f"{cumulative}")
        inf = 'le="+Inf"'
        out.append(f"{self.name}_bucket{_label_text(self.labelnames, values, inf)} {child.count}")
        out.append(f"{self.name}_sum{_label_text(self.labelnames, values)} "
                   f"{format_value(child.sum)}")
        out.append(f"{self.name}_count{_label_text(self.labelnames, values)} {child.count}")


F = TypeVar("F", Counter, Gauge, Histogram)


class Registry:
    """Metric families by name, rendered together."""

    def __init__(self) -> None:
        self._families: dict[str, Counter | Gauge | Histogram] = {}
        self._collectors: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    def _get(self, cls: type[F], name: str, help: str, labelnames: Sequence[str],
             **kw: Sequence[float]) -> F:
        with self._lock:
            existing = self._families.get(name)
            if existing is not None:
                if type(existing) is not cls or existing.labelnames != tuple(labelnames):
                    raise MetricsError(
                        f"metric {name} exists as a {existing.TYPE} with labels "
                        f"{list(existing.labelnames)}")
                return existing  # type: ignore[return-value]
            family = cls(name, help, labelnames, **kw)
            self._families[name] = family
            return family

    def counter(self, name: str, help: str, labelnames: Sequence[str] = ()) -> Counter:
        return self._get(Counter, name, help, labelnames)

    def gauge(self, name: str, help: str, labelnames: Sequence[str] = ()) -> Gauge:
        return self._get(Gauge, name, help, labelnames)

    def histogram(self, name: str, help: str, labelnames: Sequence[str] = (),
                  buckets: Sequence[float] = LATENCY_MS_BUCKETS) -> Histogram:
        return self._get(Histogram, name, help, labelnames, buckets=buckets)

    def add_collector(self, fn: Callable[[], None]) -> Callable[[], None]:
        """Run `fn` before every render (to refresh gauges); returns it, for `remove_collector`."""
        self._collectors.append(fn)
        return fn

    def remove_collector(self, fn: Callable[[], None]) -> None:
        if fn in self._collectors:
            self._collectors.remove(fn)

    def get(self, name: str) -> Counter | Gauge | Histogram | None:
        return self._families.get(name)

    def render(self) -> str:
        """Every family in the text exposition format."""
        for collect in list(self._collectors):
            collect()
        out: list[str] = []
        for family in list(self._families.values()):
            family.render(out)
        return "\n".join(out) + "\n" if out else ""


REGISTRY = Registry()
"""The process-wide default registry: every service registers here unless given another."""


def latency_histogram(name: str, help: str, labelnames: Sequence[str] = (),
                      registry: Registry | None = None) -> Histogram:
    """A histogram of latencies in milliseconds (buckets from 50 µs to 10 s)."""
    return (registry or REGISTRY).histogram(name, help, labelnames, LATENCY_MS_BUCKETS)


__all__ = [
    "CONTENT_TYPE",
    "LATENCY_MS_BUCKETS",
    "REGISTRY",
    "Counter",
    "Gauge",
    "Histogram",
    "MetricsError",
    "Registry",
    "format_value",
    "latency_histogram",
]
