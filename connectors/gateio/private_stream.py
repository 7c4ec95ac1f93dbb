"""Gate.io v4 private channels, on the same WebSocket endpoint as the public ones
(`wss://api.gateio.ws/ws/v4/`): one signed subscribe per channel (`spot.orders` and
`spot.usertrades` with payload `["!all"]`: every pair; `spot.balances`), each request carrying
its own `auth` (see `auth.ws_request`); an application `spot.ping` every 20 s."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from ttxt_kafka.credentials import Credentials

from ..base.ws import WsClient
from ..trading.private import PrivateStream, StreamRefused, read_until
from . import endpoints as ep
from .auth import ws_request
from .normalizer_private import BALANCES, ORDERS, TRADES

SUBSCRIPTIONS: tuple[tuple[str, list[str]], ...] = (
    (ORDERS, ["!all"]), (TRADES, ["!all"]), (BALANCES, []))


class GatePrivateStream(PrivateStream):
    name = "private"
    ping_interval = None  # Gate wants application pings (spot.ping)

    def __init__(self, *, url: str, credentials: Credentials, clock_ms: Callable[[], int],
                 heartbeat: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._url = url
        self.credentials = credentials
        self.clock_ms = clock_ms
        self.heartbeat = heartbeat

    async def url(self) -> str:
        return self._url

    async def handshake(self, ws: WsClient) -> list[str | bytes]:
        early: list[str | bytes] = []
        for channel, payload in SUBSCRIPTIONS:
            await ws.send_json(ws_request(self.credentials, channel, "subscribe", payload,
                                          self.clock_ms() // 1000))
            answer = await read_until(ws, lambda m, c=channel: isinstance(m, dict)  # type: ignore[misc]
                                      and m.get("channel") == c
                                      and m.get("event") == "subscribe", early)
            error = answer.get("error")
            if error:
                raise StreamRefused(f"{channel}: {error.get('code')} {error.get('message')}")
        return early

    async def keepalive(self, ws: WsClient) -> None:
        while True:
            await asyncio.sleep(self.heartbeat)
            await ws.send_json(ep.ping(self.clock_ms() // 1000))
