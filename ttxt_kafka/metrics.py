"""Metrics for Prometheus: ttxt's metric families, exposed through `prometheus-client`.

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

The text format is prometheus-client's (`generate_latest`, text format 0.0.4): each `Registry`
is a prometheus-client `Collector` in its own `CollectorRegistry` (`.prometheus`, which a program
may also register its own prometheus-client metrics in). The values themselves live in the small
children below, not in prometheus-client's metric objects: those take a lock on every update
(an increment 2.5-5x, an observation ~3x the time of ours: benchmarks/bench_metrics.py), a
cost the bus and the strategies would pay per event, for thread safety an asyncio service does
not need.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Generic, TypeVar

from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4, generate_latest
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector, CollectorRegistry

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4  # what render() writes

# Milliseconds: from a fast in-process hop to a slow exchange round trip.
LATENCY_MS_BUCKETS: tuple[float, ...] = (
    0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000,
)

_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


class MetricsError(ValueError):
    pass


def format_value(value: float) -> str:
    """A sample value as the text format writes it (integers without a decimal point)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


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

    def collect(self) -> Metric:
        """The family as prometheus-client's exposition takes it."""
        raise NotImplementedError


class Counter(_Family[CounterChild]):
    TYPE = "counter"

    def _new_child(self) -> CounterChild:
        return CounterChild()

    def __init__(self, name: str, help: str, labelnames: Sequence[str] = ()) -> None:
        # prometheus-client names a counter's samples <family>_total: the name must end so
        # for the samples to carry it unchanged (Prometheus's own naming rule for counters).
        if not name.endswith("_total"):
            raise MetricsError(f"a counter's name ends in _total: {name!r}")
        super().__init__(name, help, labelnames)

    def collect(self) -> Metric:
        family = CounterMetricFamily(self.name, self.help, labels=self.labelnames)
        for values, child in self.samples():
            family.add_metric(values, child.value)
        return family

    def inc(self, amount: float = 1.0) -> None:
        self._unlabelled().inc(amount)


class Gauge(_Family[GaugeChild]):
    TYPE = "gauge"

    def _new_child(self) -> GaugeChild:
        return GaugeChild()

    def collect(self) -> Metric:
        family = GaugeMetricFamily(self.name, self.help, labels=self.labelnames)
        for values, child in self.samples():
            family.add_metric(values, child.value)
        return family

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

    def collect(self) -> Metric:
        family = HistogramMetricFamily(self.name, self.help, labels=self.labelnames)
        bounds = [format_value(b) for b in self.buckets]
        for values, child in self.samples():
            cumulative, buckets = 0, []
            for bound, n in zip(bounds, child.counts, strict=True):
                cumulative += n
                buckets.append((bound, cumulative))
            buckets.append(("+Inf", child.count))
            family.add_metric(values, buckets, child.sum)
        return family


F = TypeVar("F", Counter, Gauge, Histogram)


class Registry(Collector):
    """Metric families by name, rendered together (a prometheus-client `Collector`)."""

    def __init__(self) -> None:
        self._families: dict[str, Counter | Gauge | Histogram] = {}
        self._collectors: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        self.prometheus = CollectorRegistry(auto_describe=False)
        self.prometheus.register(self)

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

    def collect(self) -> Iterator[Metric]:
        """Every family, after the collectors ran (prometheus-client calls this)."""
        for collect in list(self._collectors):
            collect()
        for family in list(self._families.values()):
            yield family.collect()

    def render(self) -> str:
        """Everything in `.prometheus` (ours first) in the text exposition format 0.0.4."""
        return generate_latest(self.prometheus).decode("utf-8")


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
