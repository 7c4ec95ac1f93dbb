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

import itertools
import logging
import time
from collections.abc import Awaitable, Callable, Hashable, Mapping
from typing import Any

from ttxt_kafka.orders.errors import ExchangeFailure

from ..base.ws import WS_ERRORS, WsClient
from ..trading.answered import AnsweredSocket
from . import endpoints as ep
from .orders import request

log = logging.getLogger(__name__)

RETRY_AFTER = 2.0  # seconds before connecting again after a failed connect
CONNECT_ERRORS: tuple[type[BaseException], ...] = (*WS_ERRORS, ValueError)

# A token, or the reason there is none (a REST refusal's text: never the token itself)
TokenSource = Callable[[], Awaitable[str | ExchangeFailure]]


class TradeSocket(AnsweredSocket):
    label = "order WS"

    def __init__(self, url: str, token: TokenSource, *, timeout: float = 10.0,
                 heartbeat: float = 30.0) -> None:
        super().__init__(timeout=timeout, heartbeat=heartbeat)
        self.url = url
        self.token_source = token
        self._token = ""
        self._ids = itertools.count(1)
        self.refusal: ExchangeFailure | None = None  # the last token refusal

    def answer_id(self, msg: dict[str, Any]) -> Hashable | None:
        req_id = msg.get("req_id")
        return req_id if isinstance(req_id, int) else None

    def ping_message(self) -> dict[str, Any]:
        return ep.PING

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
            self._token = token
            self._attach(ws)
            return True

    async def request(self, method: str, params: Mapping[str, Any]
                      ) -> dict[str, Any] | ExchangeFailure | None:
        if not await self._ensure():
            return None
        req_id = next(self._ids)
        return await self.exchange(req_id, request(method, params, req_id, self._token).decode(),
                                   method)
