"""The private REST plumbing the simulated exchanges share: counting and reading a signed call
as received (the signature covers the raw query string and body), and JSON answers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from ttxt_kafka.simulator.session import dumps

if TYPE_CHECKING:
    from ttxt_kafka.simulator.server import Simulator
    from ttxt_kafka.simulator.trading.exchange import SimExchange

JSON = "application/json"


def json_reply(body: Any, status: int = 200) -> web.Response:
    return web.Response(text=dumps(body), content_type=JSON, status=status)


async def private_call(sim: Simulator, exchange: SimExchange, request: web.Request,
                       route: str | None = None) -> tuple[str, str]:
    """Count a private REST call (the simulator's REST requests; the exchange's per
    `METHOD route`, the path unless given) and read it as received: (raw query, body)."""
    sim.rest_requests += 1
    exchange.requests[f"{request.method} {route or request.path}"] += 1
    return request.raw_path.partition("?")[2], await request.text()
