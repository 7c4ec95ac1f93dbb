"""Coinbase Advanced Trade private stream: the `user` channel on
`wss://advanced-trade-ws-user.coinbase.com`, subscribed with a fresh JWT (no `uri` claim) in
`{"type": "subscribe", "channel": "user", "jwt": ...}`, and `heartbeats` (Coinbase closes
quiet connections; one message a second keeps it open). Coinbase answers each subscription
with a `subscriptions` message; an error is `{"type": "error", "message": ...}`.

Coinbase's spot `user` channel carries orders, not balances: after an order changes (a fill,
and a new or ended order, which moves holds) the wallet is read again over REST
(`refresh_wallet`): one read at a time, and one more if orders changed meanwhile.

The connection's `sequence_num` is checked as on the public side: a gap means an order push
may be lost, so the open orders and the wallet are read again over REST (the trader's sync,
as after a reconnect)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from ttxt_kafka.credentials import Credentials
from ttxt_kafka.events import Event, Fill, OrderUpdate

from ..base.ws import WsClient
from ..trading.private import PrivateStream, StreamRefused, read_until
from . import endpoints as ep
from .auth import Signer
from .connector import frame_sequence

log = logging.getLogger(__name__)


class CoinbasePrivateStream(PrivateStream):
    name = "private"

    def __init__(self, *, url: str, credentials: Credentials,
                 refresh_wallet: Callable[[], Awaitable[None]] | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._url = url
        self.signer = Signer.of(credentials)
        self.refresh_wallet = refresh_wallet
        self._refresh: asyncio.Task[None] | None = None
        self._again = False
        self.last_sequence: int | None = None
        self.gaps = 0
        self._tasks: set[asyncio.Task[None]] = set()
        publish = self.publish

        async def publish_and_refresh(event: Event) -> None:
            await publish(event)
            if refresh_wallet is None or not isinstance(event, OrderUpdate | Fill):
                return
            if self._refresh is not None and not self._refresh.done():
                self._again = True  # read once more when the running read is done
            else:
                self._refresh = asyncio.ensure_future(self._refresh_loop())

        self.publish = publish_and_refresh

    async def _refresh_loop(self) -> None:
        assert self.refresh_wallet is not None
        while True:
            await asyncio.sleep(0.05)  # the pushes of one burst: one read
            self._again = False
            await self.refresh_wallet()
            if not self._again:
                return

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._refresh is not None:
            self._refresh.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._refresh
        await super().close()

    async def url(self) -> str:
        return self._url

    async def _frame(self, raw: str | bytes) -> None:
        seq = frame_sequence(raw)
        if seq is not None:
            last = self.last_sequence
            if last is None or seq > last:
                self.last_sequence = seq
            if last is not None and seq > last + 1:
                self.gaps += 1
                log.warning("%s %s: sequence_num %d after %d: pushes lost; reading the open "
                            "orders and the wallet again", self.venue, self.name, seq, last)
                task = asyncio.ensure_future(self.on_reconnect())
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        await super()._frame(raw)

    async def handshake(self, ws: WsClient) -> list[str | bytes]:
        self.last_sequence = None  # a new connection counts from its own start
        early: list[str | bytes] = []
        for channel in (ep.USER, ep.HEARTBEATS):
            await ws.send_json(ep.request("subscribe", channel, jwt=self.signer.token()))
            answer = await read_until(ws, lambda m: isinstance(m, dict) and (
                m.get("type") == "error" or m.get("channel") == ep.SUBSCRIPTIONS), early)
            if answer.get("type") == "error":
                raise StreamRefused(f"subscription to {channel}: {answer.get('message')}")
            seq = answer.get("sequence_num")  # the answers count too: read here, not in _frame
            if isinstance(seq, int) and (self.last_sequence is None or seq > self.last_sequence):
                self.last_sequence = seq
        return early
