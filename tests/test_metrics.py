"""Metrics in the Prometheus text format, and the /metrics + /health server (no Kafka needed)."""

from __future__ import annotations

import json
import re

import aiohttp
import pytest

from ttxt_kafka.health import HealthChecks, serve_metrics
from ttxt_kafka.metrics import (
    CONTENT_TYPE,
    LATENCY_MS_BUCKETS,
    REGISTRY,
    MetricsError,
    Registry,
    format_value,
    latency_histogram,
)

# One sample line of the text format: name, optional {labels}, value (no timestamps here).
_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*"'
                     r'(?:,[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*")*)?\})? '
                     r"(-?[0-9.eE+-]+|\+Inf|-Inf|NaN)$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text: str) -> tuple[dict[str, str], dict[tuple[str, tuple[tuple[str, str], ...]], float]]:
    """A strict little parser: TYPE per family, and every sample by (name, labels)."""
    types: dict[str, str] = {}
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    assert text.endswith("\n")
    for line in text.splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in ("counter", "gauge", "histogram") and name not in types
            types[name] = kind
            continue
        m = _SAMPLE.match(line)
        assert m, f"not a sample line: {line!r}"
        labels = tuple(sorted(  # label order has no meaning
            (k, v.replace('\\"', '"').replace("\\n", "\n").replace("\\\\", "\\"))
            for k, v in _LABEL.findall(m[2] or "")))
        family = re.sub(r"_(bucket|sum|count)$", "", m[1])
        assert m[1] in types or family in types, f"sample before its TYPE: {line}"
        samples[(m[1], labels)] = float(m[3])
    return types, samples


def test_counters_gauges_and_histograms_render_in_the_text_format() -> None:
    r = Registry()
    events = r.counter("ttxt_events_total", "events read", ["topic"])
    events.labels(topic="ttxt.binance.book").inc()
    events.labels("ttxt.binance.book").inc(2)
    events.labels(topic='we"ird\\topic\n').inc()
    lag = r.gauge("ttxt_lag", "records behind", ["topic", "partition"])
    lag.labels("t", 0).set(7)
    lag.labels("t", 1).set(0.5)
    up = r.gauge("ttxt_up", "1 when running")
    up.set(1)
    h = r.histogram("ttxt_latency_ms", "latency", buckets=[1, 5, 10])
    for v in (0.5, 1, 3, 12):
        h.observe(v)
    text = r.render()
    assert text == (
        # prometheus-client's text format 0.0.4: float values, labels in name order
        "# HELP ttxt_events_total events read\n"
        "# TYPE ttxt_events_total counter\n"
        'ttxt_events_total{topic="ttxt.binance.book"} 3.0\n'
        'ttxt_events_total{topic="we\\"ird\\\\topic\\n"} 1.0\n'
        "# HELP ttxt_lag records behind\n"
        "# TYPE ttxt_lag gauge\n"
        'ttxt_lag{partition="0",topic="t"} 7.0\n'
        'ttxt_lag{partition="1",topic="t"} 0.5\n'
        "# HELP ttxt_up 1 when running\n"
        "# TYPE ttxt_up gauge\n"
        "ttxt_up 1.0\n"
        "# HELP ttxt_latency_ms latency\n"
        "# TYPE ttxt_latency_ms histogram\n"
        'ttxt_latency_ms_bucket{le="1"} 2.0\n'
        'ttxt_latency_ms_bucket{le="5"} 3.0\n'
        'ttxt_latency_ms_bucket{le="10"} 3.0\n'
        'ttxt_latency_ms_bucket{le="+Inf"} 4.0\n'
        "ttxt_latency_ms_count 4.0\n"
        "ttxt_latency_ms_sum 16.5\n"
    )
    types, samples = parse(text)
    assert types["ttxt_latency_ms"] == "histogram"
    assert samples[("ttxt_events_total", (("topic", 'we"ird\\topic\n'),))] == 1


def test_registry_rules() -> None:
    r = Registry()
    c = r.counter("a_total", "a", ["x"])
    assert r.counter("a_total", "a", ["x"]) is c  # same family for a second component
    with pytest.raises(MetricsError):
        r.gauge("a_total", "a", ["x"])
    with pytest.raises(MetricsError):
        r.counter("a_total", "a", ["y"])
    with pytest.raises(MetricsError):
        r.counter("bad name_total", "a")
    with pytest.raises(MetricsError):
        r.counter("b_total", "b", ["le"])
    with pytest.raises(MetricsError, match="_total"):
        r.counter("b", "b")  # prometheus-client would expose it as b_total
    with pytest.raises(MetricsError):
        c.labels(x="1").inc(-1)
    with pytest.raises(MetricsError):
        c.labels(y="1")
    with pytest.raises(MetricsError):
        c.inc()  # labelled: needs .labels()
    with pytest.raises(MetricsError):
        r.histogram("h", "h", buckets=[5, 1])
    c.labels(x="gone").inc()
    c.remove("gone")
    assert "gone" not in r.render()
    calls = []
    fn = r.add_collector(lambda: calls.append(1))
    r.render()
    r.remove_collector(fn)
    r.render()
    assert calls == [1]
    assert [format_value(v) for v in (3.0, 0.25, float("inf"), float("nan"))] == [
        "3", "0.25", "+Inf", "NaN"]


def test_latency_histogram_uses_millisecond_buckets() -> None:
    r = Registry()
    h = latency_histogram("x_ms", "x", ["stage"], registry=r)
    assert h.buckets == LATENCY_MS_BUCKETS and h.buckets[0] == 0.05 and h.buckets[-1] == 10000
    with h.labels("decode").time_ms():
        pass
    _, samples = parse(r.render())
    assert samples[("x_ms_count", (("stage", "decode"),))] == 1
    assert samples[("x_ms_bucket", (("le", "+Inf"), ("stage", "decode")))] == 1


def test_the_registry_is_a_prometheus_client_collector() -> None:
    """Rendered by prometheus-client, and a program's own prometheus-client metrics (its
    process collector, say) can join it in `.prometheus`."""
    from prometheus_client import Gauge as PromGauge
    from prometheus_client.parser import text_string_to_metric_families

    r = Registry()
    r.counter("ttxt_x_total", "x", ["venue"]).labels("binance").inc(2)
    r.histogram("ttxt_y_ms", "y", buckets=[1]).observe(0.5)
    PromGauge("app_extra", "a program's own", registry=r.prometheus).set(4)
    families = {f.name: f for f in text_string_to_metric_families(r.render())}
    assert families["ttxt_x"].type == "counter"  # prometheus-client's name: without _total
    assert [(s.name, s.labels, s.value) for s in families["ttxt_x"].samples] == [
        ("ttxt_x_total", {"venue": "binance"}, 2.0)]
    assert {s.name: s.value for s in families["ttxt_y_ms"].samples if "le" not in s.labels} \
        == {"ttxt_y_ms_count": 1.0, "ttxt_y_ms_sum": 0.5}
    assert families["app_extra"].samples[0].value == 4.0


async def test_metrics_and_health_endpoints() -> None:
    r = Registry()
    r.counter("svc_events_total", "events", ["topic"]).labels("a").inc(5)
    checks = HealthChecks()
    state = {"kafka": True}
    checks.add("kafka", lambda: (state["kafka"], "3 partitions"))
    checks.add("always", lambda: True)
    server = await serve_metrics(0, service="test-svc", registry=r, checks=checks)
    try:
        assert server.port > 0
        async with aiohttp.ClientSession() as http:
            resp = await http.get(server.url + "/metrics")
            assert resp.status == 200 and resp.headers["Content-Type"] == CONTENT_TYPE
            _, samples = parse(await resp.text())
            assert samples[("svc_events_total", (("topic", "a"),))] == 5

            resp = await http.get(server.url + "/health")
            body = json.loads(await resp.text())
            assert resp.status == 200 and body["status"] == "ok"
            assert body["service"] == "test-svc" and body["uptime_s"] >= 0
            assert body["checks"]["kafka"] == {"ok": True, "detail": "3 partitions"}

            state["kafka"] = False
            checks.add("broken", lambda: 1 / 0)  # type: ignore[arg-type, return-value]
            resp = await http.get(server.url + "/health")
            body = json.loads(await resp.text())
            assert resp.status == 503 and body["status"] == "failing"
            assert body["checks"]["kafka"]["ok"] is False
            assert body["checks"]["broken"] == {"ok": False,
                                                "detail": "ZeroDivisionError: division by zero"}
    finally:
        await server.stop()


def test_the_default_registry_is_process_wide() -> None:
    from ttxt_kafka import metrics

    assert metrics.REGISTRY is REGISTRY
    fam = REGISTRY.counter("ttxt_test_default_total", "a test counter")
    fam.inc()
    assert "ttxt_test_default_total 1" in REGISTRY.render()
