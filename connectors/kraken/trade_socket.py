"""Kraken's authenticated WS v2 connection for orders (`wss://ws-auth.kraken.com/v2`): a token
from REST `GetWebSocketsToken` when connecting (valid 15 minutes to connect; the connection
keeps it), then `add_order` / `cancel_order` / `amend_order` / `cancel_all`, each carrying the
token, answered by `req_id`; `{"method":"ping"}` every `heartbeat` seconds.

`request()` says which of three things happened, because the caller acts differently on each:
an answer (a dict), "not sent" (None: no connection or no token; nothing can have happened),
or an `ExchangeFailure` of kind UNKNOWN_OUTCOME (sent, but the connection died or no answer
came: the order may exist, so the executor asks by client order id before anything else).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from ttxt_kafka.orders.errors import ExchangeFailure

from ..base.ws import WS_ERRORS, WsClient
from ..trading.gateway import transport_failure
from . import endpoints as ep
from .orders import request

log = logging.getLogger(__name__)

RETRY_AFTER = 2.0  # seconds before connecting again after a failed connect
CONNECT_ERRORS: tuple[type[BaseException], ...] = (*WS_ERRORS, ValueError)

# A token, or the reason there is none (a REST refusal's text: never the token itself)
TokenSource = Callable[[], Awaitable[str | ExchangeFailure]]


class TradeSocket:
    def __init__(self, url: str, token: TokenSource, *, timeout: float = 10.0,
                 heartbeat: float = 30.0) -> None:
        self.url = url
        self.token_source = token
        self.timeout = timeout
        self.heartbeat = heartbeat
        self._ws: WsClient | None = None
        self._token = ""
        self._pending: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._lock = asyncio.Lock()
        self._down_until = 0.0
        self._ids = itertools.count(1)
        self.requests = 0
        self.connects = 0
        self.refusal: ExchangeFailure | None = None  # the last token refusal

    @property
    def connected(self) -> bool:
        return self._ws is not None and self._ws.open

    async def _ensure(self) -> bool:
        """Connected with a token (connects when needed); False: not now."""
        if self.connected:
            return True
        async with self._lock:
            if self.connected:
                return True
            if time.monotonic() < self._down_until:
                return False
            token = await self.token_source()
            if isinstance(token, ExchangeFailure):
                log.warning("kraken: no WebSockets token (%s)", token.message)
                self.refusal = token
                self._down_until = time.monotonic() + RETRY_AFTER
                return False
            try:
                ws = await WsClient(ep.ws_url(self.url), ping_interval=None).connect()
            except CONNECT_ERRORS as exc:
                log.warning("kraken order WS unavailable (%s)", type(exc).__name__)
                self._down_until = time.monotonic() + RETRY_AFTER
                return False
            self.refusal = None
            self._ws, self._token = ws, token
            self.connects += 1
            self._tasks = [asyncio.ensure_future(self._read(ws)),
                           asyncio.ensure_future(self._ping(ws))]
            return True

    async def request(self, method: str, params: Mapping[str, Any]
                      ) -> dict[str, Any] | ExchangeFailure | None:
        if not await self._ensure():
            return None
        ws = self._ws
        assert ws is not None
        req_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[req_id] = future
        try:
            await ws.send_text(request(method, params, req_id, self._token).decode())
        except WS_ERRORS:
            self._pending.pop(req_id, None)
            return None  # the frame did not leave: nothing can have happened
        self.requests += 1
        try:
            return await asyncio.wait_for(future, self.timeout)
        except TimeoutError:
            return transport_failure(f"no answer to {method} within {self.timeout:g}s")
        except ConnectionError as exc:
            return transport_failure(f"order WS lost while waiting for {method}: {exc}")
        finally:
            self._pending.pop(req_id, None)

    async def _read(self, ws: WsClient) -> None:
        try:
            async for raw in ws:
                try:
                    msg = json.loads(raw)
                except ValueError:
                    continue
                req_id = msg.get("req_id") if isinstance(msg, dict) else None
                future = self._pending.get(req_id) if isinstance(req_id, int) else None
                if future is not None and not future.done():
                    future.set_result(msg)
        except WS_ERRORS:
            pass
        finally:
            self._lost(ws)

    async def _ping(self, ws: WsClient) -> None:
        with contextlib.suppress(*WS_ERRORS):
            while True:
                await asyncio.sleep(self.heartbeat)
                await ws.send_json(ep.PING)

    def _lost(self, ws: WsClient) -> None:
        if self._ws is ws:
            self._ws = None
        for future in self._pending.values():
            if not future.done():
                future.set_exception(ConnectionError("connection closed"))

    async def close(self) -> None:
        ws, self._ws = self._ws, None
        for task in self._tasks:
            task.cancel()
        if ws is not None:
            with contextlib.suppress(*WS_ERRORS):
                await ws.close()
            self._lost(ws)
