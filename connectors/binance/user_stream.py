"""Binance user data streams: account events of the API key, normalized by
`normalizer_private`.

* Spot: the WebSocket API (`wss://ws-api.binance.com:443/ws-api/v3`),
  `userDataStream.subscribe.signature` signed with the key (no listen key: the spot listen-key
  REST endpoints are deprecated and being retired); events arrive as
  `{"subscriptionId": n, "event": {...}}`.
* USD-M: a listen key from `POST /fapi/v1/listenKey`, the stream on `<ws base>/ws/<listenKey>`,
  the key kept alive with `PUT /fapi/v1/listenKey` every `keepalive_interval` (Binance expires
  it after 60 minutes without one); `listenKeyExpired` or a failed keepalive reconnects with a
  fresh key.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from typing import Any

from ttxt_kafka.credentials import Credentials
from ttxt_kafka.orders.errors import ExchangeFailure

from ..base.ws import WsClient
from ..trading.private import PrivateStream, StreamRefused, read_until
from .gateway import BinanceGateway
from .normalizer_private import event_type
from .orders import user_data_subscribe

log = logging.getLogger(__name__)

SPOT_WS_API = "wss://ws-api.binance.com:443/ws-api/v3"


class BinanceSpotUserStream(PrivateStream):
    name = "user_data"

    def __init__(self, *, url: str, credentials: Credentials, clock_ms: Callable[[], int],
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._url = url
        self.credentials = credentials
        self.clock_ms = clock_ms

    async def url(self) -> str:
        return self._url

    async def handshake(self, ws: WsClient) -> list[str | bytes]:
        request_id = uuid.uuid4().hex
        await ws.send_json(user_data_subscribe(self.credentials, timestamp_ms=self.clock_ms(),
                                               request_id=request_id))
        early: list[str | bytes] = []
        answer = await read_until(ws, lambda m: isinstance(m, dict) and m.get("id") == request_id,
                                  early)
        if answer.get("status") != 200:
            error = answer.get("error") or {}
            raise StreamRefused(f"code {error.get('code')}: {error.get('msg')}")
        return early


class BinanceUsdmUserStream(PrivateStream):
    name = "user_data"

    def __init__(self, *, ws_base: str, gateway: BinanceGateway, keepalive_interval: float,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ws_base = ws_base.rstrip("/")
        self.gateway = gateway
        self.keepalive_interval = keepalive_interval
        self.keepalives = 0

    async def url(self) -> str:
        key = await self.gateway.listen_key("create")
        if isinstance(key, ExchangeFailure) or not key:
            reason = key.reason if isinstance(key, ExchangeFailure) else "empty listen key"
            raise StreamRefused(f"no listen key: {reason}")
        return f"{self.ws_base}/ws/{key}"

    async def keepalive(self, ws: WsClient) -> None:
        while True:
            await asyncio.sleep(self.keepalive_interval)
            answer = await self.gateway.listen_key("keepalive")
            if isinstance(answer, ExchangeFailure):
                log.warning("%s: listen key keepalive failed (%s): reconnecting with a new key",
                            self.venue, answer.reason)
                await ws.close(1000, "listen key lost")
                return
            self.keepalives += 1

    def is_expiry(self, raw: str | bytes) -> bool:
        return b"listenKeyExpired" in (raw if isinstance(raw, bytes) else raw.encode()) and (
            event_type(raw) == "listenKeyExpired")
