"""One client WebSocket connection: its subscriptions, its outbound queue, the faults it suffers.

Everything a session sends (acks, pongs, market data) goes through one FIFO drained by a single
sender task, so order on the wire is the order things were queued. Sources publish without
awaiting; producers that can outrun a client call `wait_writable()` (backpressure, instead of
an unbounded queue).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from ttxt_kafka.simulator.faults import ActiveFault, Fault, FaultController, FaultKind
from ttxt_kafka.simulator.publication import Channel, Publication

log = logging.getLogger(__name__)

# Renders one publication for the stream names a session subscribed under its key.
Renderer = Callable[[Publication, list[str]], Sequence[str | bytes]]

HIGH_WATER = 10_000
LOW_WATER = 1_000

# Fields whose absence breaks a normalizer, removed by the `missing_fields` malformed frame.
_ESSENTIAL = ("U", "u", "pu", "seq", "b", "a", "p", "q", "v", "k", "s", "lastUpdateId", "symbol",
              "price", "size", "events")  # events: Coinbase's messages


def dumps(obj: Any) -> str:
    """JSON as the exchanges send it: compact, no spaces."""
    return json.dumps(obj, separators=(",", ":"))


def json_object(text: str) -> dict[str, Any] | None:
    """A client's request: the JSON object `text` holds; None when it holds none (not JSON, or
    JSON that is not an object), for the venue to answer in its own words."""
    try:
        obj = json.loads(text)
    except ValueError:
        return None
    return obj if isinstance(obj, dict) else None


@dataclass(slots=True)
class Outgoing:
    text: str | bytes  # bytes: a binary frame
    pub: Publication | None  # None for protocol control frames (acks, pongs, errors)


class Session:
    def __init__(
        self,
        sid: int,
        path: str,
        ws: web.WebSocketResponse,
        request: web.Request,
        faults: FaultController,
    ) -> None:
        self.id = sid
        self.path = path
        self.ws = ws
        self._transport = request.transport
        self._faults = faults
        self.render: Renderer = lambda pub, names: [pub.payload]
        self.subs: dict[str, str] = {}  # stream/topic name as subscribed -> publication key
        self._by_key: dict[str, list[str]] = {}
        self._queue: deque[Outgoing] = deque()
        self._wake = asyncio.Event()
        self._writable = asyncio.Event()
        self._writable.set()
        self._active: list[ActiveFault] = []
        self._holding = 0
        self.last_text: str | bytes | None = None
        self.closed = False
        self.opened_at = time.time()
        self.frames_sent = 0
        self.pings_sent = 0
        self.pongs_received = 0
        self.pings_received = 0
        self.replay_started = False
        self.replay_finished = False
        self.unserved: set[str] = set()  # valid subscriptions the source has no data for
        self._tasks: list[asyncio.Task[None]] = []

    # -- subscriptions -------------------------------------------------------------------

    def subscribe(self, name: str, key: str) -> None:
        self.subs[name] = key
        self._by_key.setdefault(key, []).append(name)

    def unsubscribe(self, name: str) -> str | None:
        key = self.subs.pop(name, None)
        if key is not None:
            names = self._by_key[key]
            names.remove(name)
            if not names:
                del self._by_key[key]
        return key

    def wants(self, key: str) -> bool:
        return key in self._by_key

    # -- queueing ------------------------------------------------------------------------

    def publish(self, pub: Publication) -> None:
        names = self._by_key.get(pub.key)
        if not names or self.closed:
            return
        for text in self.render(pub, names):
            self._put(Outgoing(text, pub))
            self.last_text = text

    def send_text(self, text: str) -> None:
        """Queue a protocol control frame (ack, pong, error)."""
        if not self.closed:
            self._put(Outgoing(text, None))

    def send_binary(self, data: bytes) -> None:
        """Queue a binary frame that is not market data (MEXC's private protobuf pushes)."""
        if not self.closed:
            self._put(Outgoing(data, None))

    def send_json(self, obj: Any) -> None:
        self.send_text(json.dumps(obj, separators=(",", ":")))

    def _put(self, item: Outgoing) -> None:
        self._queue.append(item)
        self._wake.set()
        if len(self._queue) >= HIGH_WATER:
            self._writable.clear()

    @property
    def queued(self) -> int:
        """Frames not yet on the wire, counting one the sender holds (e.g. during a delay)."""
        return len(self._queue) + self._holding

    async def wait_writable(self) -> None:
        """Backpressure for producers: wait while the queue is above the high-water mark."""
        if not self.closed and not self._writable.is_set():
            await self._writable.wait()

    # -- faults --------------------------------------------------------------------------

    def add_fault(self, fault: Fault) -> None:
        if fault.kind is FaultKind.DROP_CONNECTION:
            self._faults.record(fault.kind, self.id, detail="graceful" if fault.graceful else "cut")
            self.start_task(self.drop(graceful=fault.graceful, code=fault.code))
        elif fault.kind is FaultKind.MALFORMED_FRAME:
            for _ in range(fault.count):
                if not self.closed:
                    self._put(Outgoing(self._malformed(fault.variant), None))
                self._faults.record(fault.kind, self.id, detail=fault.variant)
        else:
            self._active.append(ActiveFault(fault, fault.count))

    def _malformed(self, variant: str) -> str | bytes:
        template = self.last_text
        if variant == "garbage" or template is None:
            return "}{ not json at all \u00a4"
        if variant == "truncated":
            return template[: max(1, len(template) // 2)]  # binary stays binary (protobuf)
        try:
            obj = json.loads(template)
        except ValueError:
            return "{}"
        return json.dumps(_strip_essentials(obj), separators=(",", ":"))

    def _consume_fault(self, item: Outgoing) -> tuple[bool, float]:
        """(drop this frame?, seconds to wait before sending it)."""
        pub = item.pub
        if pub is None or not self._active:
            return False, 0.0
        delay = 0.0
        for active in list(self._active):
            kind = active.fault.kind
            if not active.matches(pub.symbol):
                continue
            if kind in _BOOK_ONLY and pub.channel is not Channel.BOOK:
                continue
            if kind is FaultKind.BAD_NUMBERS:
                if not isinstance(item.text, str):
                    continue  # a binary frame: JSON numbers cannot be bent in it
                bad = _bad_numbers(item.text, active.fault.variant)
                if bad is None:
                    continue  # an update without levels: the next one
                item.text = bad
            active.remaining -= 1
            if active.remaining == 0:
                self._active.remove(active)
            self._faults.record(kind, self.id, symbol=pub.symbol, detail=pub.key)
            if kind is FaultKind.DROP_MESSAGE:
                return True, 0.0
            delay += active.fault.ms / 1000
        return False, delay

    # -- tasks ---------------------------------------------------------------------------

    def start_task(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.append(task)
        task.add_done_callback(self._tasks.remove)

    async def run_sender(self) -> None:
        queue = self._queue
        try:
            while True:
                while not queue:
                    if self.closed:
                        return
                    self._writable.set()
                    self._wake.clear()
                    await self._wake.wait()
                item = queue.popleft()
                drop, delay = self._consume_fault(item)
                if drop:
                    continue
                self._holding = 1
                if delay:
                    await asyncio.sleep(delay)
                if isinstance(item.text, str):
                    await self.ws.send_str(item.text)
                else:
                    await self.ws.send_bytes(item.text)
                self.frames_sent += 1
                self._holding = 0
                if len(queue) <= LOW_WATER:
                    self._writable.set()
        except (ConnectionError, RuntimeError, asyncio.CancelledError):
            pass  # the client went away (or we are stopping): nothing left to deliver to
        finally:
            self.closed = True
            self._writable.set()

    async def run_pinger(self, interval: float, timeout: float | None) -> None:
        """Server pings, as Binance sends them; no pong within `timeout` closes the socket."""
        last_pong = time.monotonic()
        seen = 0
        while not self.closed:
            await asyncio.sleep(interval)
            if self.pongs_received != seen:
                seen, last_pong = self.pongs_received, time.monotonic()
            if timeout is not None and time.monotonic() - last_pong > timeout:
                log.info("session %s: no pong for %.1fs, closing", self.id, timeout)
                await self.drop(graceful=True, code=1008)
                return
            with contextlib.suppress(ConnectionError, RuntimeError):
                await self.ws.ping(str(int(time.time() * 1000)).encode())
                self.pings_sent += 1

    async def drop(self, *, graceful: bool, code: int = 1001) -> None:
        self.closed = True
        self._wake.set()
        if graceful:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await self.ws.close(code=code)
        elif self._transport is not None:
            self._transport.abort()  # a network cut: no close frame

    async def shutdown(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await self.drop(graceful=True, code=1001)

    def state(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "path": self.path,
            "open": not self.closed,
            "opened_at": self.opened_at,
            "subscriptions": sorted(self.subs),
            "unserved": sorted(self.unserved),
            "frames_sent": self.frames_sent,
            "queued": len(self._queue),
            "pings_sent": self.pings_sent,
            "pongs_received": self.pongs_received,
            "pings_received": self.pings_received,
            "replay_started": self.replay_started,
            "replay_finished": self.replay_finished,
            "faults_active": [a.fault.kind.value for a in self._active],
        }


_BOOK_ONLY = (FaultKind.DROP_MESSAGE, FaultKind.BAD_NUMBERS)


def _bad_numbers(text: str, variant: str) -> str | None:
    """A book frame with impossible numbers in its first level: `huge` (a 400-digit price and
    qty 1e400), `negative` (qty -1.5) or `crossed` (a bid far above any ask, or an ask far
    below any bid). None if the frame has no level to change."""
    try:
        obj = json.loads(text)
    except ValueError:
        return None
    todo: list[Any] = [obj]
    while todo:
        node = todo.pop()
        if isinstance(node, list):
            todo.extend(node)
            continue
        if not isinstance(node, dict):
            continue
        for key in ("b", "bids", "a", "asks"):
            levels = node.get(key)
            if isinstance(levels, list) and levels and isinstance(levels[0], list):
                level = levels[0]
                if variant == "huge":
                    level[0], level[1] = "9" * 400, "1e400"
                elif variant == "negative":
                    level[1] = "-1.5"
                else:
                    bid = key in ("b", "bids")
                    level[0], level[1] = ("99999999" if bid else "1"), "1"
                return json.dumps(obj, separators=(",", ":"))
        todo.extend(node.values())
    return None


def _strip_essentials(obj: Any) -> Any:
    """The same message with the fields a normalizer needs removed (valid JSON, wrong shape)."""
    target = obj
    if isinstance(obj, dict) and isinstance(obj.get("data"), dict):
        target = obj["data"]
    elif isinstance(obj, dict) and isinstance(obj.get("data"), list) and obj["data"]:
        target = obj["data"][0]
    if not isinstance(target, dict):
        return {}
    removed = [k for k in _ESSENTIAL if k in target]
    for k in removed:
        del target[k]
    if not removed and isinstance(obj, dict):
        obj.pop("data", None)
    return obj
