"""A WebSocket whose requests are answered by id (Bybit's trade API: `reqId`; Kraken's WS v2
order methods: `req_id`), exchange-neutral: the pending answers, the reader that hands each
answer to its request, the application ping, and what a lost connection means.

`exchange()` says which of three things happened, because the caller acts differently on each:
an answer (a dict), "not sent" (None: the frame did not leave; nothing can have happened), or an
`ExchangeFailure` of kind UNKNOWN_OUTCOME (sent, but the connection died or no answer came: the
order may exist, so the executor asks by client order id before anything else). Subclasses
connect and authenticate (`_attach` the socket once ready) and say where an answer's id is.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Hashable
from typing import Any

from ttxt_kafka.orders.errors import ExchangeFailure

from ..base.ws import WS_ERRORS, WsClient
from .gateway import transport_failure


class AnsweredSocket:
    label = "trade WS"

    def __init__(self, *, timeout: float, heartbeat: float) -> None:
        self.timeout = timeout
        self.heartbeat = heartbeat
        self._ws: WsClient | None = None
        self._pending: dict[Hashable, asyncio.Future[dict[str, Any]]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._lock = asyncio.Lock()
        self._down_until = 0.0
        self.requests = 0
        self.connects = 0

    # ------------------------------------------------------------------ exchange specifics

    def answer_id(self, msg: dict[str, Any]) -> Hashable | None:
        """The request id an incoming message answers (None: not an answer)."""
        raise NotImplementedError

    def ping_message(self) -> dict[str, Any]:
        raise NotImplementedError

    # ------------------------------------------------------------------ plumbing

    @property
    def connected(self) -> bool:
        return self._ws is not None and self._ws.open

    def _attach(self, ws: WsClient) -> None:
        """The socket is ready (connected, authenticated): start reading and pinging."""
        self._ws = ws
        self.connects += 1
        self._tasks = [asyncio.ensure_future(self._read(ws)),
                       asyncio.ensure_future(self._ping(ws))]

    async def exchange(self, req_id: Hashable, text: str, what: str
                       ) -> dict[str, Any] | ExchangeFailure | None:
        """Send `text` (a request with id `req_id`) and wait for its answer."""
        ws = self._ws
        if ws is None:
            return None
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[req_id] = future
        try:
            await ws.send_text(text)
        except WS_ERRORS:
            self._pending.pop(req_id, None)
            return None  # the frame did not leave: nothing can have happened
        self.requests += 1
        try:
            return await asyncio.wait_for(future, self.timeout)
        except TimeoutError:
            return transport_failure(f"no answer to {what} within {self.timeout:g}s")
        except ConnectionError as exc:
            return transport_failure(f"{self.label} lost while waiting for {what}: {exc}")
        finally:
            self._pending.pop(req_id, None)

    async def _read(self, ws: WsClient) -> None:
        try:
            async for raw in ws:
                try:
                    msg = json.loads(raw)
                except ValueError:
                    continue
                req_id = self.answer_id(msg) if isinstance(msg, dict) else None
                future = self._pending.get(req_id) if req_id is not None else None
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
                await ws.send_json(self.ping_message())

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
