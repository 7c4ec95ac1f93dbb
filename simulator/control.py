"""The simulator's own HTTP control API, beside the venue's endpoints on the same port.

* `POST /_sim/fault` with a JSON `Fault` (e.g. `{"kind": "drop_message", "count": 1}`) ->
  `200 {"fault": {...}, "targets": [session ids] | "next_session" | "rest"}`;
  `400 {"error": "..."}` for bad JSON or fields, `404` for an unknown `session`.
* `GET /_sim/state` -> connections, frames sent, faults applied, replay finished (see
  `Simulator.state`).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from aiohttp import web
from pydantic import ValidationError

from ttxt_kafka.simulator.faults import Fault

if TYPE_CHECKING:
    from ttxt_kafka.simulator.server import Simulator


def add_routes(router: web.UrlDispatcher, sim: Simulator) -> None:
    async def post_fault(request: web.Request) -> web.Response:
        try:
            fault = Fault.model_validate_json(await request.read())
        except ValidationError as exc:
            errors = [
                {"loc": list(e["loc"]), "msg": e["msg"]}
                for e in exc.errors(include_url=False, include_context=False)
            ]
            return web.json_response({"error": "invalid fault", "details": errors}, status=400)
        try:
            return web.json_response(sim.inject(fault))
        except LookupError as exc:
            return web.json_response({"error": str(exc)}, status=404)

    async def get_state(request: web.Request) -> web.Response:
        return web.json_response(sim.state(), dumps=lambda o: json.dumps(o, default=str))

    router.add_post("/_sim/fault", post_fault)
    router.add_get("/_sim/state", get_state)
