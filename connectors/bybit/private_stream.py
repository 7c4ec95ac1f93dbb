"""Bybit v5 private stream (`wss://stream.bybit.com/v5/private`): authenticate
(`{"op":"auth","args":[key, expires, signature]}`), subscribe to order, execution, wallet
(and position on linear), ping every `heartbeat` seconds. One connection carries every
category; `PrivateStream` publishes this venue's events only."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from ttxt_kafka.credentials import Credentials

from ..base.ws import WsClient
from ..trading.private import PrivateStream, StreamRefused, read_until
from .auth import ws_auth_message

AUTH_VALIDITY_MS = 10_000


def _refused(msg: dict[str, Any]) -> bool:
    return msg.get("success") is False or msg.get("retCode") not in (None, 0)


class BybitPrivateStream(PrivateStream):
    name = "private"
    ping_interval = None  # Bybit wants {"op":"ping"}

    def __init__(self, *, url: str, credentials: Credentials, clock_ms: Callable[[], int],
                 topics: list[str], heartbeat: float = 20.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._url = url
        self.credentials = credentials
        self.clock_ms = clock_ms
        self.topics = topics
        self.heartbeat = heartbeat

    async def url(self) -> str:
        return self._url

    async def handshake(self, ws: WsClient) -> list[str | bytes]:
        early: list[str | bytes] = []
        await ws.send_json(ws_auth_message(self.credentials, self.clock_ms() + AUTH_VALIDITY_MS))
        answer = await read_until(ws, lambda m: isinstance(m, dict) and m.get("op") == "auth",
                                  early)
        if _refused(answer):
            raise StreamRefused(f"authentication: {answer.get('ret_msg') or answer.get('retMsg')}")
        await ws.send_json({"op": "subscribe", "req_id": "ttxt-private", "args": self.topics})
        answer = await read_until(
            ws, lambda m: isinstance(m, dict) and m.get("op") == "subscribe", early)
        if _refused(answer):
            raise StreamRefused(f"subscription: {answer.get('ret_msg') or answer.get('retMsg')}")
        return early

    async def keepalive(self, ws: WsClient) -> None:
        while True:
            await asyncio.sleep(self.heartbeat)
            await ws.send_json({"op": "ping"})
