"""Bybit's WebSocket trade API connection (`wss://stream.bybit.com/v5/trade`): authenticated
once (`{"op":"auth"}`), then `order.create` / `order.amend` / `order.cancel` requests answered
by `reqId`, an application ping every `heartbeat` seconds.

`request()` says which of three things happened, because the caller acts differently on each:
an answer (a dict), "not sent" (None: no connection; the caller may use REST instead), or an
`ExchangeFailure` of kind UNKNOWN_OUTCOME (sent, but the connection died or no answer came:
the order may exist, so the caller asks by client order id before anything else).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Callable
from typing import Any

from ttxt_kafka.credentials import Credentials
from ttxt_kafka.orders.errors import ExchangeFailure
from ttxt_kafka.orders.requests import WsCall

from ..base.ws import WS_ERRORS, WsClient
from ..trading.gateway import transport_failure
from .auth import ws_auth_message
from .orders import ws_message

log = logging.getLogger(__name__)

AUTH_TIMEOUT = 10.0
RETRY_AFTER = 5.0  # seconds of REST fallback after a failed connect
CONNECT_ERRORS: tuple[type[BaseException], ...] = (*WS_ERRORS, ValueError)


class TradeSocket:
    def __init__(self, url: str, credentials: Credentials, clock_ms: Callable[[], int], *,
                 recv_window_ms: int = 5000, timeout: float = 10.0,
                 heartbeat: float = 20.0) -> None:
        self.url = url
        self.credentials = credentials
        self.clock_ms = clock_ms
        self.recv_window_ms = recv_window_ms
        self.timeout = timeout
        self.heartbeat = heartbeat
        self._ws: WsClient | None = None
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._lock = asyncio.Lock()
        self._down_until = 0.0
        self.requests = 0
        self.connects = 0

    @property
    def connected(self) -> bool:
        return self._ws is not None and self._ws.open

    async def _ensure(self) -> bool:
        """Connected and authenticated (connects when needed); False: use REST for now."""
        if self.connected:
            return True
        async with self._lock:
            if self.connected:
                return True
            if time.monotonic() < self._down_until:
                return False
            try:
                ws = await WsClient(self.url, ping_interval=None).connect()
                await ws.send_json(ws_auth_message(self.credentials, self.clock_ms() + 10_000))
                answer = await asyncio.wait_for(self._auth_answer(ws), AUTH_TIMEOUT)
            except CONNECT_ERRORS as exc:
                log.warning("bybit trade WS %s unavailable (%s): REST for %.0fs",
                            self.url, type(exc).__name__, RETRY_AFTER)
                self._down_until = time.monotonic() + RETRY_AFTER
                return False
            if answer.get("retCode") != 0:
                log.warning("bybit trade WS authentication refused: %s (code %s)",
                            answer.get("retMsg"), answer.get("retCode"))
                self._down_until = time.monotonic() + RETRY_AFTER
                with contextlib.suppress(*WS_ERRORS):
                    await ws.close()
                return False
            self._ws = ws
            self.connects += 1
            self._tasks = [asyncio.ensure_future(self._read(ws)),
                           asyncio.ensure_future(self._ping(ws))]
            return True

    @staticmethod
    async def _auth_answer(ws: WsClient) -> dict[str, Any]:
        while True:
            msg = json.loads(await ws.recv())
            if isinstance(msg, dict) and msg.get("op") == "auth":
                return msg

    async def request(self, op: str, args: dict[str, Any]
                      ) -> dict[str, Any] | ExchangeFailure | None:
        if not await self._ensure():
            return None
        ws = self._ws
        assert ws is not None
        call = WsCall(op, args, uuid.uuid4().hex)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[call.req_id] = future
        try:
            await ws.send_json(ws_message(call, timestamp_ms=self.clock_ms(),
                                          recv_window_ms=self.recv_window_ms))
        except WS_ERRORS:
            self._pending.pop(call.req_id, None)
            return None  # the frame did not leave: nothing can have happened
        self.requests += 1
        try:
            return await asyncio.wait_for(future, self.timeout)
        except TimeoutError:
            return transport_failure(f"no answer to {op} within {self.timeout:g}s")
        except ConnectionError as exc:
            return transport_failure(f"trade WS lost while waiting for {op}: {exc}")
        finally:
            self._pending.pop(call.req_id, None)

    async def _read(self, ws: WsClient) -> None:
        try:
            async for raw in ws:
                try:
                    msg = json.loads(raw)
                except ValueError:
                    continue
                future = self._pending.get(msg.get("reqId", "")) if isinstance(msg, dict) else None
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
                await ws.send_json({"op": "ping", "req_id": uuid.uuid4().hex})

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
