"""OKX v5 private stream (`wss://ws.okx.com/ws/v5/private`): log in
(`{"op":"login","args":[{apiKey, passphrase, timestamp (s), sign}]}`), subscribe to `orders`
(the venue's instType), `account` (and `positions` for swaps), send the text `ping` every 25 s
(OKX closes a socket silent for 30 s)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from ttxt_kafka.credentials import Credentials

from ..base.ws import WsClient
from ..trading.private import PrivateStream, login_and_subscribe
from .auth import ws_login_message
from .endpoints import PING, PING_AFTER_SILENCE


class OkxPrivateStream(PrivateStream):
    name = "private"
    ping_interval = None  # OKX wants the text "ping"

    def __init__(self, *, url: str, credentials: Credentials, clock_ms: Callable[[], int],
                 inst_type: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._url = url
        self.credentials = credentials
        self.clock_ms = clock_ms
        self.args: list[dict[str, str]] = [{"channel": "orders", "instType": inst_type},
                                           {"channel": "account"}]
        if inst_type != "SPOT":
            self.args.append({"channel": "positions", "instType": inst_type})

    async def url(self) -> str:
        return self._url

    async def handshake(self, ws: WsClient) -> list[str | bytes]:
        login = ws_login_message(self.credentials, self.clock_ms() // 1000)
        return await login_and_subscribe(ws, login, self.args)

    async def keepalive(self, ws: WsClient) -> None:
        while True:
            await asyncio.sleep(PING_AFTER_SILENCE)
            await ws.send_text(PING)
