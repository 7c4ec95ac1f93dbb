"""OKX v5 on the simulator: the synthetic market's `books` (valid seqId chains and checksums of
the client's own book), tickers, trades, candles on `/ws/v5/business`; the protocol's text ping,
error frames and REST; the 2022 capture replayed in today's framing (seqId/prevSeqId added, the
captured checksums unchanged, the dated future left out)."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from typing import Any

import pytest
from connector_support import fixture
from okx_support import OKX_WS, okx_crc, okx_frames
from sim_helpers import get, get_json, read_rest, recv_json, ws_connect

from ttxt_kafka.simulator import CaptureSource, Simulator, SyntheticSource

STEPS = 1000


@pytest.mark.parametrize("venue,natives", [("okx_spot", ("BTC-USDT", "ETH-USDT")),
                                           ("okx_swap", ("BTC-USDT-SWAP", "ETH-USDT-SWAP"))])
async def test_synthetic_seq_chain_and_checksums(venue: str, natives: tuple[str, str]) -> None:
    source = SyntheticSource(seed=3, symbols=["BTCUSDT", "ETHUSDT"], rate=None, max_steps=STEPS)
    args = [{"channel": c, "instId": s} for s in natives
            for c in ("books", "tickers", "trades", "bbo-tbt")]
    async with Simulator(venue, source) as sim, \
            ws_connect(f"{sim.ws_url}/ws/v5/public") as ws:
        await ws.send(json.dumps({"op": "subscribe", "args": args}))
        frames = await read_rest(ws, sim, timeout=30)
    books: dict[str, dict[str, dict[Decimal, tuple[str, str]]]] = {}
    last: dict[str, int] = {}
    checked = trades = tickers = 0
    for frame in frames:
        msg = json.loads(frame)
        if "event" in msg:
            assert msg["event"] == "subscribe" and msg["connId"]
            continue
        channel, sym = msg["arg"]["channel"], msg["arg"]["instId"]
        [d] = msg["data"]
        if channel == "books":
            if msg["action"] == "snapshot":
                assert d["prevSeqId"] == -1 and len(d["bids"]) <= 400
                books[sym] = {"b": {}, "a": {}}
            else:
                assert d["prevSeqId"] == last[sym] and d["seqId"] > d["prevSeqId"]
            last[sym] = d["seqId"]
            for key, side in (("b", d["bids"]), ("a", d["asks"])):
                for px, sz, _, _ in side:
                    if Decimal(sz) == 0:
                        books[sym][key].pop(Decimal(px), None)
                    else:
                        books[sym][key][Decimal(px)] = (px, sz)
            b = [books[sym]["b"][p] for p in sorted(books[sym]["b"], reverse=True)]
            a = [books[sym]["a"][p] for p in sorted(books[sym]["a"])]
            assert okx_crc(b, a) == d["checksum"] != 0
            assert Decimal(b[0][0]) < Decimal(a[0][0])
            if venue == "okx_swap":
                assert all(sz.isdigit() for _, sz in b + a)  # contracts
            checked += 1
        elif channel == "tickers":
            assert (d["bidPx"], d["bidSz"]) == books[sym]["b"][max(books[sym]["b"])]
            tickers += 1
        elif channel == "trades":
            assert d["side"] in ("buy", "sell") and d["instId"] == sym
            trades += 1
    assert checked > STEPS and trades > 10 and tickers > 10


async def test_candles_on_business_and_protocol_errors() -> None:
    source = SyntheticSource(seed=1, symbols=["BTC-USDT"], rate=50)
    async with Simulator("okx_spot", source) as sim:
        async with ws_connect(f"{sim.ws_url}/ws/v5/business") as ws:
            candle = {"channel": "candle1m", "instId": "BTC-USDT"}
            await ws.send(json.dumps({"op": "subscribe", "args": [candle]}))
            assert (await recv_json(ws))["event"] == "subscribe"
            push = await recv_json(ws, timeout=10)
            assert push["arg"] == candle and len(push["data"][0]) == 9
            books = {"channel": "books", "instId": "BTC-USDT"}
            await ws.send(json.dumps({"op": "subscribe", "args": [books]}))
            while "event" not in (msg := await recv_json(ws)):
                pass
            assert msg["event"] == "error" and msg["code"] == "60018"  # wrong URL
        async with ws_connect(f"{sim.ws_url}/ws/v5/public") as ws:

            async def call(payload: str) -> Any:
                await ws.send(payload)
                while True:
                    raw = await asyncio.wait_for(ws.recv(), 5)
                    if raw == "pong":
                        return raw
                    msg = json.loads(raw)
                    if "event" in msg:
                        return msg

            assert await call("ping") == "pong"
            bad = {"channel": "books", "instId": "NOPE-USDT"}
            assert (await call(json.dumps({"op": "subscribe", "args": [bad]})))["code"] == "60018"
            assert (await call('{"op":"fly","args":[]}'))["code"] == "60012"
            assert (await call("hello"))["code"] == "60012"
            assert (await call('{"op":"subscribe","args":[]}'))["code"] == "60013"
            candle = {"channel": "candle1m", "instId": "BTC-USDT"}  # candles: business only
            assert (await call(json.dumps({"op": "subscribe", "args": [candle]})))["code"] == \
                "60018"
        base = f"{sim.rest_url}/api/v5"
        now = await get_json(f"{base}/public/time")
        assert now["code"] == "0" and now["data"][0]["ts"].isdigit()
        status, body = await get(f"{base}/public/instruments")
        assert status == 400 and json.loads(body)["code"] == "50014"
        assert (await get_json(f"{base}/public/instruments?instType=SWAP"))["data"] == []
        info = await get_json(f"{base}/public/instruments?instType=SPOT")
        assert [(s["instId"], s["baseCcy"], s["quoteCcy"]) for s in info["data"]] == [
            ("BTC-USDT", "BTC", "USDT")]
        book = await get_json(f"{base}/market/books?instId=BTC-USDT&sz=5")
        assert len(book["data"][0]["bids"]) == 5
        status, body = await get(f"{base}/market/books?instId=BTC-USDT&sz=401")
        assert status == 400


async def test_capture_replay_in_todays_framing() -> None:
    args = [{"channel": c, "instId": "BTC-USDT"} for c in ("books", "trades", "tickers")]
    async with Simulator("okx_spot", CaptureSource(fixture(OKX_WS))) as sim, \
            ws_connect(f"{sim.ws_url}/ws/v5/public") as ws:
        await ws.send(json.dumps({"op": "subscribe", "args": args}))
        frames = [json.loads(f) for f in await read_rest(ws, sim, timeout=30)]
        info = await get_json(f"{sim.rest_url}/api/v5/public/instruments?instType=SPOT")
        assert len(info["data"]) == 513
    pushes = [f for f in frames if "event" not in f]
    assert {p["arg"]["instId"] for p in pushes} == {"BTC-USDT"}
    books = [p for p in pushes if p["arg"]["channel"] == "books"]
    captured = [json.loads(raw) for raw in okx_frames("books", "spot")]
    assert len(books) == len(captured) == 98
    prev = -1
    for sent, cap in zip(books, captured, strict=True):
        [d], [c] = sent["data"], cap["data"]
        assert (d["asks"], d["bids"], d["checksum"], d["ts"]) == (c["asks"], c["bids"],
                                                                  c["checksum"], c["ts"])
        assert d["prevSeqId"] == (-1 if sent["action"] == "snapshot" else prev)
        prev = d["seqId"]
    assert len([p for p in pushes if p["arg"]["channel"] == "trades"]) == 69
