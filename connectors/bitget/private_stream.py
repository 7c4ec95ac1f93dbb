"""Bitget v2 private stream (`wss://ws.bitget.com/v2/ws/private`): log in
(`{"op":"login","args":[{apiKey, passphrase, timestamp (s), sign}]}`), subscribe to `orders`
and `account` (and `positions` on USDT-M) with `instId`/`coin` `default` (every symbol), send
the text `ping` every 30 s."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from ttxt_kafka.credentials import Credentials

from ..base.ws import WsClient
from ..trading.private import PrivateStream, login_and_subscribe
from .auth import ws_login_message
from .endpoints import PING, PING_INTERVAL


class BitgetPrivateStream(PrivateStream):
    name = "private"
    ping_interval = None  # Bitget wants the text "ping"

    def __init__(self, *, url: str, credentials: Credentials, clock_ms: Callable[[], int],
                 inst_type: str, derivatives: bool, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._url = url
        self.credentials = credentials
        self.clock_ms = clock_ms
        self.args = [{"instType": inst_type, "channel": "orders", "instId": "default"},
                     {"instType": inst_type, "channel": "account", "coin": "default"}]
        if derivatives:
            self.args.append({"instType": inst_type, "channel": "positions",
                              "instId": "default"})

    async def url(self) -> str:
        return self._url

    async def handshake(self, ws: WsClient) -> list[str | bytes]:
        login = ws_login_message(self.credentials, self.clock_ms() // 1000)
        return await login_and_subscribe(ws, login, self.args)

    async def keepalive(self, ws: WsClient) -> None:
        while True:
            await asyncio.sleep(PING_INTERVAL)
            await ws.send_text(PING)
