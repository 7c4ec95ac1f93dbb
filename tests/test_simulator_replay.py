"""Capture replay, per venue: the captured payloads, in order, for what the client subscribed."""

from __future__ import annotations

import asyncio
import json
import time

from sim_fixtures import (
    BINANCE_SPOT_DEPTH,
    BINANCE_SPOT_WS,
    BINANCE_USDM_DEPTH,
    BINANCE_USDM_WS,
    BYBIT_CAPTURE,
    fixture,
)
from sim_helpers import get, get_json, read_rest, recv_json, ws_connect

from ttxt_kafka.simulator import CaptureSource, Simulator, read_capture

# -- Binance --------------------------------------------------------------------------------


def _binance_expectations(ws_fixture: str) -> tuple[str, list[str]]:
    cap = read_capture(fixture(ws_fixture))
    (conn,) = cap.connections.values()
    streams = conn.url.split("streams=", 1)[1]
    return streams, [f.payload for f in cap.received()]


async def _binance_replay_all(venue: str, ws_fixture: str) -> None:
    streams, expected = _binance_expectations(ws_fixture)
    async with (
        Simulator(venue, CaptureSource(fixture(ws_fixture))) as sim,
        ws_connect(f"{sim.ws_url}/stream?streams={streams}") as ws,
    ):
        got = await read_rest(ws, sim)
        assert got == expected  # every frame, byte for byte, in capture order
        assert sim.state()["replay_finished"] is True


async def test_binance_spot_replay_is_the_capture() -> None:
    await _binance_replay_all("binance", BINANCE_SPOT_WS)


async def test_binance_usdm_replay_is_the_capture() -> None:
    await _binance_replay_all("binance_usdm", BINANCE_USDM_WS)


async def test_binance_replay_filters_by_subscription_and_serves_raw_streams() -> None:
    _, everything = _binance_expectations(BINANCE_SPOT_WS)
    wanted = [p for p in everything if p.startswith('{"stream":"nknusdt@depth@100ms"')]
    assert len(wanted) == 150
    source = CaptureSource(fixture(BINANCE_SPOT_WS))
    async with Simulator("binance", source) as sim:
        async with ws_connect(f"{sim.ws_url}/stream?streams=nknusdt@depth@100ms") as ws:
            assert await read_rest(ws, sim) == wanted
        async with ws_connect(f"{sim.ws_url}/ws/nknusdt@depth@100ms") as ws:
            raw = await read_rest(ws, sim)
        # raw streams carry the data object alone, still byte-exact inside the captured frame
        assert len(raw) == 150
        for frame, data in zip(wanted, raw, strict=True):
            assert frame == '{"stream":"nknusdt@depth@100ms","data":' + data + "}"


async def test_binance_live_subscribe_starts_replay() -> None:
    _, everything = _binance_expectations(BINANCE_SPOT_WS)
    wanted = [p for p in everything if p.startswith('{"stream":"lrcbtc@')]
    source = CaptureSource(fixture(BINANCE_SPOT_WS))
    async with Simulator("binance", source) as sim, ws_connect(f"{sim.ws_url}/stream") as ws:
        params = ["lrcbtc@depth@100ms", "lrcbtc@bookTicker", "lrcbtc@aggTrade", "lrcbtc@kline_1m"]
        await ws.send(json.dumps({"method": "SUBSCRIBE", "params": params, "id": 7}))
        assert await recv_json(ws) == {"result": None, "id": 7}
        assert await read_rest(ws, sim, already=1) == wanted


def _bridges(frames: list[str], snapshot_id: int, symbol: str, futures: bool) -> bool:
    """The documented rule: the first update kept after the snapshot must straddle its id."""
    for frame in frames:
        data = json.loads(frame)["data"]
        if data.get("e") != "depthUpdate" or data["s"] != symbol:
            continue
        if futures:
            if data["u"] < snapshot_id:
                continue
            return bool(data["U"] <= snapshot_id <= data["u"])
        if data["u"] <= snapshot_id:
            continue
        return bool(data["U"] <= snapshot_id + 1 <= data["u"])
    return False


async def _binance_snapshots_bridge(venue: str, ws_fixture: str, http_fixture: str) -> None:
    streams, _ = _binance_expectations(ws_fixture)
    captured = {
        r.url.split("symbol=")[1].split("&")[0]: r.body
        for r in read_capture(fixture(http_fixture)).http
    }
    futures = venue == "binance_usdm"
    prefix = "/fapi/v1" if futures else "/api/v3"
    async with (
        Simulator(venue, CaptureSource(fixture(ws_fixture))) as sim,
        ws_connect(f"{sim.ws_url}/stream?streams={streams}") as ws,
    ):
        bodies = {}
        for symbol in captured:  # as a connector does: socket open first, then the snapshot
            status, bodies[symbol] = await get(
                f"{sim.rest_url}{prefix}/depth?symbol={symbol}&limit=1000"
            )
            assert status == 200
        frames = await read_rest(ws, sim)
    assert len(captured) == 4
    for symbol, body in bodies.items():
        assert body == captured[symbol]  # served as captured, byte for byte
        assert _bridges(frames, json.loads(body)["lastUpdateId"], symbol, futures), symbol


async def test_binance_spot_snapshots_bridge() -> None:
    await _binance_snapshots_bridge("binance", BINANCE_SPOT_WS, BINANCE_SPOT_DEPTH)


async def test_binance_usdm_snapshots_bridge() -> None:
    await _binance_snapshots_bridge("binance_usdm", BINANCE_USDM_WS, BINANCE_USDM_DEPTH)


async def test_binance_capture_exchange_info_and_limits() -> None:
    source = CaptureSource(fixture(BINANCE_SPOT_WS))
    async with Simulator("binance", source) as sim:
        info = await get_json(f"{sim.rest_url}/api/v3/exchangeInfo")
        assert len(info["symbols"]) == 1695
        one = await get_json(f"{sim.rest_url}/api/v3/exchangeInfo?symbol=NKNUSDT")
        assert [s["symbol"] for s in one["symbols"]] == ["NKNUSDT"]
        small = await get_json(f"{sim.rest_url}/api/v3/depth?symbol=NKNUSDT&limit=5")
        assert small["lastUpdateId"] == 499869752 and len(small["bids"]) == 5
        status, body = await get(f"{sim.rest_url}/api/v3/depth?symbol=BTCUSDT")
        assert status == 400 and json.loads(body)["code"] == -1121  # no captured snapshot
        sim.inject("stale_snapshot", symbol="NKNUSDT")
        stale = await get_json(f"{sim.rest_url}/api/v3/depth?symbol=NKNUSDT&limit=1000")
        assert stale["lastUpdateId"] < 499869750  # the first captured update's U
        assert stale["bids"] == small["bids"][:5] + stale["bids"][5:]  # same captured book


async def test_capture_replay_paced_by_recorded_time() -> None:
    # the spot capture spans 30 s of receive times; at 60x that is about half a second
    source = CaptureSource(fixture(BINANCE_SPOT_WS), speed=60, settle=0)
    async with (
        Simulator("binance", source) as sim,
        ws_connect(f"{sim.ws_url}/stream?streams=nknusdt@depth@100ms/runeeur@depth@100ms") as ws,
    ):
        await ws.recv()
        start = time.monotonic()
        await read_rest(ws, sim, already=1)
        assert 0.35 < time.monotonic() - start < 3


async def test_replay_end_keeps_socket_open_and_answering_pings() -> None:
    source = CaptureSource(fixture(BINANCE_SPOT_WS))
    async with (
        Simulator("binance", source) as sim,
        ws_connect(f"{sim.ws_url}/stream?streams=runeeur@depth@100ms") as ws,
    ):
        assert len(await read_rest(ws, sim)) == 2
        pong = await ws.ping()
        await asyncio.wait_for(pong, 2)
        assert sim.state()["connections_open"] == 1


# -- Bybit ----------------------------------------------------------------------------------


def _bybit_expectations(category: str) -> tuple[list[str], list[str]]:
    cap = read_capture(fixture(BYBIT_CAPTURE))
    conn = next(c for c, i in cap.connections.items() if i.url.endswith(category))
    topics = [
        t
        for f in cap.frames
        if f.conn == conn and f.direction == "send"
        for t in json.loads(f.payload)["args"]
    ]
    data = [f.payload for f in cap.received(conn) if "topic" in json.loads(f.payload)]
    return topics, data


async def _bybit_replay_all(category: str) -> None:
    topics, expected = _bybit_expectations(category)
    async with (
        Simulator(f"bybit_{category}", CaptureSource(fixture(BYBIT_CAPTURE))) as sim,
        ws_connect(f"{sim.ws_url}/v5/public/{category}") as ws,
    ):
        await ws.send(json.dumps({"op": "subscribe", "args": topics, "req_id": "r1"}))
        ack = await recv_json(ws)
        assert ack["success"] is True and ack["op"] == "subscribe" and ack["req_id"] == "r1"
        assert ack["ret_msg"] == ("" if category == "linear" else "subscribe")
        assert list(ack) == ["success", "ret_msg", "conn_id", "req_id", "op"]
        got = await read_rest(ws, sim, already=1)
    assert got == expected
    # the documented Bybit rule: a snapshot, then deltas whose u grows by exactly 1
    books: dict[str, int] = {}
    for frame in got:
        msg = json.loads(frame)
        if msg["topic"].startswith("orderbook."):
            if msg["type"] == "snapshot":
                books[msg["topic"]] = msg["data"]["u"]
            else:
                assert msg["data"]["u"] == books[msg["topic"]] + 1
                books[msg["topic"]] = msg["data"]["u"]
    assert len(books) == (4 if category == "linear" else 2)


async def test_bybit_linear_replay_is_the_capture() -> None:
    await _bybit_replay_all("linear")


async def test_bybit_spot_replay_is_the_capture() -> None:
    await _bybit_replay_all("spot")


async def test_bybit_topic_by_topic_subscription_misses_nothing() -> None:
    """cryptofeed subscribed one topic per message; replay waits for them to settle."""
    topics, expected = _bybit_expectations("linear")
    async with (
        Simulator("bybit_linear", CaptureSource(fixture(BYBIT_CAPTURE))) as sim,
        ws_connect(f"{sim.ws_url}/v5/public/linear") as ws,
    ):
        for topic in topics:
            await ws.send(json.dumps({"op": "subscribe", "args": [topic]}))
        acks = [await recv_json(ws) for _ in topics]
        assert all(a == {**acks[0], "success": True} for a in acks)
        assert acks[0]["req_id"] == ""  # linear always carries req_id, as captured
        assert await read_rest(ws, sim, already=len(topics)) == expected


async def test_bybit_rest_from_capture() -> None:
    _, frames = _bybit_expectations("linear")
    first_snapshot = next(
        json.loads(f) for f in frames if '"orderbook.200.ETHUSDT","type":"snapshot"' in f
    )
    async with Simulator("bybit_linear", CaptureSource(fixture(BYBIT_CAPTURE))) as sim:
        book = await get_json(
            f"{sim.rest_url}/v5/market/orderbook?category=linear&symbol=ETHUSDT&limit=200"
        )
        assert book["retCode"] == 0
        assert book["result"]["u"] == first_snapshot["data"]["u"]
        assert book["result"]["b"] == first_snapshot["data"]["b"]
        status, body = await get(f"{sim.rest_url}/v5/market/instruments-info?category=linear")
        captured = fixture("bybit/live_rest_v5_market_instruments_info_linear.json").read_text()
        assert status == 200 and body == captured
        one = await get_json(
            f"{sim.rest_url}/v5/market/instruments-info?category=linear&symbol=BTCUSDT"
        )
        assert [i["symbol"] for i in one["result"]["list"]] == ["BTCUSDT"]
        assert one["result"]["list"][0]["priceFilter"]["tickSize"] == "0.10"


# -- Bitget ---------------------------------------------------------------------------------


async def test_bitget_replay_is_the_capture_in_v2_framing() -> None:
    """The v1 capture, subscribed with v2 args: every data push in capture order, mapped to v2
    (instType, seq, top-level ts), prices and checksums byte for byte; acks per arg."""
    from sim_fixtures import BITGET_MIX_WS

    cap = read_capture(fixture(BITGET_MIX_WS))
    pushes = [json.loads(f.payload) for f in cap.received() if '"action"' in f.payload[:12]]
    args = [{"instType": "USDT-FUTURES", "channel": c, "instId": s}
            for s in ("DASHUSDT", "UNIUSDT") for c in ("books", "trade", "candle1m", "ticker")]
    async with (
        Simulator("bitget_usdtm", CaptureSource(fixture(BITGET_MIX_WS))) as sim,
        ws_connect(f"{sim.ws_url}/v2/ws/public") as ws,
    ):
        await ws.send(json.dumps({"op": "subscribe", "args": args}))
        acks = [await recv_json(ws) for _ in args]
        assert acks == [{"event": "subscribe", "arg": a} for a in args]
        got = [json.loads(f) for f in await read_rest(ws, sim, already=len(args))]
        await ws.send("ping")
        assert await asyncio.wait_for(ws.recv(), 5) == "pong"  # still answering at the end
    assert len(got) == len(pushes) == 465  # 194 books, 27 trade, 27 candle1m, 217 ticker
    seq: dict[str, int] = {}
    for mine, theirs in zip(got, pushes, strict=True):
        assert mine["arg"] == {**theirs["arg"], "instType": "USDT-FUTURES"}
        assert mine["action"] == theirs["action"] and isinstance(mine["ts"], int)
        if theirs["arg"]["channel"] == "books":
            [d], [v1] = mine["data"], theirs["data"]
            sym = theirs["arg"]["instId"]
            seq[sym] = seq.get(sym, 0) + 1
            assert d == {**v1, "seq": seq[sym]}
        elif theirs["arg"]["channel"] == "trade":
            assert [[t["ts"], t["price"], t["size"], t["side"]] for t in mine["data"]] == \
                theirs["data"]
        elif theirs["arg"]["channel"] == "candle1m":
            assert mine["data"] == theirs["data"]
    assert seq == {"DASHUSDT": 98, "UNIUSDT": 96}


async def test_bitget_rest_from_capture() -> None:
    from sim_fixtures import BITGET_SPOT_WS

    async with Simulator("bitget_spot", CaptureSource(fixture(BITGET_SPOT_WS))) as sim:
        info = await get_json(f"{sim.rest_url}/api/v2/spot/public/symbols")
        assert info["code"] == "00000" and len(info["data"]) == 245
        cult = next(s for s in info["data"] if s["symbol"] == "CULTUSDT")
        assert (cult["pricePrecision"], cult["quantityPrecision"]) == ("8", "0")
        one = await get_json(f"{sim.rest_url}/api/v2/spot/public/symbols?symbol=EOSUSDT")
        assert [s["symbol"] for s in one["data"]] == ["EOSUSDT"]
        status, _ = await get(f"{sim.rest_url}/api/v2/mix/market/contracts?productType=x")
        assert status == 404  # a spot simulator serves the spot paths only
