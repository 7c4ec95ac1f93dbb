"""Fault injection, through the Python API and the HTTP control API."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
import websockets
from sim_fixtures import BYBIT_CAPTURE, fixture
from sim_helpers import get_json, post_json, read_rest, recv_json, ws_connect

from ttxt_kafka.simulator import CaptureSource, Fault, FaultKind, Simulator, SyntheticSource


def _market(rate: float | None, max_steps: int | None = None) -> SyntheticSource:
    return SyntheticSource(seed=11, symbols=["BTCUSDT"], rate=rate, max_steps=max_steps)


async def _depth_updates(ws: websockets.ClientConnection, n: int) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    while len(out) < n:
        data = (await recv_json(ws))["data"]
        if data.get("e") == "depthUpdate":
            out.append(data)
    return out


async def test_drop_message_makes_one_gap() -> None:
    async with (
        Simulator("binance", _market(rate=1000, max_steps=400)) as sim,
        ws_connect(f"{sim.ws_url}/stream?streams=btcusdt@depth@100ms") as ws,
    ):
        first = await _depth_updates(ws, 10)
        sim.inject("drop_message")
        rest = [json.loads(f)["data"] for f in await read_rest(ws, sim, already=10)]
    updates = first + rest
    assert len(updates) == 399  # one of 400 never arrived
    gaps = [
        (a["u"], b["U"]) for a, b in zip(updates, updates[1:], strict=False) if b["U"] != a["u"] + 1
    ]
    assert len(gaps) == 1 and gaps[0][1] > gaps[0][0] + 1
    applied = sim.state()["faults_applied"]
    assert [a["kind"] for a in applied] == ["drop_message"] and applied[0]["symbol"] == "BTCUSDT"


async def test_drop_message_on_bybit_breaks_the_u_chain() -> None:
    async with (
        Simulator("bybit_linear", CaptureSource(fixture(BYBIT_CAPTURE), speed=50, settle=0)) as sim,
        ws_connect(sim.ws_endpoint) as ws,
    ):
        await ws.send(json.dumps({"op": "subscribe", "args": ["orderbook.200.BTCUSDT"]}))
        await recv_json(ws)
        snapshot = await recv_json(ws)
        assert snapshot["type"] == "snapshot"
        sim.inject(Fault(kind=FaultKind.DROP_MESSAGE, symbol="BTCUSDT", count=2))
        msgs = [json.loads(f) for f in await read_rest(ws, sim, already=2, timeout=30)]
    us = [snapshot["data"]["u"]] + [m["data"]["u"] for m in msgs]
    steps = [b - a for a, b in zip(us, us[1:], strict=False)]
    assert steps.count(3) == 1 and set(steps) == {1, 3}  # two deltas gone: u jumps by 3 once


async def test_drop_connection_cut_and_graceful() -> None:
    async with Simulator("binance", _market(rate=200)) as sim:
        async with ws_connect(f"{sim.ws_url}/stream?streams=btcusdt@depth") as ws:
            await ws.recv()
            result = sim.inject("drop_connection")
            assert result["targets"] == [1]
            with pytest.raises(websockets.ConnectionClosedError):
                while True:
                    await asyncio.wait_for(ws.recv(), 2)
            assert ws.close_code == 1006  # cut: no close frame, as a network failure
        async with ws_connect(f"{sim.ws_url}/stream?streams=btcusdt@depth") as ws:
            await ws.recv()
            sim.inject("drop_connection", graceful=True, code=1001)
            with pytest.raises(websockets.ConnectionClosed):
                while True:
                    await asyncio.wait_for(ws.recv(), 2)
            assert ws.close_code == 1001
        await asyncio.sleep(0.05)
        state = sim.state()
        assert state["connections_total"] == 2 and state["connections_open"] == 0


async def test_delay_holds_the_stream() -> None:
    async with (
        Simulator("binance", _market(rate=200)) as sim,
        ws_connect(f"{sim.ws_url}/stream?streams=btcusdt@depth") as ws,
    ):
        await ws.recv()
        sim.inject("delay", ms=400)
        gaps = []
        last = time.monotonic()
        for _ in range(30):
            await ws.recv()
            now = time.monotonic()
            gaps.append(now - last)
            last = now
        assert max(gaps) >= 0.35
        assert sorted(gaps)[-2] < 0.2  # one pause, not a slow stream


@pytest.mark.parametrize("variant", ["garbage", "truncated", "missing_fields"])
async def test_malformed_frame_arrives_and_stream_goes_on(variant: str) -> None:
    async with (
        Simulator("binance", _market(rate=200)) as sim,
        ws_connect(f"{sim.ws_url}/stream?streams=btcusdt@depth") as ws,
    ):
        good = json.loads(await ws.recv())
        sim.inject("malformed_frame", variant=variant)
        frames = [await asyncio.wait_for(ws.recv(), 2) for _ in range(10)]
    broken = []
    parsed = []
    for frame in frames:
        try:
            msg = json.loads(frame)
        except ValueError:
            broken.append(frame)
            continue
        if "u" in msg.get("data", {}):
            parsed.append(msg["data"])
        else:
            broken.append(frame)
    assert len(broken) == 1
    if variant == "missing_fields":
        obj = json.loads(broken[0])
        assert (
            obj["stream"] == "btcusdt@depth" and "u" not in obj["data"] and "b" not in obj["data"]
        )
    # inserted, not substituted: the real updates stay contiguous
    chain = [good["data"], *parsed]
    assert all(b["U"] == a["u"] + 1 for a, b in zip(chain, chain[1:], strict=False))


async def test_stale_snapshot_then_fresh_one() -> None:
    async with (
        Simulator("binance", _market(rate=200)) as sim,
        ws_connect(f"{sim.ws_url}/stream?streams=btcusdt@depth") as ws,
    ):
        first = json.loads(await ws.recv())["data"]
        sim.inject("stale_snapshot")
        stale = await get_json(f"{sim.rest_url}/api/v3/depth?symbol=BTCUSDT&limit=100")
        assert stale["lastUpdateId"] < first["U"]  # older than anything the stream delivered
        fresh = await get_json(f"{sim.rest_url}/api/v3/depth?symbol=BTCUSDT&limit=100")
        assert fresh["lastUpdateId"] >= first["u"]
        assert [a["kind"] for a in sim.state()["faults_applied"]] == ["stale_snapshot"]


async def test_stale_snapshot_on_bybit_rest() -> None:
    async with Simulator("bybit_spot", _market(rate=None, max_steps=10)) as sim:
        url = f"{sim.rest_url}/v5/market/orderbook?category=spot&symbol=BTCUSDT&limit=50"
        fresh = await get_json(url)
        sim.inject("stale_snapshot", behind=500)
        stale = await get_json(url)
        assert stale["result"]["u"] == fresh["result"]["u"] - 500


async def test_control_api_over_http() -> None:
    async with (
        Simulator("binance", _market(rate=100)) as sim,
        ws_connect(f"{sim.ws_url}/stream?streams=btcusdt@depth") as ws,
    ):
        await ws.recv()
        status, body = await post_json(f"{sim.rest_url}/_sim/fault", {"kind": "malformed_frame"})
        assert status == 200 and body["targets"] == [1]
        while True:  # the garbage frame arrives among the updates
            try:
                json.loads(await asyncio.wait_for(ws.recv(), 2))
            except ValueError:
                break
        status, body = await post_json(f"{sim.rest_url}/_sim/fault", {"kind": "explode"})
        assert status == 400 and body["error"] == "invalid fault"
        status, body = await post_json(f"{sim.rest_url}/_sim/fault", {"kind": "delay", "ms": -1})
        assert status == 400
        status, body = await post_json(
            f"{sim.rest_url}/_sim/fault", {"kind": "drop_message", "session": 99}
        )
        assert status == 404
        state = await get_json(f"{sim.rest_url}/_sim/state")
        assert state["venue"] == "binance" and state["connections_open"] == 1
        assert state["frames_sent"] >= 2 and state["source"]["kind"] == "synthetic"
        assert [a["kind"] for a in state["faults_applied"]] == ["malformed_frame"]
        assert state["sessions"][0]["subscriptions"] == ["btcusdt@depth"]
        await post_json(f"{sim.rest_url}/_sim/fault", {"kind": "drop_connection"})
        with pytest.raises(websockets.ConnectionClosed):
            while True:
                await asyncio.wait_for(ws.recv(), 2)


async def test_fault_waits_for_the_next_session() -> None:
    async with Simulator("binance", _market(rate=200)) as sim:
        assert sim.inject("drop_connection", graceful=True)["targets"] == "next_session"
        async with ws_connect(f"{sim.ws_url}/stream?streams=btcusdt@depth") as ws:
            with pytest.raises(websockets.ConnectionClosed):
                while True:
                    await asyncio.wait_for(ws.recv(), 2)
