"""KuCoin private stream: a token from the signed `POST /api/v1/bullet-private`, then the
instance server's `<endpoint>?token=..&connectId=..`; after the `welcome`, subscribe
`/spotMarket/tradeOrdersV2` and `/account/balance` (`privateChannel: true`, each acked) and send
`{"type": "ping"}` every `pingInterval`."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from ..base.errors import ExchangeError, MalformedMessage
from ..base.rest import RestClient
from ..base.ws import WsClient
from ..trading.private import PrivateStream, StreamRefused, read_until
from . import endpoints as ep
from .connector import Bullet
from .normalizer_private import BALANCE_TOPIC, ORDER_TOPICS

TOPICS = (ORDER_TOPICS[0], BALANCE_TOPIC)


class KucoinPrivateStream(PrivateStream):
    name = "private"
    ping_interval = None  # KuCoin wants `{"type": "ping"}` messages

    def __init__(self, *, rest: RestClient, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.rest = rest  # signed: the bullet-private request
        self.bullet: Bullet | None = None

    async def url(self) -> str:
        try:
            body = await self.rest.request("POST", ep.BULLET_PRIVATE, weight=ep.WEIGHT_BULLET,
                                           signed=True)
            self.bullet = Bullet.of(body)
        except (ExchangeError, MalformedMessage) as exc:
            raise StreamRefused(f"bullet-private: {exc}") from None
        return ep.ws_url(self.bullet.endpoint, self.bullet.token, uuid.uuid4().hex)

    async def handshake(self, ws: WsClient) -> list[str | bytes]:
        early: list[str | bytes] = []
        await read_until(ws, lambda m: isinstance(m, dict) and m.get("type") == "welcome", early)
        ids = {}
        for topic in TOPICS:
            msg = ep.subscribe(topic, private=True)
            ids[msg["id"]] = topic
            await ws.send_json(msg)
        while ids:
            answer = await read_until(ws, lambda m: isinstance(m, dict)
                                      and m.get("type") in ("ack", "error")
                                      and str(m.get("id")) in ids, early)
            if answer.get("type") == "error":
                raise StreamRefused(f"subscription {ids[str(answer['id'])]}: "
                                    f"{answer.get('code')} {answer.get('data')}")
            del ids[str(answer["id"])]
        return early

    async def keepalive(self, ws: WsClient) -> None:
        interval = self.bullet.ping_interval if self.bullet else 18.0
        while True:
            await asyncio.sleep(interval)
            await ws.send_json(ep.ping())

    async def close(self) -> None:
        await super().close()
        await self.rest.close()
