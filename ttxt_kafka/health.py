"""`/metrics` and `/health` over aiohttp: the one small HTTP server every service starts.

    from ttxt_kafka.health import HEALTH, serve_metrics

    HEALTH.add("kafka", lambda: (consumer_running, "consumer assigned 3 partitions"))
    server = await serve_metrics(9108, service="strategy mm")   # port 0 = any free port
    ...
    await server.stop()

`GET /metrics` renders a metrics registry (the process-wide one by default) in the Prometheus
text format. `GET /health` answers JSON — `{"status": "ok" | "failing", "service", "uptime_s",
"checks": {name: {"ok": bool, "detail": str}}}` — with HTTP 200 when every check passes and 503
otherwise, so a container orchestrator's probe can use it unchanged. A check is a plain function
returning a bool or (bool, detail); one that raises counts as failing, with the error as detail.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from .metrics import CONTENT_TYPE, REGISTRY, Registry

log = logging.getLogger(__name__)

CheckResult = bool | tuple[bool, str]
Check = Callable[[], CheckResult]


class HealthChecks:
    """Named checks; the service is healthy when all of them pass."""

    def __init__(self) -> None:
        self._checks: dict[str, Check] = {}

    def add(self, name: str, check: Check) -> None:
        self._checks[name] = check

    def remove(self, name: str) -> None:
        self._checks.pop(name, None)

    def run(self) -> dict[str, dict[str, Any]]:
        results: dict[str, dict[str, Any]] = {}
        for name, check in list(self._checks.items()):
            try:
                value = check()
                ok, detail = value if isinstance(value, tuple) else (value, "")
            except Exception as exc:  # a broken check is a failing check, not a 500
                ok, detail = False, f"{type(exc).__name__}: {exc}"
            results[name] = {"ok": bool(ok), "detail": str(detail)}
        return results


HEALTH = HealthChecks()
"""The process-wide default checks."""


@dataclass
class MetricsServer:
    """A running `/metrics` + `/health` server."""

    runner: web.AppRunner
    host: str
    port: int
    service: str
    started: float = field(default_factory=time.monotonic)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def stop(self) -> None:
        await self.runner.cleanup()


def health_report(service: str, checks: HealthChecks, started: float) -> dict[str, Any]:
    results = checks.run()
    return {
        "status": "ok" if all(r["ok"] for r in results.values()) else "failing",
        "service": service,
        "uptime_s": round(time.monotonic() - started, 3),
        "checks": results,
    }


def make_app(service: str = "", registry: Registry | None = None,
             checks: HealthChecks | None = None, started: float | None = None) -> web.Application:
    registry = registry or REGISTRY
    checks = checks or HEALTH
    t0 = started if started is not None else time.monotonic()

    async def metrics(_: web.Request) -> web.Response:
        return web.Response(body=registry.render().encode(), headers={"Content-Type": CONTENT_TYPE})

    async def health(_: web.Request) -> web.Response:
        report = health_report(service, checks, t0)
        return web.Response(text=json.dumps(report), content_type="application/json",
                            status=200 if report["status"] == "ok" else 503)

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/health", health)
    return app


async def serve_metrics(port: int = 0, *, host: str = "127.0.0.1", service: str = "",
                        registry: Registry | None = None,
                        checks: HealthChecks | None = None) -> MetricsServer:
    """Start serving `/metrics` and `/health`; port 0 picks a free port (see `.port`).

    Binds 127.0.0.1 by default; give host="0.0.0.0" inside a container so Prometheus can scrape.
    """
    started = time.monotonic()
    runner = web.AppRunner(make_app(service, registry, checks, started), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = port or int(runner.addresses[0][1])  # the port the OS picked for port 0
    log.info("%s: metrics on http://%s:%d/metrics, health on /health", service or "service",
             host, bound)
    return MetricsServer(runner, host, bound, service, started)


__all__ = ["HEALTH", "HealthChecks", "MetricsServer", "health_report", "make_app",
           "serve_metrics"]
