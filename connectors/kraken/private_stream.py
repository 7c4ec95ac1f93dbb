"""Kraken spot WS v2 private stream: a token from REST `GetWebSocketsToken` (through the
gateway), the authenticated WS (`wss://ws-auth.kraken.com/v2`), `executions` subscribed with
`snap_orders` (the open orders at once; fills of the past are not replayed: the trader reads the
open orders and the wallet over REST at start and after every reconnect) and `balances`;
`{"method":"ping"}` every `PING_INTERVAL` seconds.

Kraken's `balances` pushes carry an asset's new total but not what is held by open orders, so
each one is answered by reading BalanceEx (balance and hold_trade) over REST and publishing that
Wallet snapshot: the account topic's `available` stays true. A token is asked for on every
connect (it is good for 15 minutes to connect; the connection keeps it).
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

from ttxt_kafka.orders.errors import ExchangeFailure

from ..base.ws import WsClient
from ..trading.private import PrivateStream, StreamRefused, read_until
from . import endpoints as ep
from .gateway import KrakenGateway

log = logging.getLogger(__name__)

PING_INTERVAL = 30.0
_BALANCES = re.compile(rb'"channel"\s*:\s*"balances"')


class KrakenPrivateStream(PrivateStream):
    name = "private"
    ping_interval = None  # Kraken wants its application ping

    def __init__(self, *, ws_base: str, gateway: KrakenGateway, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.ws_base = ws_base
        self.gateway = gateway
        self.wallet_reads = 0
        self._token = ""

    async def url(self) -> str:
        token = await self.gateway.token()
        if isinstance(token, ExchangeFailure):
            raise StreamRefused(f"no WebSockets token: {token.message}")
        self._token = token
        return ep.ws_url(self.ws_base)

    def _subscribe(self, channel: str, req_id: int, **extra: Any) -> dict[str, Any]:
        return {"method": "subscribe",
                "params": {"channel": channel, "token": self._token, **extra}, "req_id": req_id}

    async def handshake(self, ws: WsClient) -> list[str | bytes]:
        early: list[str | bytes] = []
        requests = {1: self._subscribe(ep.EXECUTIONS, 1, snap_orders=True, snap_trades=False),
                    2: self._subscribe(ep.BALANCES, 2, snapshot=True)}
        for req_id, req in requests.items():
            await ws.send_json(req)
            answer = await read_until(ws, lambda m, i=req_id: isinstance(m, dict)  # type: ignore[misc]
                                      and m.get("req_id") == i, early)
            if answer.get("success") is not True:
                raise StreamRefused(f"{req['params']['channel']}: {answer.get('error')}")
        return early

    async def keepalive(self, ws: WsClient) -> None:
        while True:
            await asyncio.sleep(PING_INTERVAL)
            await ws.send_json(ep.PING)

    async def _frame(self, raw: str | bytes) -> None:
        if _BALANCES.search((raw.encode() if isinstance(raw, str) else raw)[:200]):
            self.frames += 1
            await self._read_wallet()
            return
        await super()._frame(raw)

    async def _read_wallet(self) -> None:
        events = await self.gateway.account()
        if isinstance(events, ExchangeFailure):
            self._limited("%s private: balances changed but BalanceEx failed (%s)", self.venue,
                          events.message)
            return
        self.wallet_reads += 1
        for ev in events:
            await self.publish(ev)
