"""Small client-side helpers for the simulator tests: reading frames, REST calls, local books."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Any

import aiohttp
import websockets

from ttxt_kafka.simulator import Simulator


def ws_connect(url: str, **kw: Any) -> Any:
    """A test client that never stops reading (a full queue would stall the close handshake)."""
    return websockets.connect(url, max_queue=None, close_timeout=1, **kw)


async def read_rest(ws: Any, sim: Simulator, already: int = 0, timeout: float = 10) -> list[str]:
    """Wait until the simulator has sent everything, then read every frame still in flight.

    `already`: frames of this (only) session the test has read itself before calling.
    """
    await sim.wait_finished(timeout)
    session = sim.sessions[max(sim.sessions)]
    out: list[str] = []
    while already + len(out) < session.frames_sent:
        out.append(await asyncio.wait_for(ws.recv(), timeout))
    return out


async def recv_json(ws: Any, timeout: float = 5) -> Any:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        return resp.status, await resp.text()


async def get_json(url: str) -> Any:
    status, text = await get(url)
    assert status == 200, (status, text)
    return json.loads(text)


async def post_json(url: str, body: Any) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http, http.post(url, data=json.dumps(body)) as resp:
        return resp.status, await resp.json()


class LocalBook:
    """A client-side price-level book keyed by exact Decimal prices (absolute quantities)."""

    def __init__(self, bids: list[list[str]], asks: list[list[str]]) -> None:
        self.bids: dict[Decimal, Decimal] = {}
        self.asks: dict[Decimal, Decimal] = {}
        self.apply(bids, asks)

    def apply(self, bids: list[list[str]], asks: list[list[str]]) -> None:
        for side, levels in ((self.bids, bids), (self.asks, asks)):
            for price, qty in levels:
                if Decimal(qty) == 0:
                    side.pop(Decimal(price), None)
                else:
                    side[Decimal(price)] = Decimal(qty)

    def best_bid(self) -> Decimal:
        return max(self.bids)

    def best_ask(self) -> Decimal:
        return min(self.asks)

    def top(self, n: int) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        bids = sorted(self.bids.items(), reverse=True)[:n]
        asks = sorted(self.asks.items())[:n]
        return bids, asks


def levels(raw: list[list[str]]) -> list[tuple[Decimal, Decimal]]:
    return [(Decimal(p), Decimal(q)) for p, q in raw]
