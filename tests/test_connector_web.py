"""The connector web layer against small local servers: REST retries, errors naming the endpoint
and the exchange's code, rate limits, the signing hook (never logged), WS frame types."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import WSMsgType, web

from ttxt_kafka.connectors.base.backoff import Backoff
from ttxt_kafka.connectors.base.errors import ExchangeError, RateLimitedError
from ttxt_kafka.connectors.base.ratelimit import WeightLimiter
from ttxt_kafka.connectors.base.rest import RestClient, RestRequest
from ttxt_kafka.connectors.base.ws import WsClient
from ttxt_kafka.connectors.binance.connector import binance_error
from ttxt_kafka.connectors.bybit.connector import bybit_error


class Server:
    """An aiohttp app on 127.0.0.1 with scripted answers, recording what it was asked."""

    def __init__(self) -> None:
        self.app = web.Application()
        self.seen: list[web.Request] = []
        self.headers: list[dict[str, str]] = []
        self.answers: list[tuple[int, str, dict[str, str]]] = []
        self.app.router.add_route("*", "/api/{tail:.*}", self.handle)
        self.app.router.add_get("/ws", self.ws)
        self.url = ""
        self.runner: web.AppRunner | None = None

    async def handle(self, request: web.Request) -> web.Response:
        self.seen.append(request)
        self.headers.append(dict(request.headers))
        status, body, headers = self.answers.pop(0) if self.answers else (200, '{"ok":1}', {})
        return web.Response(status=status, text=body, headers=headers,
                            content_type="application/json")

    async def ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            if msg.type is WSMsgType.TEXT:
                await ws.send_str(f"echo:{msg.data}")
            elif msg.type is WSMsgType.BINARY:
                await ws.send_bytes(b"echo:" + msg.data)
        return ws

    async def start(self) -> Server:
        self.runner = web.AppRunner(self.app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


@pytest_asyncio.fixture(loop_scope="function")  # the test's own loop serves it
async def server() -> AsyncIterator[Server]:
    s = await Server().start()
    yield s
    await s.stop()


def client(server: Server, **kwargs: Any) -> RestClient:
    kwargs.setdefault("error_parser", binance_error)
    return RestClient("binance", server.url, retry_delay=0.01, **kwargs)


async def test_get_parses_json_and_reuses_one_session(server: Server) -> None:
    async with client(server) as rest:
        assert await rest.get("/api/v3/time", {"a": "1"}) == {"ok": 1}
        session = rest._session
        await rest.get("/api/v3/time")
        assert rest._session is session and rest.requests == 2
    assert server.seen[0].query["a"] == "1"


async def test_idempotent_get_is_retried_on_5xx_and_network_errors(server: Server) -> None:
    server.answers = [(502, "bad gateway", {}), (503, "{}", {}), (200, '{"x":2}', {})]
    async with client(server) as rest:
        assert await rest.get("/api/v3/depth") == {"x": 2}
        assert rest.failures == 2
    async with RestClient("binance", "http://127.0.0.1:9", retries=1, retry_delay=0.01) as rest:
        with pytest.raises(ExchangeError, match=r"binance GET /api/v3/time failed: Client"):
            await rest.get("/api/v3/time")


async def test_client_errors_name_endpoint_and_code_and_are_not_retried(server: Server) -> None:
    server.answers = [(400, '{"code":-1121,"msg":"Invalid symbol."}', {})]
    async with client(server) as rest:
        with pytest.raises(ExchangeError) as err:
            await rest.get("/api/v3/depth", {"symbol": "NOPE"})
    assert str(err.value) == (
        "binance GET /api/v3/depth failed, HTTP 400, code -1121: Invalid symbol.")
    assert (err.value.code, err.value.status, len(server.seen)) == ("-1121", 400, 1)


async def test_post_is_not_retried(server: Server) -> None:
    server.answers = [(500, "{}", {}), (200, "{}", {})]
    async with client(server) as rest:
        with pytest.raises(ExchangeError, match="HTTP 500"):
            await rest.request("POST", "/api/v3/order")
    assert len(server.seen) == 1


async def test_429_waits_retry_after_and_418_is_final(server: Server) -> None:
    server.answers = [(429, '{"code":-1003,"msg":"Too many requests"}', {"Retry-After": "0"}),
                      (200, "{}", {})]
    async with client(server) as rest:
        assert await rest.get("/api/v3/depth") == {}
    server.answers = [(418, '{"code":-1003,"msg":"IP banned"}', {"Retry-After": "120"})]
    limiter = WeightLimiter(100, 60)
    async with client(server, limiter=limiter) as rest:
        with pytest.raises(RateLimitedError, match="HTTP 418, code -1003: IP banned") as err:
            await rest.get("/api/v3/depth")
    assert err.value.retry_after == 120 and limiter.available < 0


async def test_bybit_errors_come_with_http_200(server: Server) -> None:
    server.answers = [(200, '{"retCode":10001,"retMsg":"params error","result":{}}', {})]
    async with client(server, error_parser=bybit_error) as rest:
        with pytest.raises(ExchangeError, match="HTTP 200, code 10001: params error"):
            await rest.get("/api/v5/market/orderbook")


async def test_signing_hook_signs_each_attempt_and_nothing_secret_is_logged(
    server: Server, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "s3cr3t-signature"
    calls: list[RestRequest] = []

    def sign(req: RestRequest) -> RestRequest:
        calls.append(req)
        return req.with_(params={**req.params, "signature": secret},
                         headers={**req.headers, "X-MBX-APIKEY": "key-123"})

    server.answers = [(500, "{}", {}), (200, "{}", {})]
    caplog.set_level(logging.DEBUG)
    async with client(server, sign=sign) as rest:
        await rest.get("/api/v3/account", {"timestamp": "1"}, signed=True)
        with pytest.raises(ExchangeError, match="needs API credentials"):
            await client(server).get("/api/v3/account", signed=True)
    assert len(calls) == 2 and server.seen[-1].query["signature"] == secret
    assert server.headers[-1]["X-MBX-APIKEY"] == "key-123"
    assert secret not in caplog.text and "key-123" not in caplog.text
    assert "GET /api/v3/account" in caplog.text  # the retry is logged, by endpoint only


async def test_weight_limiter_spaces_requests() -> None:
    limiter = WeightLimiter(10, 0.2)  # 50 weight per second
    t0 = time.monotonic()
    await limiter.acquire(10)
    await limiter.acquire(5)  # waits ~0.1 s for 5 weight to come back
    assert 0.07 < time.monotonic() - t0 < 0.5
    with pytest.raises(ValueError, match="exceeds"):
        await limiter.acquire(11)


def test_backoff_grows_caps_and_jitters() -> None:
    b = Backoff(0.5, 4.0, jitter=0.2, rng=random.Random(1))
    delays = [b.next() for _ in range(6)]
    for delay, base in zip(delays, [0.5, 1, 2, 4, 4, 4], strict=True):
        assert base * 0.8 <= delay <= base * 1.2
    b.reset()
    assert b.next() <= 0.6
    with pytest.raises(ValueError):
        Backoff(0)


async def test_ws_client_sends_and_receives_text_and_binary(server: Server) -> None:
    ws = await WsClient(server.url.replace("http", "ws") + "/ws").connect()
    await ws.send_json({"op": "ping"})
    assert await ws.recv() == 'echo:{"op":"ping"}'
    await ws.send_bytes(b"\x00\x01")
    assert await ws.recv() == b"echo:\x00\x01"
    await ws.send_text("hi")
    async for frame in ws:
        assert frame == "echo:hi"
        break
    await ws.close()
    assert not ws.open and ws.close_info().startswith("code 1000")
    await asyncio.sleep(0)


@pytest.mark.parametrize("per_second", [7, 2])
async def test_pacer_keeps_to_its_limit_in_every_second(per_second: int) -> None:
    """The connectors' connection/request pacer (Coinbase: 7 of the 8 a second allowed): two
    thirds of the limit at once, never more than the limit in any one-second window."""
    from ttxt_kafka.connectors.base.connector import _pacer

    pacer = _pacer(per_second)
    assert pacer is not None and _pacer(None) is None
    loop = asyncio.get_running_loop()
    start = loop.time()
    times = []
    for _ in range(per_second + 3):
        await pacer.acquire()
        times.append(loop.time() - start)
    burst = 5 if per_second == 7 else 1
    assert all(t < 0.05 for t in times[:burst]) and times[burst] > 0.1
    for i, t in enumerate(times):
        assert sum(1 for u in times[i:] if u < t + 1.0) <= per_second, times
