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
from collections.abc import Callable, Hashable
from typing import Any

from ttxt_kafka.credentials import Credentials
from ttxt_kafka.orders.errors import ExchangeFailure
from ttxt_kafka.orders.requests import WsCall

from ..base.ws import WS_ERRORS, WsClient
from ..trading.answered import AnsweredSocket
from .auth import ws_auth_message
from .orders import ws_message

log = logging.getLogger(__name__)

AUTH_TIMEOUT = 10.0
RETRY_AFTER = 5.0  # seconds of REST fallback after a failed connect
CONNECT_ERRORS: tuple[type[BaseException], ...] = (*WS_ERRORS, ValueError)


class TradeSocket(AnsweredSocket):
    def __init__(self, url: str, credentials: Credentials, clock_ms: Callable[[], int], *,
                 recv_window_ms: int = 5000, timeout: float = 10.0,
                 heartbeat: float = 20.0) -> None:
        super().__init__(timeout=timeout, heartbeat=heartbeat)
        self.url = url
        self.credentials = credentials
        self.clock_ms = clock_ms
        self.recv_window_ms = recv_window_ms

    def answer_id(self, msg: dict[str, Any]) -> Hashable | None:
        return msg.get("reqId")  # type: ignore[no-any-return]

    def ping_message(self) -> dict[str, Any]:
        return {"op": "ping", "req_id": uuid.uuid4().hex}

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
            self._attach(ws)
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
        call = WsCall(op, args, uuid.uuid4().hex)
        text = json.dumps(ws_message(call, timestamp_ms=self.clock_ms(),
                                     recv_window_ms=self.recv_window_ms), separators=(",", ":"))
        return await self.exchange(call.req_id, text, op)
