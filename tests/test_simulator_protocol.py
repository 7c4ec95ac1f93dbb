"""Wire-protocol details: heartbeats, method answers, and errors for bad client input."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp
import pytest
import websockets
from sim_helpers import get, get_json, recv_json, ws_connect

from ttxt_kafka.simulator import Simulator, SyntheticSource


def _market(rate: float | None = 20.0) -> SyntheticSource:
    return SyntheticSource(seed=5, symbols=["BTCUSDT", "ETHUSDT"], rate=rate)


# -- heartbeats -----------------------------------------------------------------------------


async def test_binance_server_pings_and_client_pongs() -> None:
    async with (
        Simulator("binance", _market(), ping_interval=0.05) as sim,
        ws_connect(f"{sim.ws_url}/ws/btcusdt@depth") as ws,
    ):
        await asyncio.sleep(0.3)
        session = sim.state()["sessions"][0]
        assert session["pings_sent"] >= 3 and session["pongs_received"] >= 3
        await asyncio.wait_for(await ws.ping(), 2)  # client pings get pongs too
        assert sim.state()["sessions"][0]["pings_received"] == 1


async def test_binance_drops_a_client_that_never_pongs() -> None:
    async with (
        Simulator("binance", _market(), ping_interval=0.05, pong_timeout=0.2) as sim,
        aiohttp.ClientSession() as http,
        http.ws_connect(f"{sim.ws_url}/ws/btcusdt@depth", autoping=False) as ws,
    ):
        pings = 0
        while True:
            msg = await asyncio.wait_for(ws.receive(), 3)
            if msg.type is aiohttp.WSMsgType.PING:
                pings += 1  # and no pong in reply
            elif msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED):
                break
        assert pings >= 2 and msg.data == 1008


async def test_bybit_app_level_ping() -> None:
    async with Simulator("bybit_spot", _market()) as sim, ws_connect(sim.ws_endpoint) as ws:
        await ws.send('{"req_id":"100001","op":"ping"}')
        pong = await recv_json(ws)
        assert list(pong) == ["success", "ret_msg", "conn_id", "req_id", "op"]
        assert pong["success"] and pong["ret_msg"] == "pong" and pong["op"] == "ping"
        assert pong["req_id"] == "100001"
    async with Simulator("bybit_linear", _market()) as sim, ws_connect(sim.ws_endpoint) as ws:
        await ws.send('{"op":"ping"}')
        pong = await recv_json(ws)
        assert pong["req_id"] == "" and pong["ret_msg"] == "pong"
        await asyncio.wait_for(await ws.ping(), 2)  # control-frame pings are answered as well


# -- Binance WS methods and errors ------------------------------------------------------------


async def test_binance_methods_and_errors() -> None:
    async with Simulator("binance", _market(rate=50)) as sim, ws_connect(f"{sim.ws_url}/ws") as ws:

        async def call(payload: str) -> Any:
            await ws.send(payload)
            while True:  # skip market data until the answer
                msg = await recv_json(ws)
                if "id" in msg:
                    return msg

        assert (await call('{"method":"LIST_SUBSCRIPTIONS","id":1}')) == {"result": [], "id": 1}
        sub = '{"method":"SUBSCRIBE","params":["btcusdt@depth","ethusdt@aggTrade"],"id":2}'
        assert (await call(sub)) == {"result": None, "id": 2}
        listed = await call('{"method":"LIST_SUBSCRIPTIONS","id":3}')
        assert listed["result"] == ["btcusdt@depth", "ethusdt@aggTrade"]
        event = await recv_json(ws)
        assert event["e"] in ("depthUpdate", "aggTrade")  # /ws: raw payloads
        assert (await call('{"method":"SET_PROPERTY","params":["combined",true],"id":4}'))[
            "result"
        ] is None
        while "stream" not in (wrapped := await recv_json(ws)):
            pass
        assert wrapped["stream"] in ("btcusdt@depth", "ethusdt@aggTrade")
        assert (await call('{"method":"GET_PROPERTY","params":["combined"],"id":5}'))[
            "result"
        ] is True

        bad = await call('{"method":"SUBSCRIBE","params":["nosuchcoin@depth"],"id":6}')
        assert bad["error"]["code"] == 2 and bad["id"] == 6
        bad = await call('{"method":"SUBSCRIBE","params":["btcusdt@nonsense"],"id":7}')
        assert bad["error"]["code"] == 2
        bad = await call('{"method":"SUBSCRIBES","params":[],"id":8}')
        assert "unknown variant `SUBSCRIBES`" in bad["error"]["msg"]
        bad = await call('{"method":"SET_PROPERTY","params":["colour",true],"id":9}')
        assert bad == {"error": {"code": 0, "msg": "Unknown property"}, "id": 9}
        bad = await call('{"method":"SUBSCRIBE","params":[],"id":{"x":1}}')
        assert bad["error"]["code"] == 2
        bad = await call("{not json")
        assert bad["error"]["code"] == 3 and bad["id"] is None
        assert (await call('{"method":"UNSUBSCRIBE","params":["btcusdt@depth"],"id":10}')) == {
            "result": None,
            "id": 10,
        }
        listed = await call('{"method":"LIST_SUBSCRIPTIONS","id":11}')
        assert listed["result"] == ["ethusdt@aggTrade"]


async def test_binance_unknown_stream_in_url_is_refused() -> None:
    async with Simulator("binance", _market()) as sim:
        with pytest.raises(websockets.InvalidStatus) as err:
            async with ws_connect(f"{sim.ws_url}/stream?streams=btcusdt@depth/bogus"):
                pass
        assert err.value.response.status_code == 400
        status, _ = await get(f"{sim.rest_url}/stream?streams=btcusdt@depth")  # plain HTTP
        assert status == 400
        # and the server is still fine
        async with ws_connect(f"{sim.ws_url}/stream?streams=btcusdt@depth") as ws:
            assert "stream" in await recv_json(ws)


async def test_binance_usdm_grammar() -> None:
    async with Simulator("binance_usdm", _market(rate=100)) as sim:
        with pytest.raises(websockets.InvalidStatus):
            async with ws_connect(f"{sim.ws_url}/stream?streams=btcusdt@trade"):
                pass  # USD-M has aggTrade, not trade
        url = f"{sim.ws_url}/stream?streams=btcusdt@depth@500ms/btcusdt@depth5@100ms"
        async with ws_connect(url) as ws:
            seen: set[str] = set()
            while len(seen) < 2:
                msg = await recv_json(ws)
                seen.add(msg["stream"])
                assert msg["data"]["e"] == "depthUpdate" and "pu" in msg["data"]


# -- REST errors ------------------------------------------------------------------------------


async def test_binance_rest_answers_and_errors() -> None:
    async with Simulator("binance", _market()) as sim:
        base = f"{sim.rest_url}/api/v3"
        assert await get_json(f"{base}/ping") == {}
        assert (await get_json(f"{base}/time"))["serverTime"] > 1_600_000_000_000
        status, body = await get(f"{base}/depth")
        assert status == 400 and json.loads(body)["code"] == -1102
        status, body = await get(f"{base}/depth?symbol=NOPE")
        assert status == 400 and json.loads(body) == {"code": -1121, "msg": "Invalid symbol."}
        status, body = await get(f"{base}/depth?symbol=BTCUSDT&limit=abc")
        assert status == 400 and json.loads(body)["code"] == -1100
        book = await get_json(f"{base}/depth?symbol=BTCUSDT&limit=5")
        assert len(book["bids"]) == len(book["asks"]) == 5
        assert list(book) == ["lastUpdateId", "bids", "asks"]
        status, _ = await get(f"{base}/exchangeInfo?symbols=not-json")
        assert status == 400
        info = await get_json(f'{base}/exchangeInfo?symbols=["ETHUSDT"]')
        assert [s["symbol"] for s in info["symbols"]] == ["ETHUSDT"]
        status, _ = await get(f"{sim.rest_url}/fapi/v1/depth?symbol=BTCUSDT")
        assert status == 404  # a spot simulator has no futures API


async def test_binance_usdm_rest() -> None:
    async with Simulator("binance_usdm", _market()) as sim:
        base = f"{sim.rest_url}/fapi/v1"
        book = await get_json(f"{base}/depth?symbol=BTCUSDT&limit=10")
        assert list(book) == ["lastUpdateId", "E", "T", "bids", "asks"]
        status, body = await get(f"{base}/depth?symbol=BTCUSDT&limit=7")
        assert status == 400 and json.loads(body)["code"] == -1130
        info = await get_json(f"{base}/exchangeInfo")
        btc = next(s for s in info["symbols"] if s["symbol"] == "BTCUSDT")
        assert btc["contractType"] == "PERPETUAL" and btc["filters"][0]["tickSize"] == "0.10"


# -- Bybit errors -----------------------------------------------------------------------------


async def test_bybit_subscribe_errors() -> None:
    async with Simulator("bybit_spot", _market(rate=50)) as sim, ws_connect(sim.ws_endpoint) as ws:

        async def call(payload: str) -> Any:
            await ws.send(payload)
            while True:
                msg = await recv_json(ws)
                if "op" in msg:
                    return msg

        bad = await call('{"op":"subscribe","args":["publicTrade.BTCUSDT","orderbook.40.BTCUSDT"]}')
        assert bad["success"] is False
        assert bad["ret_msg"] == "error:handler not found,topic:orderbook.40.BTCUSDT"
        assert sim.state()["sessions"][0]["subscriptions"] == []  # the whole batch failed
        ok = await call('{"op":"subscribe","args":["publicTrade.BTCUSDT"],"req_id":"a"}')
        assert ok["success"] is True and ok["ret_msg"] == "subscribe" and ok["req_id"] == "a"
        again = await call('{"op":"subscribe","args":["publicTrade.BTCUSDT"]}')
        assert again["ret_msg"] == "error:already subscribed,topic:publicTrade.BTCUSDT"
        lower = await call('{"op":"subscribe","args":["orderbook.50.btcusdt"]}')
        assert lower["success"] is False
        many = json.dumps({"op": "subscribe", "args": [f"kline.{i}.BTCUSDT" for i in range(11)]})
        assert (await call(many))["ret_msg"] == "args size >10"
        invalid = await call('{"op":"fly"}')
        assert invalid["ret_msg"] == "error:invalid op" and invalid["success"] is False
        garbage = await call("hello")
        assert garbage["success"] is False and "Failed to decode" in garbage["ret_msg"]
        unsub = await call('{"op":"unsubscribe","args":["publicTrade.BTCUSDT"]}')
        assert unsub["success"] is True
        assert sim.state()["sessions"][0]["subscriptions"] == []


async def test_bybit_rest_answers_and_errors() -> None:
    async with Simulator("bybit_linear", _market()) as sim:
        base = f"{sim.rest_url}/v5/market"
        now = await get_json(f"{base}/time")
        assert now["retCode"] == 0 and now["result"]["timeSecond"].isdigit()
        wrong = await get_json(f"{base}/orderbook?category=spot&symbol=BTCUSDT")
        assert wrong["retCode"] == 10001
        assert (await get_json(f"{base}/orderbook?category=linear"))["retCode"] == 10001
        assert (await get_json(f"{base}/orderbook?category=linear&symbol=NOPE"))["retCode"] == 10001
        too_deep = await get_json(f"{base}/orderbook?category=linear&symbol=BTCUSDT&limit=501")
        assert too_deep["retCode"] == 10001
        book = await get_json(f"{base}/orderbook?category=linear&symbol=BTCUSDT")
        assert len(book["result"]["b"]) == 25  # the linear default
        assert list(book["result"]) == ["s", "a", "b", "ts", "u", "seq", "cts"]
        info = await get_json(f"{base}/instruments-info?category=linear")
        assert [i["symbol"] for i in info["result"]["list"]] == ["BTCUSDT", "ETHUSDT"]
        assert info["result"]["list"][0]["priceScale"] == "2"
        none = await get_json(f"{base}/instruments-info?category=linear&symbol=NOPE")
        assert none["result"]["list"] == []
        status, _ = await get(f"{sim.ws_url.replace('ws', 'http', 1)}/v5/public/spot")
        assert status == 404  # a linear simulator serves the linear path only


async def test_bitget_text_ping_subscribe_errors_and_rest() -> None:
    async with Simulator("bitget_spot", _market(rate=50)) as sim, \
            ws_connect(f"{sim.ws_url}/v2/ws/public") as ws:

        async def call(payload: str) -> Any:
            await ws.send(payload)
            while True:
                raw = await asyncio.wait_for(ws.recv(), 5)
                msg = raw if raw == "pong" else json.loads(raw)
                if raw == "pong" or "event" in msg:
                    return msg

        assert await call("ping") == "pong"
        ok = {"instType": "SPOT", "channel": "trade", "instId": "BTCUSDT"}
        bad_inst = {"instType": "SPOT", "channel": "trade", "instId": "NOPE"}
        wrong_type = {**ok, "instType": "USDT-FUTURES"}
        await ws.send(json.dumps({"op": "subscribe", "args": [bad_inst, ok, wrong_type]}))
        answers = [await recv_json(ws) for _ in range(3)]  # one answer per arg, in order
        assert answers[0] == {"event": "error", "arg": bad_inst, "code": 30001,
                              "msg": "instId:NOPE doesn't exist"}
        assert answers[1] == {"event": "subscribe", "arg": ok}
        assert answers[2]["code"] == 30001 and "instType" in answers[2]["msg"]
        assert sim.state()["sessions"][0]["subscriptions"] == ["trade:BTCUSDT"]
        candle = {"instType": "SPOT", "channel": "candle7m", "instId": "BTCUSDT"}
        assert (await call(json.dumps({"op": "subscribe", "args": [candle]})))["code"] == 30001
        assert (await call('{"op":"fly","args":[]}'))["code"] == 30003
        assert (await call("hello"))["code"] == 30002
        unsub = await call(json.dumps({"op": "unsubscribe", "args": [ok]}))
        assert unsub == {"event": "unsubscribe", "arg": ok}
        assert sim.state()["sessions"][0]["subscriptions"] == []
        base = f"{sim.rest_url}/api/v2"
        now = await get_json(f"{base}/public/time")
        assert now["code"] == "00000" and now["data"]["serverTime"].isdigit()
        status, body = await get(f"{base}/spot/market/orderbook")
        assert status == 400 and json.loads(body)["code"] == "40019"
        status, body = await get(f"{base}/spot/market/orderbook?symbol=BTCUSDT&limit=201")
        assert status == 400 and json.loads(body)["code"] == "40017"
        book = await get_json(f"{base}/spot/market/orderbook?symbol=BTCUSDT&limit=5")
        assert len(book["data"]["bids"]) == 5 and list(book["data"]) == ["asks", "bids", "ts"]
        info = await get_json(f"{base}/spot/public/symbols")
        assert [s["symbol"] for s in info["data"]] == ["BTCUSDT", "ETHUSDT"]
    async with Simulator("bitget_usdtm", _market()) as sim:
        status, body = await get(f"{sim.rest_url}/api/v2/mix/market/contracts?productType=X")
        assert status == 400 and json.loads(body)["code"] == "40020"
        info = await get_json(f"{sim.rest_url}/api/v2/mix/market/contracts"
                              "?productType=USDT-FUTURES")
        assert info["data"][0]["pricePlace"] == "1" and info["data"][0]["priceEndStep"] == "1"


async def test_mexc_ping_subscription_answers_limit_binary_pushes_and_rest() -> None:
    from ttxt_kafka.connectors.mexc.pb.PushDataV3ApiWrapper_pb2 import PushDataV3ApiWrapper

    depth = "spot@public.aggre.depth.v3.api.pb@100ms@BTCUSDT"
    async with Simulator("mexc_spot", _market(rate=50)) as sim, \
            ws_connect(f"{sim.ws_url}/ws") as ws:

        async def call(req: dict[str, Any]) -> Any:
            await ws.send(json.dumps(req))
            while True:
                raw = await asyncio.wait_for(ws.recv(), 5)
                if isinstance(raw, str):
                    return json.loads(raw)

        assert await call({"method": "PING"}) == {"id": 0, "code": 0, "msg": "PONG"}
        ok = await call({"method": "SUBSCRIPTION", "params": [depth], "id": 7})
        assert ok == {"id": 7, "code": 0, "msg": depth}
        while isinstance(raw := await asyncio.wait_for(ws.recv(), 5), str):
            pass
        push = PushDataV3ApiWrapper.FromString(raw)  # pushes are binary protobuf
        assert push.channel == depth and push.WhichOneof("body") == "publicAggreDepths"
        assert int(push.publicAggreDepths.fromVersion) <= int(push.publicAggreDepths.toVersion)
        bad = await call({"method": "SUBSCRIPTION", "params": [depth.replace("BTC", "NOPE")],
                          "id": 8})
        assert bad["code"] == 0 and bad["msg"].startswith("Not Subscribed successfully!")
        intervals = ("Min1", "Min5", "Min15", "Min30", "Min60", "Hour4", "Hour8", "Day1",
                     "Week1")
        many = [f"spot@public.kline.v3.api.pb@{sym}@{i}" for sym in ("BTCUSDT", "ETHUSDT")
                for i in intervals]
        many += [f"spot@public.aggre.{c}.v3.api.pb@{speed}@{sym}" for c in ("deals", "bookTicker")
                 for speed in ("100ms", "10ms") for sym in ("BTCUSDT", "ETHUSDT")]
        many += [f"spot@public.aggre.depth.v3.api.pb@10ms@{sym}" for sym in ("BTCUSDT", "ETHUSDT")]
        many.append(depth.replace("BTC", "ETH"))
        assert len(many) == 29  # with the first one: MEXC's 30 per connection
        answer = await call({"method": "SUBSCRIPTION", "params": many, "id": 9})
        assert answer == {"id": 9, "code": 0, "msg": ",".join(many)}
        assert len(sim.state()["sessions"][0]["subscriptions"]) == 30
        one_more = await call({"method": "SUBSCRIPTION", "id": 10,
                               "params": ["spot@public.kline.v3.api.pb@BTCUSDT@Month1"]})
        assert "more than 30 subscriptions" in one_more["msg"]
        assert (await call({"method": "FLY"}))["msg"] == "wrong method"
        status, body = await get(f"{sim.rest_url}/api/v3/depth?symbol=NOPE")
        assert status == 400 and json.loads(body)["code"] == -1121
        status, body = await get(f"{sim.rest_url}/api/v3/depth?symbol=BTCUSDT&limit=5001")
        assert status == 400
        book = await get_json(f"{sim.rest_url}/api/v3/depth?symbol=BTCUSDT&limit=5")
        assert len(book["bids"]) == 5 and book["lastUpdateId"] > 0
        info = await get_json(f"{sim.rest_url}/api/v3/exchangeInfo")
        assert [s["symbol"] for s in info["symbols"]] == ["BTCUSDT", "ETHUSDT"]
        assert (await get_json(f"{sim.rest_url}/api/v3/time"))["serverTime"] > 0


async def test_kraken_v2_status_ping_acks_per_symbol_errors_and_rest() -> None:
    async with Simulator("kraken_spot", SyntheticSource(seed=3, symbols=["BTC/USDT", "ETH/USDT"],
                                                        rate=50)) as sim, \
            ws_connect(f"{sim.ws_url}/v2") as ws:
        status = await recv_json(ws)
        assert status["channel"] == "status" and status["data"][0]["system"] == "online"

        async def answer(req: dict[str, Any]) -> Any:
            await ws.send(json.dumps(req))
            while True:
                msg = await recv_json(ws)
                if "method" in msg:
                    return msg

        pong = await answer({"method": "ping", "req_id": 9})
        assert pong["method"] == "pong" and pong["req_id"] == 9
        await ws.send(json.dumps({"method": "subscribe", "req_id": 1, "params": {
            "channel": "book", "symbol": ["BTC/USDT", "ETH/USDT"], "depth": 10}}))
        acks, snapshots = [], []
        while len(acks) < 2 or len(snapshots) < 2:
            msg = await recv_json(ws)
            if msg.get("method") == "subscribe":
                acks.append(msg)
            elif msg.get("channel") == "book" and msg["type"] == "snapshot":
                snapshots.append(msg)
        assert [a["result"]["symbol"] for a in acks] == ["BTC/USDT", "ETH/USDT"]
        assert all(a["success"] and a["req_id"] == 1 for a in acks)
        book = snapshots[0]["data"][0]
        assert len(book["bids"]) == 10 and isinstance(book["checksum"], int)
        bad = await answer({"method": "subscribe", "req_id": 2, "params": {
            "channel": "book", "symbol": ["FOO/BAR"], "depth": 10}})
        assert bad["success"] is False and bad["error"] == "Currency pair not supported FOO/BAR"
        depth = await answer({"method": "subscribe", "req_id": 3, "params": {
            "channel": "book", "symbol": ["BTC/USDT"], "depth": 7}})
        assert depth["success"] is False and "depth" in depth["error"]
        assert (await answer({"method": "fly"}))["success"] is False
        pairs = await get_json(f"{sim.rest_url}/0/public/AssetPairs")
        assert pairs["error"] == [] and pairs["result"]["BTCUSDT"]["wsname"] == "XBT/USDT"
        assert (await get_json(f"{sim.rest_url}/0/public/Time"))["result"]["unixtime"] > 0


async def test_coinbase_connection_rules() -> None:
    """Coinbase's documented rules: no subscribe within 5 s closes the connection (here
    0.3 s); per IP, a 9th connection within a second is refused with HTTP 429, a 9th message
    within a second gets an error and the connection closed."""
    source = SyntheticSource(seed=5, symbols=["BTC-USDT"], rate=20.0)
    async with Simulator("coinbase_spot", source) as sim:
        proto = sim.protocol
        proto.subscribe_deadline = 0.3  # type: ignore[union-attr]
        async with ws_connect(sim.ws_url) as idle:
            with pytest.raises(websockets.ConnectionClosed):
                await asyncio.wait_for(idle.recv(), 5)
        assert idle.close_code == 1000
        await asyncio.sleep(1.1)  # a fresh second for the connection count
        opened = [await ws_connect(sim.ws_url).__aenter__() for _ in range(8)]
        with pytest.raises(websockets.InvalidStatus) as refused:
            await ws_connect(sim.ws_url).__aenter__()
        assert refused.value.response.status_code == 429
        assert proto.refused_connections == 1  # type: ignore[union-attr]
        for ws in opened:
            await ws.close()
        await asyncio.sleep(1.1)
        async with ws_connect(sim.ws_url) as ws:
            sub = {"type": "subscribe", "channel": "heartbeats"}
            for _ in range(9):
                await ws.send(json.dumps(sub))
            errors = []
            with pytest.raises(websockets.ConnectionClosed):
                while True:
                    msg = json.loads(await asyncio.wait_for(ws.recv(), 5))
                    if msg.get("type") == "error":
                        errors.append(msg["message"])
        assert errors == ["rate limit exceeded: too many messages"]
        assert ws.close_code == 1008 and proto.rate_limited == 1  # type: ignore[union-attr]
