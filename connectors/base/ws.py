"""WebSocket client: a thin layer over `websockets` that sends JSON, text or binary and
receives any frame type (text as `str`, binary as `bytes`).

Protocol-level pings from the server (Binance) are answered by `websockets` itself; application
heartbeats (Bybit's `{"op":"ping"}`) are the connector's business.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

# What a failed connect or a broken connection may raise; callers catch these to reconnect.
WS_ERRORS: tuple[type[BaseException], ...] = (
    OSError, TimeoutError, ConnectionClosed, InvalidHandshake, InvalidURI,
)


class WsClient:
    """One WebSocket connection. `async for frame in client` yields frames until it closes."""

    def __init__(
        self,
        url: str,
        *,
        ping_interval: float | None = 20.0,
        ping_timeout: float | None = 20.0,
        open_timeout: float = 10.0,
        max_size: int | None = 16 * 1024 * 1024,
        compression: str | None = None,
    ) -> None:
        self.url = url
        self.ping_interval = ping_interval
        self.ping_timeout = ping_timeout
        self.open_timeout = open_timeout
        self.max_size = max_size
        # Off by default: per-message deflate costs CPU on every frame of a hot stream.
        self.compression = compression
        self._ws: ClientConnection | None = None
        self.frames_sent = 0

    async def connect(self) -> WsClient:
        self._ws = await websockets.connect(
            self.url,
            ping_interval=self.ping_interval,
            ping_timeout=self.ping_timeout,
            open_timeout=self.open_timeout,
            max_size=self.max_size,
            compression=self.compression,
            max_queue=4096,
        )
        return self

    @property
    def ws(self) -> ClientConnection:
        if self._ws is None:
            raise RuntimeError(f"WebSocket {self.url} is not connected")
        return self._ws

    @property
    def open(self) -> bool:
        return self._ws is not None and self._ws.close_code is None

    async def send_text(self, text: str) -> None:
        await self.ws.send(text)
        self.frames_sent += 1

    async def send_bytes(self, data: bytes) -> None:
        await self.ws.send(data)
        self.frames_sent += 1

    async def send_json(self, obj: Any) -> None:
        await self.send_text(json.dumps(obj, separators=(",", ":")))

    async def recv(self) -> str | bytes:
        return await self.ws.recv()

    def __aiter__(self) -> AsyncIterator[str | bytes]:
        # Ends quietly on a normal close; raises ConnectionClosedError on an abnormal one.
        return self.ws.__aiter__()

    async def close(self, code: int = 1000, reason: str = "") -> None:
        if self._ws is not None:
            await self._ws.close(code, reason)

    def close_info(self) -> str:
        """Why the connection ended, for status events ("code 1006", "code 1000 bye")."""
        ws = self._ws
        if ws is None or ws.close_code is None:
            return "not closed"
        reason = f" {ws.close_reason}" if ws.close_reason else ""
        return f"code {ws.close_code}{reason}"
