"""The simulator's private side, spoken to directly (no connector, no Kafka): signatures and
timestamp windows checked like the exchanges check them, refusals with their codes, faults on
demand, listen keys, user data and private streams, Bybit's trade WS."""

from __future__ import annotations

import asyncio
import json
import time
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
import websockets
from connector_support import BINANCE_SPOT_WS, fixture
from sim_helpers import recv_json
from trading_support import API_KEY, API_SECRET, CREDENTIALS, simulator
from yarl import URL

from ttxt_kafka.connectors.binance import auth as binance_auth
from ttxt_kafka.connectors.binance.orders import user_data_subscribe
from ttxt_kafka.connectors.bitget import auth as bitget_auth
from ttxt_kafka.connectors.bybit import auth as bybit_auth
from ttxt_kafka.connectors.gateio import auth as gate_auth
from ttxt_kafka.connectors.kraken import auth as kraken_auth
from ttxt_kafka.connectors.kucoin import auth as kucoin_auth
from ttxt_kafka.credentials import Credentials
from ttxt_kafka.events import Side
from ttxt_kafka.simulator import CaptureSource, Simulator
from ttxt_kafka.simulator.trading import TradingSettings


def now_ms() -> int:
    return int(time.time() * 1000)


async def binance_call(base: str, method: str, path: str, params: list[tuple[str, str]], *,
                       credentials: Credentials = CREDENTIALS, timestamp: int | None = None
                       ) -> tuple[int, Any]:
    signed = binance_auth.sign_rest(credentials, params, timestamp_ms=timestamp or now_ms())
    async with aiohttp.ClientSession() as http, http.request(
            method, URL(f"{base}{path}?{signed.query}", encoded=True),
            headers=signed.headers) as resp:
        return resp.status, await resp.json()


async def bybit_call(base: str, method: str, path: str, args: dict[str, Any], *,
                     timestamp: int | None = None) -> Any:
    ts = timestamp or now_ms()
    if method == "GET":
        query = bybit_auth.encode_query(args)
        headers = bybit_auth.sign_rest(CREDENTIALS, query, timestamp_ms=ts)
        url, body = URL(f"{base}{path}?{query}", encoded=True), None
    else:
        body = bybit_auth.json_body(args)
        headers = bybit_auth.sign_rest(CREDENTIALS, body, timestamp_ms=ts)
        url = URL(base + path)
    async with aiohttp.ClientSession() as http, http.request(method, url, data=body,
                                                            headers=headers) as resp:
        return await resp.json()


async def bitget_call(base: str, method: str, path: str, args: dict[str, Any], *,
                      credentials: Credentials = CREDENTIALS, timestamp: int | None = None
                      ) -> tuple[int, Any]:
    ts = timestamp or now_ms()
    query = bitget_auth.encode_query(args) if method == "GET" else ""
    body = bitget_auth.json_body(args) if method == "POST" else ""
    headers = bitget_auth.sign_rest(credentials, method, path, query, body, timestamp_ms=ts)
    url = URL(f"{base}{path}?{query}" if query else base + path, encoded=bool(query))
    async with aiohttp.ClientSession() as http, http.request(method, url, data=body or None,
                                                            headers=headers) as resp:
        return resp.status, await resp.json()


async def gate_call(base: str, method: str, path: str, params: dict[str, str] | None = None,
                    body: dict[str, Any] | None = None, *,
                    credentials: Credentials = CREDENTIALS, timestamp: int | None = None
                    ) -> tuple[int, Any]:
    query = gate_auth.encode_query(params or {})
    text = gate_auth.json_body(body) if body is not None else ""
    headers = gate_auth.sign_rest(credentials, method, path, query, text,
                                  timestamp_s=timestamp or now_ms() // 1000)
    url = URL(f"{base}{path}?{query}" if query else base + path, encoded=bool(query))
    async with aiohttp.ClientSession() as http, http.request(method, url, data=text or None,
                                                            headers=headers) as resp:
        return resp.status, await resp.json()


async def kucoin_call(base: str, method: str, path: str, args: dict[str, Any], *,
                      credentials: Credentials = CREDENTIALS, timestamp: int | None = None,
                      headers: dict[str, str] | None = None) -> tuple[int, Any]:
    ts = timestamp or now_ms()
    query = kucoin_auth.encode_query(args) if method in ("GET", "DELETE") else ""
    body = kucoin_auth.json_body(args) if method == "POST" else ""
    signed = kucoin_auth.sign_rest(credentials, method, path, query, body, timestamp_ms=ts)
    url = URL(f"{base}{path}?{query}" if query else base + path, encoded=bool(query))
    async with aiohttp.ClientSession() as http, http.request(
            method, url, data=body or None, headers={**signed, **(headers or {})}) as resp:
        return resp.status, await resp.json()


ORDER = [("symbol", "BTCUSDT"), ("side", "BUY"), ("type", "LIMIT"), ("timeInForce", "GTC"),
         ("quantity", "0.01"), ("price", "60000.0"), ("newClientOrderId", "sig-1")]


async def test_binance_signed_rest_is_checked_like_binance() -> None:
    sim = simulator("binance", rate=None)
    await sim.start()
    base = sim.rest_url
    try:
        wrong = Credentials(API_KEY, API_SECRET[:-1] + "X")
        assert await binance_call(base, "POST", "/api/v3/order", ORDER, credentials=wrong) == (
            400, {"code": -1022, "msg": "Signature for this request is not valid."})
        assert (await binance_call(base, "POST", "/api/v3/order", ORDER,
                                   credentials=Credentials("other" * 13, API_SECRET)))[1][
            "code"] == -2015
        stale = await binance_call(base, "POST", "/api/v3/order", ORDER,
                                   timestamp=now_ms() - 6000)
        assert stale == (400, {"code": -1021, "msg": binance_auth.MSG_OUTSIDE_WINDOW})
        assert not sim.exchange.engine._orders  # noqa: SLF001 - nothing got through
        status, body = await binance_call(base, "POST", "/api/v3/order", ORDER)
        assert status == 200 and body["status"] == "NEW" and body["price"] == "60000.00000000"
        assert (await binance_call(base, "POST", "/api/v3/order", ORDER))[1] == {
            "code": -2010, "msg": "Duplicate order sent."}
        status, body = await binance_call(base, "GET", "/api/v3/order",
                                          [("symbol", "BTCUSDT"), ("origClientOrderId", "nope")])
        assert (status, body["code"]) == (400, -2013)
        sim.inject("rate_limit")
        status, body = await binance_call(base, "GET", "/api/v3/openOrders", [])
        assert (status, body["code"]) == (429, -1003)
        sim.inject("insufficient_balance")
        order2 = [(k, "sig-2" if k == "newClientOrderId" else v) for k, v in ORDER]
        assert (await binance_call(base, "POST", "/api/v3/order", order2))[1]["code"] == -2010
        sim.inject("bad_signature")
        assert (await binance_call(base, "GET", "/api/v3/account", []))[1]["code"] == -1022
        status, body = await binance_call(base, "DELETE", "/api/v3/openOrders",
                                          [("symbol", "BTCUSDT")])
        assert status == 200 and [o["origClientOrderId"] for o in body] == ["sig-1"]
        applied = [f["kind"] for f in sim.state()["faults_applied"]]
        assert applied == ["rate_limit", "insufficient_balance", "bad_signature"]
    finally:
        await sim.stop()


async def test_binance_spot_user_data_over_the_ws_api() -> None:
    sim = simulator("binance", rate=None)
    await sim.start()
    try:
        async with websockets.connect(f"{sim.ws_url}/ws-api/v3") as ws:
            bad = user_data_subscribe(Credentials(API_KEY, "nope" * 16),
                                      timestamp_ms=now_ms(), request_id="a")
            await ws.send(json.dumps(bad))
            assert (await recv_json(ws))["error"]["code"] == -1022
            await ws.send(json.dumps(user_data_subscribe(CREDENTIALS, timestamp_ms=now_ms(),
                                                         request_id="b")))
            assert await recv_json(ws) == {"id": "b", "status": 200,
                                           "result": {"subscriptionId": 0}}
            status, _ = await binance_call(sim.rest_url, "POST", "/api/v3/order", ORDER)
            assert status == 200
            report = await recv_json(ws)
            assert report["subscriptionId"] == 0
            assert (report["event"]["e"], report["event"]["X"], report["event"]["c"]) == (
                "executionReport", "NEW", "sig-1")
            balances = await recv_json(ws)
            assert balances["event"]["e"] == "outboundAccountPosition"
            assert {b["a"]: b["l"] for b in balances["event"]["B"]} == {"USDT": "600.00000000"}
    finally:
        await sim.stop()


async def test_binance_usdm_listen_key_and_user_stream() -> None:
    sim = simulator("binance_usdm", rate=None)
    await sim.start()
    try:
        headers = {binance_auth.API_KEY_HEADER: API_KEY}
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{sim.rest_url}/fapi/v1/listenKey",
                                 headers={binance_auth.API_KEY_HEADER: "x"}) as resp:
                assert resp.status == 401
            async with http.post(f"{sim.rest_url}/fapi/v1/listenKey", headers=headers) as resp:
                key = (await resp.json())["listenKey"]
            async with http.put(f"{sim.rest_url}/fapi/v1/listenKey", headers=headers) as resp:
                assert (await resp.json())["listenKey"] == key
        async with websockets.connect(f"{sim.ws_url}/ws/{key}") as ws:
            market = [("symbol", "BTCUSDT"), ("side", "SELL"), ("type", "MARKET"),
                      ("quantity", "0.01"), ("newClientOrderId", "short-1")]
            assert (await binance_call(sim.rest_url, "POST", "/fapi/v1/order", market))[0] == 200
            events = [await recv_json(ws) for _ in range(3)]
            assert [e["e"] for e in events] == ["ORDER_TRADE_UPDATE"] * 2 + ["ACCOUNT_UPDATE"]
            assert events[1]["o"]["X"] == "FILLED" and events[1]["o"]["x"] == "TRADE"
            assert events[2]["a"]["P"][0]["pa"] == "-0.01"
            status, risk = await binance_call(sim.rest_url, "GET", "/fapi/v3/positionRisk", [])
            assert [(p["symbol"], p["positionAmt"]) for p in risk] == [("BTCUSDT", "-0.01")]
            sim.inject("drop_connection")
            await asyncio.wait_for(ws.wait_closed(), 5)
    finally:
        await sim.stop()


async def test_bybit_rest_trade_ws_and_private_stream() -> None:
    sim = simulator("bybit_linear", rate=None)
    await sim.start()
    try:
        create = {"category": "linear", "symbol": "BTCUSDT", "side": "Buy",
                  "orderType": "Market", "qty": "0.01", "orderLinkId": "by-1"}
        stale = await bybit_call(sim.rest_url, "POST", "/v5/order/create", create,
                                 timestamp=now_ms() - 10_000)
        assert stale["retCode"] == 10002
        async with websockets.connect(f"{sim.ws_url}/v5/private") as private, \
                websockets.connect(f"{sim.ws_url}/v5/trade") as trade:
            order = {"reqId": "r1", "header": bybit_auth.trade_header(now_ms()),
                     "op": "order.create", "args": [create]}
            await trade.send(json.dumps(order))
            assert (await recv_json(trade))["retCode"] == 10003  # not authenticated yet
            bad_auth = bybit_auth.ws_auth_message(Credentials(API_KEY, "x" * 64),
                                                  now_ms() + 5000)
            await trade.send(json.dumps(bad_auth))
            assert (await recv_json(trade))["retCode"] == 10004
            for ws in (trade, private):
                await ws.send(json.dumps(bybit_auth.ws_auth_message(CREDENTIALS,
                                                                    now_ms() + 5000)))
            assert (await recv_json(trade))["retCode"] == 0
            assert (await recv_json(private))["success"] is True
            await private.send(json.dumps({"op": "subscribe", "args": ["order", "position"]}))
            assert (await recv_json(private))["success"] is True
            await trade.send(json.dumps(order))
            answer = await recv_json(trade)
            assert (answer["reqId"], answer["retCode"], answer["data"]["orderLinkId"]) == (
                "r1", 0, "by-1")
            topics = [(await recv_json(private))["topic"] for _ in range(2)]
            assert topics == ["order", "position"]
            # orderLinkId is unique for good on Bybit, even once the order is filled
            order["reqId"] = "r2"
            order["header"] = bybit_auth.trade_header(now_ms())
            await trade.send(json.dumps(order))
            assert (await recv_json(trade))["retCode"] == 110072
            # a PostOnly that would take is accepted, then cancelled with the reason
            post = dict(create, orderType="Limit", price="99999.0", timeInForce="PostOnly",
                        orderLinkId="by-post")
            await trade.send(json.dumps({"reqId": "r3", "header": bybit_auth.trade_header(
                now_ms()), "op": "order.create", "args": [post]}))
            assert (await recv_json(trade))["retCode"] == 0
            cancelled = await recv_json(private)
            assert cancelled["data"][0]["orderStatus"] == "Cancelled"
            assert cancelled["data"][0]["rejectReason"] == "EC_PostOnlyWillTakeLiquidity"
        found = await bybit_call(sim.rest_url, "GET", "/v5/order/realtime",
                                 {"category": "linear", "orderLinkId": "by-post"})
        assert found["result"]["list"][0]["orderStatus"] == "Cancelled"
    finally:
        await sim.stop()


async def test_a_capture_is_the_liquidity_too() -> None:
    sim = Simulator("binance", CaptureSource(fixture(BINANCE_SPOT_WS)),
                    trading=TradingSettings(CREDENTIALS))
    await sim.start()
    try:
        for symbol in sorted(sim.feed.symbols()):  # the first one the capture has a book of
            book = sim.exchange.liquidity[symbol]
            book.refresh()
            best = book.best(Side.SELL)
            if best is not None:
                break
        assert best is not None
        info = sim.exchange.instruments[symbol]
        status, body = await binance_call(
            sim.rest_url, "POST", "/api/v3/order",
            [("symbol", symbol), ("side", "BUY"), ("type", "MARKET"),
             ("quantity", info.min_qty), ("newClientOrderId", "cap-1")])
        assert status == 200 and body["status"] == "FILLED", body
        assert Decimal(body["executedQty"]) == Decimal(info.min_qty)
        assert Decimal(body["cummulativeQuoteQty"]) == Decimal(info.min_qty) * best[0]
    finally:
        await sim.stop()


async def test_bitget_signed_rest_and_private_stream() -> None:
    """Bitget's checks: key, passphrase, base64 signature over timestamp + method + path + query
    + body, 30 s window; the private WS login; orders pushed with their fills."""
    sim = simulator("bitget_usdtm", rate=None)
    await sim.start()
    try:
        place = "/api/v2/mix/order/place-order"
        create = {"symbol": "BTCUSDT", "productType": "USDT-FUTURES", "marginMode": "crossed",
                  "marginCoin": "USDT", "size": "0.01", "side": "buy", "orderType": "market",
                  "force": "gtc", "clientOid": "bg-1", "reduceOnly": "NO"}
        wrong = Credentials(API_KEY, API_SECRET, "not-the-passphrase")
        for kwargs, code in (({"credentials": wrong}, "40012"),
                             ({"credentials": Credentials(API_KEY, "x" * 64,
                                                          CREDENTIALS.passphrase)}, "40009"),
                             ({"timestamp": now_ms() - 60_000}, "40008")):
            status, body = await bitget_call(sim.rest_url, "POST", place, create,
                                             **kwargs)  # type: ignore[arg-type]
            assert (status, body["code"]) == (400, code), body
        assert not sim.exchange.engine._orders  # noqa: SLF001
        async with websockets.connect(f"{sim.ws_url}/v2/ws/private") as private:
            login = bitget_auth.ws_login_message(wrong, now_ms() // 1000)
            await private.send(json.dumps(login))
            assert (await recv_json(private))["code"] == 30012
            await private.send(json.dumps(bitget_auth.ws_login_message(CREDENTIALS,
                                                                       now_ms() // 1000)))
            assert await recv_json(private) == {"event": "login", "code": 0, "msg": ""}
            arg = {"instType": "USDT-FUTURES", "channel": "orders", "instId": "default"}
            await private.send(json.dumps({"op": "subscribe", "args": [arg]}))
            assert (await recv_json(private))["event"] == "subscribe"
            status, body = await bitget_call(sim.rest_url, "POST", place, create)
            assert status == 200 and body["code"] == "00000"
            assert body["data"]["clientOid"] == "bg-1"
            push = await recv_json(private)
            assert push["arg"] == arg and push["data"][-1]["status"] == "filled"
            fill = push["data"][-1]
            assert fill["tradeId"] and fill["fillFeeCoin"] == "USDT"
            assert Decimal(fill["fillFee"]) < 0  # Bitget signs fees paid negative
            await private.send("ping")
            assert await private.recv() == "pong"
        status, dup = await bitget_call(sim.rest_url, "POST", place, create)
        assert dup["code"] == "40786"  # duplicate clientOid
        status, found = await bitget_call(sim.rest_url, "GET", "/api/v2/mix/order/detail",
                                          {"symbol": "BTCUSDT", "productType": "USDT-FUTURES",
                                           "clientOid": "bg-1"})
        assert found["data"]["state"] == "filled" and found["data"]["baseVolume"] == "0.01"
        sim.inject("rate_limit")
        status, limited = await bitget_call(sim.rest_url, "POST", place,
                                            dict(create, clientOid="bg-2"))
        assert (status, limited["code"]) == (429, "429")
    finally:
        await sim.stop()


async def test_gateio_signed_rest_and_private_channels() -> None:
    """Gate.io's checks: KEY, hex HMAC-SHA512 over method, path, query, SHA512(body) and the
    timestamp (60 s window), 401 with its label; each private subscribe signed; orders, trades
    and balances pushed; query, amend and cancel by the order's text."""
    sim = simulator("gateio_spot", rate=None)
    await sim.start()
    try:
        orders = "/api/v4/spot/orders"
        best_bid = Decimal(json.loads(sim.feed.depth_body("BTC_USDT", 5, None))["bids"][0][0])
        low = str(best_bid - 100)
        rest = {"text": "t-rest-1", "currency_pair": "BTC_USDT", "type": "limit",
                "account": "spot", "side": "buy", "amount": "0.01", "price": low,
                "time_in_force": "gtc"}
        for kwargs, label in (({"credentials": Credentials("other-key", API_SECRET)},
                               "INVALID_KEY"),
                              ({"credentials": Credentials(API_KEY, "x" * 64)},
                               "INVALID_SIGNATURE"),
                              ({"timestamp": now_ms() // 1000 - 120}, "REQUEST_EXPIRED")):
            status, body = await gate_call(sim.rest_url, "POST", orders, body=rest,
                                           **kwargs)  # type: ignore[arg-type]
            assert (status, body["label"]) == (401, label), body
        assert not sim.exchange.engine._orders  # noqa: SLF001
        async with websockets.connect(f"{sim.ws_url}/ws/v4/") as ws:
            bad = gate_auth.ws_request(Credentials(API_KEY, "x" * 64), "spot.orders",
                                       "subscribe", ["!all"], now_ms() // 1000)
            await ws.send(json.dumps(bad))
            answer = await recv_json(ws)
            assert answer["error"]["code"] == 4 and answer["result"]["status"] == "fail"
            for channel, payload in (("spot.orders", ["!all"]), ("spot.usertrades", ["!all"]),
                                     ("spot.balances", [])):
                await ws.send(json.dumps(gate_auth.ws_request(CREDENTIALS, channel, "subscribe",
                                                              payload, now_ms() // 1000)))
                answer = await recv_json(ws)
                assert (answer["channel"], answer["error"]) == (channel, None), answer
            status, placed = await gate_call(sim.rest_url, "POST", orders, body=rest)
            assert status == 201 and placed["text"] == "t-rest-1" and placed["status"] == "open"
            push = await recv_json(ws)
            assert push["channel"] == "spot.orders" and push["result"][0]["event"] == "put"
            assert (await recv_json(ws))["channel"] == "spot.balances"  # the USDT locked
            sell = {"text": "t-sell-1", "currency_pair": "BTC_USDT", "type": "market",
                    "account": "spot", "side": "sell", "amount": "0.02",
                    "time_in_force": "ioc"}
            status, sold = await gate_call(sim.rest_url, "POST", orders, body=sell)
            assert status == 201 and sold["status"] == "closed" and sold["left"] == "0"
            channels = {}
            while len(channels) < 3:
                push = await recv_json(ws)
                channels[push["channel"]] = push["result"]
            assert channels["spot.orders"][-1]["event"] == "finish"
            trade = channels["spot.usertrades"][0]
            assert trade["text"] == "t-sell-1" and trade["fee_currency"] == "USDT"
            await ws.send(json.dumps({"time": now_ms() // 1000, "channel": "spot.ping"}))
            assert (await recv_json(ws))["channel"] == "spot.pong"
        status, found = await gate_call(sim.rest_url, "GET", f"{orders}/t-sell-1",
                                        {"currency_pair": "BTC_USDT"})
        assert status == 200 and found["finish_as"] == "filled" and found["id"] == sold["id"]
        status, amended = await gate_call(sim.rest_url, "PATCH", f"{orders}/t-rest-1",
                                          {"currency_pair": "BTC_USDT"},
                                          {"price": str(best_bid - 101)})
        assert status == 200 and Decimal(amended["price"]) == best_bid - 101
        assert amended["id"] == placed["id"]  # amended in place
        status, finished = await gate_call(sim.rest_url, "GET", orders,
                                           {"currency_pair": "BTC_USDT", "status": "finished"})
        assert [o["text"] for o in finished] == ["t-sell-1"]
        status, open_orders = await gate_call(sim.rest_url, "GET", "/api/v4/spot/open_orders")
        assert [o["text"] for o in open_orders[0]["orders"]] == ["t-rest-1"]
        status, gone = await gate_call(sim.rest_url, "DELETE", f"{orders}/{placed['id']}",
                                       {"currency_pair": "BTC_USDT"})
        assert status == 200 and gone["status"] == "cancelled"
        status, missing = await gate_call(sim.rest_url, "GET", f"{orders}/t-none",
                                          {"currency_pair": "BTC_USDT"})
        assert (status, missing["label"]) == (400, "ORDER_NOT_FOUND")
        status, accounts = await gate_call(sim.rest_url, "GET", "/api/v4/spot/accounts")
        assert {a["currency"] for a in accounts} >= {"BTC", "USDT"}
        sim.inject("rate_limit")
        status, limited = await gate_call(sim.rest_url, "POST", orders,
                                          body=dict(rest, text="t-rest-2"))
        assert (status, limited["label"]) == (429, "TOO_MANY_REQUESTS")
        sim.inject("insufficient_balance")
        status, poor = await gate_call(sim.rest_url, "POST", orders,
                                       body=dict(rest, text="t-rest-3"))
        assert (status, poor["label"]) == (400, "BALANCE_NOT_ENOUGH")
        market_buy = dict(sell, side="buy", text="t-buy-1")
        status, refused = await gate_call(sim.rest_url, "POST", orders, body=market_buy)
        assert (status, refused["label"]) == (400, "INVALID_PARAM_VALUE")
    finally:
        await sim.stop()


async def test_gateio_gateway_finds_an_order_by_text_after_gate_forgets_the_text() -> None:
    """Gate finds a finished order by its text only for a while: the gateway's query (the
    exactly-once check before a resend) then finds it among the pair's finished orders."""
    from ttxt_kafka.connectors.base.symbols import SymbolMap
    from ttxt_kafka.connectors.gateio.gateway import GateGateway
    from ttxt_kafka.orders.errors import ExchangeFailure

    sim = simulator("gateio_spot", rate=None)
    await sim.start()
    gateway = GateGateway(venue="gateio_spot", credentials=CREDENTIALS, rest_base=sim.rest_url,
                          symbols=SymbolMap("gateio_spot"), clock_ms=now_ms)
    try:
        sell = {"text": "t-gone-1", "currency_pair": "BTC_USDT", "type": "market",
                "account": "spot", "side": "sell", "amount": "0.01", "time_in_force": "ioc"}
        status, sold = await gate_call(sim.rest_url, "POST", "/api/v4/spot/orders", body=sell)
        assert status == 201 and sold["status"] == "closed"
        found = await gateway.query("BTC_USDT", client_order_id="t-gone-1")
        assert not isinstance(found, ExchangeFailure) and found is not None
        assert found.order_id == sold["id"]
        sim.private.protocol.text_window = 0.0  # type: ignore[union-attr]
        status, direct = await gate_call(sim.rest_url, "GET", "/api/v4/spot/orders/t-gone-1",
                                         {"currency_pair": "BTC_USDT"})
        assert direct["label"] == "ORDER_NOT_FOUND"
        found = await gateway.query("BTC_USDT", client_order_id="t-gone-1")
        assert not isinstance(found, ExchangeFailure) and found is not None
        assert (found.order_id, found.client_order_id) == (sold["id"], "t-gone-1")
        assert await gateway.query("BTC_USDT", client_order_id="t-never") is None
        requests = sim.exchange.requests
        assert requests["GET /api/v4/spot/orders"] == 2  # the finished list, asked twice
    finally:
        await gateway.close()
        await sim.stop()
async def test_kucoin_signed_rest_bullet_and_private_stream() -> None:
    """KuCoin's checks: key, HMAC'd passphrase, key version, base64 signature over timestamp +
    method + path?query + body, 5 s window; the private bullet's token opens the private WS
    (welcome, acked subscriptions, ping/pong); orders pushed as orderChange with their match."""
    sim = simulator("kucoin_spot", rate=None)
    await sim.start()
    try:
        place = "/api/v1/hf/orders"
        create = {"clientOid": "kc-1", "symbol": "BTC-USDT", "side": "buy", "type": "market",
                  "size": "0.01"}
        wrong = Credentials(API_KEY, API_SECRET, "not-the-passphrase")
        for kwargs, code in (({"credentials": wrong}, "400004"),
                             # another secret: its HMAC of the passphrase is wrong first
                             ({"credentials": Credentials(API_KEY, "x" * 64,
                                                          CREDENTIALS.passphrase)}, "400004"),
                             ({"headers": {"KC-API-SIGN": "AAAA"}}, "400005"),
                             ({"timestamp": now_ms() - 60_000}, "400002"),
                             ({"headers": {"KC-API-KEY-VERSION": "1"}}, "400004")):
            status, body = await kucoin_call(sim.rest_url, "POST", place, create,
                                             **kwargs)  # type: ignore[arg-type]
            assert (status, body["code"]) == (401, code), body
        assert not sim.exchange.engine._orders  # noqa: SLF001
        status, bullet = await kucoin_call(sim.rest_url, "POST", "/api/v1/bullet-private", {})
        assert status == 200 and bullet["code"] == "200000", bullet
        server = bullet["data"]["instanceServers"][0]
        url = f"{server['endpoint']}?token={bullet['data']['token']}&connectId=c1"
        async with websockets.connect(url) as private:
            assert await recv_json(private) == {"id": "c1", "type": "welcome"}
            await private.send(json.dumps({"id": "s1", "type": "subscribe",
                                           "topic": "/spotMarket/tradeOrdersV2",
                                           "privateChannel": True, "response": True}))
            assert await recv_json(private) == {"id": "s1", "type": "ack"}
            status, body = await kucoin_call(sim.rest_url, "POST", place, create)
            assert status == 200 and body["code"] == "200000", body
            assert body["data"]["clientOid"] == "kc-1"
            pushes = [await recv_json(private) for _ in range(3)]
            assert [p["data"]["type"] for p in pushes] == ["received", "match", "filled"]
            match = pushes[1]["data"]
            assert match["tradeId"] and match["matchSize"] == "0.01"
            assert match["liquidity"] == "taker" and "fee" not in match
            await private.send(json.dumps({"id": "p1", "type": "ping"}))
            assert (await recv_json(private))["type"] == "pong"
        status, dup = await kucoin_call(sim.rest_url, "POST", place, create)
        assert dup["code"] == "400100" and "duplicated" in dup["msg"]
        status, found = await kucoin_call(sim.rest_url, "GET",
                                          "/api/v1/hf/orders/client-order/kc-1",
                                          {"symbol": "BTC-USDT"})
        assert found["data"]["active"] is False and found["data"]["dealSize"] == "0.01"
        status, gone = await kucoin_call(sim.rest_url, "DELETE",
                                         "/api/v1/hf/orders/client-order/nope",
                                         {"symbol": "BTC-USDT"})
        assert gone["code"] == "400100" and "not_exist" in gone["msg"]
        with pytest.raises(websockets.InvalidStatus, match="401"):  # it needs a bullet token
            await websockets.connect(f"{sim.ws_url}/private-endpoint?token=forged")
        sim.inject("rate_limit")
        status, limited = await kucoin_call(sim.rest_url, "POST", place,
                                            dict(create, clientOid="kc-2"))
        assert (status, limited["code"]) == (429, "429000")
    finally:
        await sim.stop()


async def coinbase_call(base: str, method: str, path: str, body: dict[str, Any] | None = None,
                        query: dict[str, str] | None = None, *,
                        credentials: Credentials | None = None, now: int | None = None,
                        uri_path: str | None = None) -> tuple[int, Any]:
    from trading_support import COINBASE_CREDENTIALS

    from ttxt_kafka.connectors.coinbase.auth import Signer, rest_uri

    signer = Signer.of(credentials or COINBASE_CREDENTIALS)
    host = URL(base).raw_authority
    token = signer.token(rest_uri(method, uri_path or path, host), now=now)
    async with aiohttp.ClientSession() as session, session.request(
            method, base + path, params=query,
            data=json.dumps(body) if body is not None else None,
            headers={"Authorization": f"Bearer {token}",
                     "Content-Type": "application/json"}) as resp:
        return resp.status, await resp.json(content_type=None)


async def test_coinbase_jwt_rest_and_user_channel() -> None:
    """Coinbase's checks: the JWT's signature with the key's public half, its 2-minute window and
    its `uri` (method, host, path); the `user` channel's JWT; orders pushed with cumulative
    figures; batch_cancel, edit, list by status, accounts."""
    from trading_support import COINBASE_CREDENTIALS

    from ttxt_kafka.connectors.coinbase.auth import Signer

    sim = simulator("coinbase_spot", rate=None)
    await sim.start()
    try:
        orders = "/api/v3/brokerage/orders"
        market = {"client_order_id": "cb-1", "product_id": "BTC-USDT", "side": "BUY",
                  "order_configuration": {"market_market_ioc": {"base_size": "0.01"}}}
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()).decode()
        for kwargs in ({"credentials": Credentials(API_KEY, pem)},  # another key
                       {"now": int(time.time()) - 121},  # expired
                       {"uri_path": "/api/v3/brokerage/orders/edit"}):  # another request's JWT
            status, body = await coinbase_call(sim.rest_url, "POST", orders, market,
                                               **kwargs)  # type: ignore[arg-type]
            assert (status, body["error"]) == (401, "UNAUTHENTICATED"), body
        assert not sim.exchange.engine._orders  # noqa: SLF001
        signer = Signer.of(COINBASE_CREDENTIALS)
        async with websockets.connect(f"{sim.ws_url}/user") as user:
            bad = Signer.of(Credentials(API_KEY, pem)).token()
            await user.send(json.dumps({"type": "subscribe", "channel": "user", "jwt": bad}))
            assert (await recv_json(user))["type"] == "error"
            await user.send(json.dumps({"type": "subscribe", "channel": "user",
                                        "jwt": signer.token()}))
            snapshot = await recv_json(user)
            assert snapshot["channel"] == "user" and snapshot["events"][0]["type"] == "snapshot"
            assert (await recv_json(user))["channel"] == "subscriptions"
            status, body = await coinbase_call(sim.rest_url, "POST", orders, market)
            assert status == 200 and body["success"], body
            assert body["success_response"]["client_order_id"] == "cb-1"
            push = await recv_json(user)
            [order] = push["events"][0]["orders"][-1:]
            assert push["sequence_num"] > snapshot["sequence_num"]
            assert (order["status"], order["cumulative_quantity"]) == ("FILLED", "0.01")
            assert Decimal(order["filled_value"]) > 0 and Decimal(order["total_fees"]) > 0
        status, dup = await coinbase_call(sim.rest_url, "POST", orders, market)
        assert not dup["success"] and dup["error_response"]["error"] == \
            "DUPLICATE_CLIENT_ORDER_ID"
        limit = {"client_order_id": "cb-2", "product_id": "BTC-USDT", "side": "BUY",
                 "order_configuration": {"limit_limit_gtc": {
                     "base_size": "0.01", "limit_price": "1000", "post_only": True}}}
        status, body = await coinbase_call(sim.rest_url, "POST", orders, limit)
        order_id = body["success_response"]["order_id"]
        status, listed = await coinbase_call(sim.rest_url, "GET", f"{orders}/historical/batch",
                                             query={"order_status": "OPEN"})
        assert [o["client_order_id"] for o in listed["orders"]] == ["cb-2"]
        status, edited = await coinbase_call(sim.rest_url, "POST", f"{orders}/edit",
                                             {"order_id": order_id, "price": "1001",
                                              "size": "0.02"})
        assert edited == {"success": True, "errors": []}
        status, got = await coinbase_call(sim.rest_url, "GET", f"{orders}/historical/{order_id}")
        assert got["order"]["order_configuration"]["limit_limit_gtc"] == {
            "base_size": "0.02", "limit_price": "1001", "post_only": True}
        status, cancelled = await coinbase_call(sim.rest_url, "POST", f"{orders}/batch_cancel",
                                                {"order_ids": [order_id, "999999"]})
        assert [r["success"] for r in cancelled["results"]] == [True, False]
        status, accounts = await coinbase_call(sim.rest_url, "GET", "/api/v3/brokerage/accounts")
        btc = next(a for a in accounts["accounts"] if a["currency"] == "BTC")
        # 100 + the 0.01 bought, less the engine's fee (charged in BTC on a buy)
        assert Decimal("100") < Decimal(btc["available_balance"]["value"]) < Decimal("100.01")
        sim.inject("rate_limit")
        status, limited = await coinbase_call(sim.rest_url, "GET", "/api/v3/brokerage/accounts")
        assert (status, limited["error"]) == (429, "RATE_LIMIT_EXCEEDED")
    finally:
        await sim.stop()


async def kraken_call(base: str, path: str, params: dict[str, str], *,
                      credentials: Credentials = CREDENTIALS, nonce: int) -> Any:
    body = kraken_auth.form_body(params, nonce)
    headers = kraken_auth.headers(credentials, path, nonce, body)
    async with aiohttp.ClientSession() as http, http.post(base + path, data=body,
                                                          headers=headers) as resp:
        return await resp.json()


async def kraken_next(ws: Any, match: Any) -> Any:
    while True:
        msg = await recv_json(ws)
        if match(msg):
            return msg


async def test_kraken_signed_rest_token_and_the_auth_ws() -> None:
    sim = simulator("kraken_spot", rate=None)
    await sim.start()
    base, token_path = sim.rest_url, "/0/private/GetWebSocketsToken"
    try:
        other = Credentials(API_KEY, "b3RoZXItc2VjcmV0")  # base64, not the account's
        assert await kraken_call(base, token_path, {}, credentials=other, nonce=10) == {
            "error": ["EAPI:Invalid signature"]}
        first = await kraken_call(base, token_path, {}, nonce=100)
        token = first["result"]["token"]
        assert first["error"] == [] and token
        assert (await kraken_call(base, token_path, {}, nonce=100))["error"] == [
            "EAPI:Invalid nonce"]  # not above the last one
        sim.inject("bad_signature")
        assert (await kraken_call(base, token_path, {}, nonce=101))["error"] == [
            "EAPI:Invalid signature"]
        async with websockets.connect(f"{sim.ws_url}/v2") as ws:
            add = {"method": "add_order", "req_id": 1, "params": {
                "order_type": "limit", "side": "buy", "symbol": "BTC/USDT", "order_qty": 0.01,
                "limit_price": 1000, "time_in_force": "gtc", "cl_ord_id": "kr-1",
                "token": "not-a-token"}}
            await ws.send(json.dumps(add))
            refused = await kraken_next(ws, lambda m: m.get("req_id") == 1)
            assert (refused["success"], refused["error"]) == (False, "EAPI:Invalid token")
            await ws.send(json.dumps({"method": "subscribe", "req_id": 2, "params": {
                "channel": "executions", "token": token, "snap_orders": True}}))
            assert (await kraken_next(ws, lambda m: m.get("req_id") == 2))["success"] is True
            snapshot = await kraken_next(ws, lambda m: m.get("channel") == "executions")
            assert (snapshot["type"], snapshot["data"]) == ("snapshot", [])
            add["params"]["token"] = token  # type: ignore[index]
            await ws.send(json.dumps(add))
            seen: list[Any] = []  # the answer and the report, in either order
            await kraken_next(ws, lambda m: seen.append(m) or len(
                [x for x in seen if x.get("req_id") == 1 or "channel" in x
                 and x["channel"] == "executions"]) == 2)
            [placed] = [m for m in seen if m.get("req_id") == 1]
            assert placed["success"] is True and placed["result"]["cl_ord_id"] == "kr-1"
            [report] = [m for m in seen if m.get("channel") == "executions"]
            assert report["data"][0]["exec_type"] == "new"
            assert report["data"][0]["order_qty"] == 0.01  # a JSON number
            await ws.send(json.dumps(add))  # the same cl_ord_id again
            assert (await kraken_next(ws, lambda m: m.get("req_id") == 1))["error"] == (
                "EOrder:Duplicate cl_ord_id")
            sim.inject("rate_limit")
            await ws.send(json.dumps({"method": "cancel_order", "req_id": 3,
                                      "params": {"cl_ord_id": ["kr-1"], "token": token}}))
            assert (await kraken_next(ws, lambda m: m.get("req_id") == 3))["error"] == (
                "EOrder:Rate limit exceeded")
            found = await kraken_call(base, "/0/private/OpenOrders", {"cl_ord_id": "kr-1"},
                                      nonce=200)
            [(order_id, order)] = found["result"]["open"].items()
            assert (order["status"], order["descr"]["pair"]) == ("open", "XBTUSDT")
            await ws.send(json.dumps({"method": "cancel_order", "req_id": 4,
                                      "params": {"order_id": [order_id], "token": token}}))
            assert (await kraken_next(ws, lambda m: m.get("req_id") == 4))["success"] is True
            # the public methods still work on the same socket
            await ws.send(json.dumps({"method": "ping", "req_id": 5}))
            assert (await kraken_next(ws, lambda m: m.get("req_id") == 5))["method"] == "pong"
        closed = await kraken_call(base, "/0/private/ClosedOrders", {"cl_ord_id": "kr-1"},
                                   nonce=201)
        assert closed["result"]["closed"][order_id]["status"] == "canceled"
        wallet = await kraken_call(base, "/0/private/BalanceEx", {}, nonce=202)
        assert wallet["result"]["USDT"]["hold_trade"] == "0"
    finally:
        await sim.stop()
