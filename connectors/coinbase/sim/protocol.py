"""Coinbase Advanced Trade public wire protocol.

WS `/`: `{"type": "subscribe" | "unsubscribe", "product_ids": [...], "channel": C}`; every
answer and push is `{"channel", "client_id": "", "timestamp", "sequence_num", "events"}` with
one `sequence_num` counter per connection. A (un)subscription is answered by a `subscriptions`
message listing what the connection holds; `level2` answers with a `snapshot` of the product's
book first; `heartbeats` sends one message a second. Bad requests get `{"type": "error",
"message": ...}`. Connection rules, as documented: a connection that sends no subscribe within
5 s is closed; per IP, more than 8 connections a second are refused (HTTP 429) and more than 8
messages a second get an error and the connection closed. REST:
`/api/v3/brokerage/market/products`, `/api/v3/brokerage/time`,
`/api/v3/brokerage/market/product_book` (`{"pricebook": {bids, asks}}`).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ttxt_kafka.connectors.coinbase import endpoints as ep
from ttxt_kafka.simulator.feeds import UnknownStream, UnknownSymbol
from ttxt_kafka.simulator.publication import Publication
from ttxt_kafka.simulator.session import Renderer, Session, dumps, json_object

from .streams import PRODUCT_CHANNELS, Stamp, key_of

if TYPE_CHECKING:
    from ttxt_kafka.simulator.server import Simulator

_JSON = "application/json"
PRODUCT_BOOK_PATH = "/api/v3/brokerage/market/product_book"


def iso_now() -> str:
    ns = time.time_ns()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ns // 10**9)) + f".{ns % 10**9:09d}Z"


def message(channel: str, events: list[Any]) -> str:
    """A Coinbase WS message; `sequence_num` is stamped per connection when it is queued."""
    return dumps({"channel": channel, "client_id": "", "timestamp": iso_now(),
                   "sequence_num": 0, "events": events})


def _error(message_: str, status: int = 400) -> web.Response:
    return web.Response(text=dumps({"error": "INVALID_ARGUMENT", "message": message_,
                                     "error_details": message_}), status=status,
                        content_type=_JSON)


class CoinbaseProtocol:
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim
        self.feed = sim.feed
        # the documented rules (tests shorten the deadline)
        self.subscribe_deadline = ep.SUBSCRIBE_DEADLINE_S
        self.connections_per_second = ep.WS_CONNECTIONS_PER_S
        self.messages_per_second = ep.WS_MESSAGES_PER_S
        self._connects: dict[str, deque[float]] = {}  # by client IP: recent connection times
        self._messages: dict[str, deque[float]] = {}  # by client IP: recent message times
        self.refused_connections = 0
        self.rate_limited = 0
        self.requests: dict[tuple[str, str], int] = {}  # (type, channel) -> how many came

    def over_limit(self, recent: dict[str, deque[float]], ip: str, limit: int) -> bool:
        """Count one more event for `ip`: True when that makes more than `limit` in the last
        second."""
        now = time.monotonic()
        times = recent.setdefault(ip, deque())
        while times and times[0] <= now - 1.0:
            times.popleft()
        times.append(now)
        return len(times) > limit

    def add_routes(self, router: web.UrlDispatcher) -> None:
        router.add_get(ep.WS_PATH, self._ws)
        router.add_get(ep.PRODUCTS_PATH, self._products)
        router.add_get(ep.TIME_PATH, self._time)
        router.add_get(PRODUCT_BOOK_PATH, self._product_book)

    async def _ws(self, request: web.Request) -> web.StreamResponse:
        if not web.WebSocketResponse().can_prepare(request).ok:
            return web.Response(status=400, text="WebSocket upgrade required")
        if self.over_limit(self._connects, request.remote or "", self.connections_per_second):
            self.refused_connections += 1
            return web.Response(status=429, text="too many connections")
        return await self.sim.run_ws(request, _Connection(self, request.remote or ""))

    async def _products(self, request: web.Request) -> web.Response:
        self.sim.rest_requests += 1
        return web.Response(text=self.feed.instruments_body(None), content_type=_JSON)

    async def _time(self, request: web.Request) -> web.Response:
        self.sim.rest_requests += 1
        ms = int(time.time() * 1000)
        return web.Response(text=dumps({"iso": iso_now(), "epochSeconds": str(ms // 1000),
                                         "epochMillis": str(ms)}), content_type=_JSON)

    async def _product_book(self, request: web.Request) -> web.Response:
        self.sim.rest_requests += 1
        product = request.query.get("product_id", "")
        if not product:
            return _error("product_id is required")
        limit = request.query.get("limit", "1000")
        if not limit.isdigit():
            return _error("limit must be a number")
        try:
            body = self.feed.depth_body(product, int(limit) or 10**6, None)
        except UnknownSymbol:
            return _error(f"unknown product {product}", 404)
        return web.Response(text=body, content_type=_JSON)


class _Connection:
    """One client connection: its counter, its heartbeats."""

    def __init__(self, proto: CoinbaseProtocol, ip: str) -> None:
        self.proto = proto
        self.ip = ip
        self.feed = proto.feed
        self.subscribed = False
        self.stamp = Stamp()
        self.heartbeats: asyncio.Task[None] | None = None
        self.heartbeat_counter = 0

    def renderer(self, session: Session) -> Renderer:
        stamp = self.stamp

        def render(pub: Publication, names: list[str]) -> list[str | bytes]:
            return [stamp(pub.text)]

        return render

    def opened(self, session: Session) -> None:
        session.start_task(self._subscribe_deadline(session))

    async def _subscribe_deadline(self, session: Session) -> None:
        await asyncio.sleep(self.proto.subscribe_deadline)
        if not self.subscribed:
            await session.drop(graceful=True, code=1000)

    def _send(self, session: Session, text: str) -> None:
        session.send_text(self.stamp(text))

    def _error(self, session: Session, text: str) -> None:
        session.send_json({"type": "error", "message": text})

    def _subscriptions(self, session: Session) -> None:
        held: dict[str, list[str]] = {}
        for name in session.subs:
            channel, _, product = name.partition(".")
            held.setdefault(channel, []).append(product)
        if self.heartbeats is not None:
            held[ep.HEARTBEATS] = [ep.HEARTBEATS]
        self._send(session, message(ep.SUBSCRIPTIONS, [{"subscriptions": held}]))

    def on_text(self, session: Session, text: str) -> None:
        proto = self.proto
        if proto.over_limit(proto._messages, self.ip, proto.messages_per_second):
            proto.rate_limited += 1
            self._error(session, "rate limit exceeded: too many messages")
            session.start_task(session.drop(graceful=True, code=1008))
            return
        req = json_object(text)
        if req is None:
            self._error(session, "Failed to parse message")
            return
        kind, channel, products = req.get("type"), req.get("channel"), req.get("product_ids")
        if kind not in ("subscribe", "unsubscribe"):
            self._error(session, f"Unknown message type {kind!r}")
            return
        self.subscribed = self.subscribed or kind == "subscribe"
        counted = (kind, str(channel))
        self.proto.requests[counted] = self.proto.requests.get(counted, 0) + 1
        if channel == ep.HEARTBEATS:
            self._heartbeats(session, kind == "subscribe")
            self._subscriptions(session)
            return
        if channel not in PRODUCT_CHANNELS:
            self._error(session, f"Unknown channel {channel!r}")
            return
        if not (isinstance(products, list) and products
                and all(isinstance(p, str) for p in products)):
            self._error(session, "product_ids must be a non-empty list of strings")
            return
        names = [key_of(channel, p) for p in products]
        if kind == "unsubscribe":
            keys = [k for n in names if (k := session.unsubscribe(n))]
            if keys:
                self.feed.unsubscribed(session, keys)
            self._subscriptions(session)
            return
        try:
            resolved = [(n, self.feed.resolve(n)) for n in names]
        except UnknownStream:
            self._error(session, f"Failed to subscribe: unknown product in {products}")
            return
        fresh = []
        for name, key in resolved:
            if name not in session.subs:
                session.subscribe(name, key)
                fresh.append(name)
        if fresh:
            self.feed.subscribed(session, fresh)  # level2 snapshots come first, as captured
        self._subscriptions(session)

    def _heartbeats(self, session: Session, on: bool) -> None:
        if on and self.heartbeats is None:
            self.heartbeats = asyncio.get_running_loop().create_task(self._beat(session))
            session.start_task(self._wait(self.heartbeats))
        elif not on and self.heartbeats is not None:
            self.heartbeats.cancel()
            self.heartbeats = None

    async def _wait(self, task: asyncio.Task[None]) -> None:
        try:
            await task
        except asyncio.CancelledError:
            task.cancel()

    async def _beat(self, session: Session) -> None:
        while not session.closed:
            await asyncio.sleep(1.0)
            self.heartbeat_counter += 1
            ns = time.time_ns()
            now = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ns // 10**9))
            self._send(session, message(ep.HEARTBEATS, [{
                "current_time": f"{now}.{ns % 10**9:09d} +0000 UTC",
                "heartbeat_counter": self.heartbeat_counter}]))
