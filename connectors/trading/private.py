"""A private WebSocket (user data / Bybit private stream), exchange-neutral: connect,
authenticate and subscribe (`handshake`), normalize every frame into this venue's events,
reconnect with backoff and jitter, and say so on the status topic.

After every reconnect but the first, `on_reconnect` runs (the trader re-reads the wallet and
the open orders over REST: whatever happened while the stream was away). URLs are shown without
their path's last part or query: a listen key is a bearer token for the account's events.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from typing import Any

from ttxt_kafka.events import ConnectorState, Event, now_us

from ..base.backoff import Backoff
from ..base.errors import ConnectorError, ExchangeError, ExchangeMessageError, MalformedMessage
from ..base.normalizer import BaseNormalizer
from ..base.ws import WS_ERRORS, WsClient

log = logging.getLogger(__name__)

Publish = Callable[[Event], Awaitable[None]]
Status = Callable[[ConnectorState, str, str], Awaitable[None]]

HANDSHAKE_TIMEOUT = 10.0
CONNECT_ERRORS: tuple[type[BaseException], ...] = (*WS_ERRORS, ExchangeError)


class StreamRefused(ConnectorError):
    """The exchange refused the stream's authentication or subscription (code, message)."""


class PrivateStream(ABC):
    name = "private"
    ping_interval: float | None = 20.0  # protocol pings (None: the exchange wants app pings)

    def __init__(self, *, venue: str, normalizer: BaseNormalizer, publish: Publish,
                 status: Status, on_reconnect: Callable[[], Awaitable[None]],
                 initial_delay: float = 0.5, max_delay: float = 30.0) -> None:
        self.venue = venue
        self.normalizer = normalizer
        self.publish = publish
        self.status = status
        self.on_reconnect = on_reconnect
        self.backoff = Backoff(initial_delay, max_delay)
        self.ready = asyncio.Event()  # set while connected and subscribed
        self.connects = 0
        self.frames = 0
        self.malformed = 0
        self._log_budget = 0
        self._ws: WsClient | None = None

    # ------------------------------------------------------------------ exchange specifics

    @abstractmethod
    async def url(self) -> str:
        """Where to connect (may call REST first: a listen key)."""

    async def handshake(self, ws: WsClient) -> list[str | bytes]:
        """Authenticate and subscribe; returns frames read meanwhile that carry events."""
        return []

    async def keepalive(self, ws: WsClient) -> None:
        """Runs while connected (app pings, listen key renewal); returning ends nothing."""
        await asyncio.Event().wait()

    def is_expiry(self, raw: str | bytes) -> bool:
        """Does this frame say the stream is over (listen key expired)? Then reconnect."""
        return False

    # ------------------------------------------------------------------ loop

    async def close(self) -> None:
        """Close the socket (call after setting the `stopping` event given to `run`)."""
        ws = self._ws
        if ws is not None:
            with contextlib.suppress(*WS_ERRORS):
                await ws.close(1000, "connector stopping")

    async def run(self, stopping: asyncio.Event) -> None:
        reason = ""
        while not stopping.is_set():
            if reason:
                delay = self.backoff.next()
                await self.status(ConnectorState.RECONNECTING, self.name,
                                  f"{reason}; reconnecting in {delay:.1f}s")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stopping.wait(), delay)
                if stopping.is_set():
                    break
            reason = await self._session(stopping)
            if stopping.is_set():
                reason = "connector stopping"
        self.ready.clear()
        await self.status(ConnectorState.DISCONNECTED, self.name, reason or "stopped")

    async def _session(self, stopping: asyncio.Event) -> str:
        try:
            url = await self.url()
            ws = WsClient(url, ping_interval=self.ping_interval)
            await ws.connect()
            self._ws = ws
        except CONNECT_ERRORS as exc:
            return f"connect failed: {type(exc).__name__}: {redact(str(exc))}"
        except StreamRefused as exc:
            return f"refused: {exc}"
        keep: asyncio.Task[None] | None = None
        try:
            early = await asyncio.wait_for(self.handshake(ws), HANDSHAKE_TIMEOUT)
            self.connects += 1
            self.ready.set()
            self.backoff.reset()
            await self.status(ConnectorState.CONNECTED, self.name, redact(url))
            if self.connects > 1:
                await self.on_reconnect()
            keep = asyncio.ensure_future(self.keepalive(ws))
            for raw in early:
                await self._frame(raw)
            async for raw in ws:
                if self.is_expiry(raw):
                    return "the exchange ended the stream (listen key expired)"
                await self._frame(raw)
                if stopping.is_set():
                    break
            return f"closed by the exchange ({ws.close_info()})"
        except StreamRefused as exc:
            return f"refused: {exc}"
        except TimeoutError:
            return f"no answer to the handshake within {HANDSHAKE_TIMEOUT:g}s"
        except WS_ERRORS as exc:
            return f"connection lost: {type(exc).__name__}: {redact(str(exc))}"
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug or a queue failure: log it, reconnect, go on
            log.exception("%s %s: unexpected error", self.venue, self.name)
            return f"error: {type(exc).__name__}"
        finally:
            self.ready.clear()
            self._ws = None
            if keep is not None:
                keep.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await keep
            with contextlib.suppress(*WS_ERRORS):
                await ws.close()

    async def _frame(self, raw: str | bytes) -> None:
        self.frames += 1
        try:
            events = self.normalizer(raw, now_us())
        except MalformedMessage as exc:
            self.malformed += 1
            self._limited("%s %s: malformed frame skipped: %s", self.venue, self.name, exc)
            return
        except ExchangeMessageError as exc:
            self._limited("%s %s: %s", self.venue, self.name, exc)
            return
        for ev in events:
            if ev.venue == self.venue:  # a Bybit private stream carries every category
                await self.publish(ev)

    def _limited(self, msg: str, *args: Any) -> None:
        self._log_budget += 1
        if self._log_budget <= 10 or self._log_budget % 1000 == 0:
            log.warning(msg, *args)


async def read_until(ws: WsClient, match: Callable[[Any], bool],
                     early: list[str | bytes]) -> Any:
    """Frames until one whose JSON `match`es (returned); others are kept in `early`."""
    while True:
        raw = await ws.recv()
        try:
            msg = json.loads(raw)
        except ValueError:
            early.append(raw)
            continue
        if match(msg):
            return msg
        early.append(raw)


async def login_and_subscribe(ws: WsClient, login: dict[str, Any],
                              args: list[dict[str, str]]) -> list[str | bytes]:
    """The `op` handshake Bitget and OKX share: send `login`, wait for `{"event": "login",
    "code": 0}` (an `error` event refuses the stream), subscribe every arg in one request and
    wait for one `subscribe` answer per arg. Returns the frames that came meanwhile."""
    early: list[str | bytes] = []
    await ws.send_json(login)
    answer = await read_until(ws, lambda m: isinstance(m, dict)
                              and m.get("event") in ("login", "error"), early)
    if answer.get("event") == "error" or str(answer.get("code", "0")) != "0":
        raise StreamRefused(f"login: {answer.get('code')} {answer.get('msg')}")
    await ws.send_json({"op": "subscribe", "args": args})
    for _ in args:
        answer = await read_until(ws, lambda m: isinstance(m, dict)
                                  and m.get("event") in ("subscribe", "error"), early)
        if answer.get("event") == "error":
            raise StreamRefused(f"subscription: {answer.get('code')} {answer.get('msg')}")
    return early


def redact(text: str) -> str:
    """A URL or error text without listen keys or queries."""
    out = []
    for word in text.split():
        if "://" in word:
            base = word.split("?", 1)[0]
            if "/ws/" in base:
                base = base.split("/ws/", 1)[0] + "/ws/<listenKey>"
            word = base
        out.append(word)
    return " ".join(out)
