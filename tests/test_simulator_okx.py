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


# -- the private side ----------------------------------------------------------------------


async def okx_call(base: str, method: str, path: str, args: Any, *,
                   credentials: Any = None, timestamp: int | None = None) -> tuple[int, Any]:
    import time

    import aiohttp
    from trading_support import CREDENTIALS
    from yarl import URL

    from ttxt_kafka.connectors.okx import auth

    ts = timestamp or time.time_ns() // 1_000_000
    query = auth.encode_query(list(args.items())) if method == "GET" else ""
    body = auth.json_body(args) if method == "POST" else ""
    headers = auth.sign_rest(credentials or CREDENTIALS, method, path, query, body,
                             timestamp_ms=ts)
    url = URL(f"{base}{path}?{query}" if query else base + path, encoded=bool(query))
    async with aiohttp.ClientSession() as http, http.request(method, url, data=body or None,
                                                            headers=headers) as resp:
        return resp.status, await resp.json()


async def test_signed_rest_private_stream_and_contracts() -> None:
    """OKX's checks: key, passphrase, ISO timestamp within 30 s, base64 signature over
    timestamp + method + path?query + body; the private WS login; orders pushed with their
    fills; swap sizes in contracts (ctVal = the market's lot)."""
    import time

    import websockets
    from trading_support import API_KEY, API_SECRET, CREDENTIALS, simulator

    from ttxt_kafka.connectors.okx import auth
    from ttxt_kafka.credentials import Credentials

    def now() -> int:
        return time.time_ns() // 1_000_000

    sim = simulator("okx_swap", rate=None)
    await sim.start()
    try:
        place = "/api/v5/trade/order"
        create = {"instId": "BTC-USDT-SWAP", "tdMode": "cross", "side": "buy",
                  "ordType": "market", "sz": "10", "clOrdId": "okx1", "reduceOnly": False}
        wrong = Credentials(API_KEY, API_SECRET, "not-the-passphrase")
        for kwargs, code in (({"credentials": wrong}, "50105"),
                             ({"credentials": Credentials(API_KEY, "x" * 64,
                                                          CREDENTIALS.passphrase)}, "50113"),
                             ({"timestamp": now() - 60_000}, "50102")):
            status, body = await okx_call(sim.rest_url, "POST", place, create, **kwargs)
            assert (status, body["code"]) == (401, code), body
        assert not sim.exchange.engine._orders  # noqa: SLF001
        async with websockets.connect(f"{sim.ws_url}/ws/v5/private") as private:
            await private.send(json.dumps(auth.ws_login_message(wrong, now() // 1000)))
            assert (await recv_json(private))["code"] == "60024"
            await private.send(json.dumps(auth.ws_login_message(CREDENTIALS, now() // 1000)))
            login = await recv_json(private)
            assert (login["event"], login["code"]) == ("login", "0")
            arg = {"channel": "orders", "instType": "SWAP"}
            await private.send(json.dumps({"op": "subscribe", "args": [arg]}))
            assert (await recv_json(private))["event"] == "subscribe"
            status, body = await okx_call(sim.rest_url, "POST", place, create)
            assert status == 200 and body["code"] == "0", body
            assert body["data"][0]["clOrdId"] == "okx1" and body["data"][0]["sCode"] == "0"
            push = await recv_json(private)
            assert push["arg"]["channel"] == "orders"
            last = push["data"][-1]
            assert last["state"] == "filled" and last["accFillSz"] == "10" and last["tradeId"]
            assert Decimal(last["fillFee"]) < 0  # OKX signs fees paid negative
            await private.send("ping")
            assert await private.recv() == "pong"
        [engine_order] = sim.exchange.engine._orders.values()  # noqa: SLF001
        assert engine_order.qty == Decimal("0.010")  # 10 contracts of 0.001 BTC
        status, dup = await okx_call(sim.rest_url, "POST", place, create)
        assert (dup["code"], dup["data"][0]["sCode"]) == ("1", "51016")  # duplicate clOrdId
        status, found = await okx_call(sim.rest_url, "GET", "/api/v5/trade/order",
                                       {"instId": "BTC-USDT-SWAP", "clOrdId": "okx1"})
        assert found["data"][0]["state"] == "filled" and found["data"][0]["sz"] == "10"
        status, missing = await okx_call(sim.rest_url, "GET", "/api/v5/trade/order",
                                         {"instId": "BTC-USDT-SWAP", "clOrdId": "nope"})
        assert missing["code"] == "51603"
        status, positions = await okx_call(sim.rest_url, "GET", "/api/v5/account/positions",
                                           {"instType": "SWAP"})
        assert positions["data"][0]["pos"] == "10"
        bad = dict(create, clOrdId="not-alnum")
        status, refused = await okx_call(sim.rest_url, "POST", place, bad)
        assert refused["data"][0]["sCode"] == "51000"
        sim.inject("rate_limit")
        status, limited = await okx_call(sim.rest_url, "POST", place, dict(create, clOrdId="x2"))
        assert (status, limited["code"]) == (429, "50011")
        sim.inject("bad_signature")
        status, unsigned = await okx_call(sim.rest_url, "POST", place, dict(create, clOrdId="x3"))
        assert (status, unsigned["code"]) == (401, "50113")
        sim.inject("insufficient_balance")
        status, poor = await okx_call(sim.rest_url, "POST", place, dict(create, clOrdId="x4"))
        assert poor["data"][0]["sCode"] == "51008"
    finally:
        await sim.stop()


async def test_text_ping_after_silence_candle_sockets_and_channel_cap() -> None:
    """The connector sends the text `ping` only once its socket has been silent for the ping
    interval (OKX: 25 s; here 0.2 s), and OKX answers `pong`: while the market streams, no
    ping; once it stops, pings. Candles go to `/ws/v5/business` sockets; symbols are spread
    over public sockets of at most 100 channels."""
    from connector_harness import config_for

    from ttxt_kafka.bus import AsyncioQueue
    from ttxt_kafka.connectors import connector_for

    source = SyntheticSource(seed=2, symbols=["BTC-USDT", "ETH-USDT"], rate=200, max_steps=300)
    async with Simulator("okx_spot", source) as sim:
        queue = AsyncioQueue(capacity=10**6)
        default = connector_for(config_for("okx_spot", ["BTC/USDT"], sim), queue)
        assert (default.ping_after, default.heartbeat_interval) == (25.0, 5.0)
        connector = connector_for(config_for("okx_spot", ["BTC/USDT", "ETH/USDT"], sim,
                                             heartbeat_interval=0.2,
                                             max_streams_per_connection=3), queue)
        task = asyncio.ensure_future(connector.run())
        try:
            await connector.wait_synced(10)
            names = sorted(c.name for c in connector.connections)
            assert names == ["business#0", "public#0", "public#1"]  # 3 public channels each
            paths = {s.path for s in sim.sessions.values()}
            assert paths == {"/ws/v5/public", "/ws/v5/business"}
            busy = sum(s.pings_received for s in sim.sessions.values())
            await sim.wait_finished(20)
            await asyncio.sleep(1.0)  # silence: pings, each answered
            quiet = sum(s.pings_received for s in sim.sessions.values())
            assert busy == 0 < quiet
            assert connector.stats.reconnects == 0
            assert connector.stats.malformed == connector.stats.exchange_errors == 0
        finally:
            connector.stop()
            await task
