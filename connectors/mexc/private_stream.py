"""MEXC spot v3 private stream: a listen key from `POST /api/v3/userDataStream` (signed; valid
60 minutes, kept alive with `PUT` every `keepalive_interval`), the stream on
`<ws base>/ws?listenKey=<key>`, the private channels subscribed like the public ones
(`spot@private.orders.v3.api.pb`, `spot@private.deals.v3.api.pb`,
`spot@private.account.v3.api.pb`), MEXC's `{"method":"PING"}` every 20 s. Pushes are protobuf.
A failed keepalive reconnects with a fresh key."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from ttxt_kafka.orders.errors import ExchangeFailure

from ..base.ws import WsClient
from ..trading.private import PrivateStream, StreamRefused, read_until
from . import endpoints as ep
from .gateway import MexcGateway

log = logging.getLogger(__name__)

CHANNELS = ["spot@private.orders.v3.api.pb", "spot@private.deals.v3.api.pb",
            "spot@private.account.v3.api.pb"]
PING_INTERVAL = 20.0


class MexcPrivateStream(PrivateStream):
    name = "private"
    ping_interval = None  # MEXC wants its application PING

    def __init__(self, *, ws_base: str, gateway: MexcGateway, keepalive_interval: float,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ws_base = ws_base
        self.gateway = gateway
        self.keepalive_interval = keepalive_interval
        self.keepalives = 0
        self._key = ""

    async def url(self) -> str:
        key = await self.gateway.listen_key("create")
        if isinstance(key, ExchangeFailure) or not key:
            reason = key.reason if isinstance(key, ExchangeFailure) else "empty listen key"
            raise StreamRefused(f"no listen key: {reason}")
        self._key = key
        return f"{ep.ws_url(self.ws_base)}?listenKey={key}"

    async def handshake(self, ws: WsClient) -> list[str | bytes]:
        early: list[str | bytes] = []
        await ws.send_json(ep.request("SUBSCRIPTION", CHANNELS, 1))
        answer = await read_until(ws, lambda m: isinstance(m, dict) and m.get("id") == 1, early)
        msg = str(answer.get("msg", ""))
        if answer.get("code") != 0 or msg.startswith("Not Subscribed"):
            raise StreamRefused(f"subscription: {answer.get('code')} {msg}")
        return early

    async def keepalive(self, ws: WsClient) -> None:
        pinger = asyncio.ensure_future(self._ping(ws))
        try:
            while True:
                await asyncio.sleep(self.keepalive_interval)
                answer = await self.gateway.listen_key("keepalive", self._key)
                if isinstance(answer, ExchangeFailure):
                    log.warning("%s: listen key keepalive failed (%s): reconnecting with a new "
                                "key", self.venue, answer.reason)
                    await ws.close(1000, "listen key lost")
                    return
                self.keepalives += 1
        finally:
            pinger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pinger

    @staticmethod
    async def _ping(ws: WsClient) -> None:
        while True:
            await asyncio.sleep(PING_INTERVAL)
            await ws.send_json(ep.PING)
