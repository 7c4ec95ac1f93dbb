"""The connector base: everything a market-data connector does that is not exchange-specific.

A concrete connector (see `connectors/binance/connector.py`) supplies endpoints, a normalizer,
a book-sync machine, subscriptions and how to rebuild a book; the base does the rest:

* instruments -> symbol map -> `InstrumentInfo` events; clock drift against the server time;
* one or more WebSocket connections, each reconnected with exponential backoff and jitter, with
  a heartbeat where the exchange wants one and a stale-stream watchdog;
* every frame: normalize -> events; book events go through the symbol's sync machine and the
  connector's own `Book`, and a DELTA is published only while that book is whole;
* a `ConnectorStatus` event on every state change: CONNECTED, RECONNECTING, DISCONNECTED,
  BOOK_RESYNC (with the reason), BOOK_SYNCED;
* a full SNAPSHOT of each book every `snapshot_interval` seconds, for consumers joining late;
* malformed frames and exchange error frames are logged (rate-limited), counted, and skipped;
* the Kafka bus's troubles (a `KafkaQueue` listener): a delivery failure goes out as a
  `ConnectorStatus` ERROR on stream `kafka` (CONNECTED again once a new producer works), and a
  book whose records may not have reached Kafka is resynced (BOOK_RESYNC "delivery failure",
  then a fresh SNAPSHOT), so the topic's chain never has a silent hole.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterable, Awaitable, Callable
from typing import Any, ClassVar, TypeVar

from ttxt_kafka import venues
from ttxt_kafka.book import Book
from ttxt_kafka.bus.interfaces import IQueue
from ttxt_kafka.codec import CodecError
from ttxt_kafka.events import (
    ConnectorState,
    ConnectorStatus,
    Event,
    InstrumentInfo,
    OrderBook,
    now_us,
)
from ttxt_kafka.venues import VenueSpec

from ..config import ConnectorConfig
from .backoff import Backoff
from .book_sync import BookSync
from .books import BookKeeper
from .errors import ConnectorError, ExchangeError, ExchangeMessageError, MalformedMessage
from .normalizer import BaseNormalizer
from .numbers import NumberChecker
from .ratelimit import WeightLimiter
from .rest import RestClient
from .state import Connection, ConnectorStats, SymbolState
from .symbols import SymbolMap, UnknownSymbolError
from .ws import WS_ERRORS, WsClient

log = logging.getLogger(__name__)

_N = TypeVar("_N", bound=BaseNormalizer)

__all__ = ["Connection", "Connector", "ConnectorStats", "SymbolState"]


class Connector(BookKeeper, ABC):
    """Market data of one venue, from exchange WebSockets/REST to an `IQueue`."""

    venue: ClassVar[str]
    exchange: ClassVar[str]
    # Protocol-level keepalive pings from our side (None: the exchange wants app-level ones).
    ws_ping_interval: ClassVar[float | None] = 20.0
    heartbeat_interval: float | None = None  # seconds between `heartbeat()` calls (None: none)
    # The exchange's own limit of streams per connection, below the configured one (None: none).
    max_streams_per_connection: ClassVar[int | None] = None
    # Seconds a connection may live before we redo it ourselves, ahead of the exchange's forced
    # disconnect (Bitget, Binance: every 24 h); None: no limit.
    max_connection_age: float | None = None
    # The exchange's limits on opening connections and on the requests we send on them (per
    # second per IP; None: none documented). Paced within this process: no more than the limit
    # in any one-second window (see `_pacer`); several processes on one IP share it, so split
    # the limit among them with `connections_per_second` / `requests_per_second` in a subclass.
    connections_per_second: ClassVar[float | None] = None
    requests_per_second: ClassVar[float | None] = None

    def __init__(
        self,
        config: ConnectorConfig,
        queue: IQueue,
        *,
        rest: RestClient | None = None,
    ) -> None:
        if config.venue != self.venue:
            raise ValueError(f"{type(self).__name__} serves {self.venue}, not {config.venue}")
        self.config = config
        self.spec: VenueSpec = venues.venue(self.venue)
        self.queue = queue
        default_ws, default_rest = self.default_endpoints()
        self.ws_base = config.endpoints.ws or default_ws
        self.rest_base = config.endpoints.rest or default_rest
        self.rest = rest or self.make_rest_client(self.rest_base)
        self.stats = ConnectorStats()
        self.symbols = SymbolMap(self.venue)
        self.normalizer: BaseNormalizer = self.make_normalizer(self.symbols)
        self.numbers = NumberChecker()
        self.states: dict[str, SymbolState] = {}  # by native symbol, for book streams
        self.books: dict[str, Book] = {}  # by normalized symbol: the connector's own books
        self.connections: list[Connection] = []
        self.native_symbols: list[str] = []
        self.clock_drift_us: int | None = None
        self._stopping = asyncio.Event()
        # Set once the instrument list is loaded: the trading side validates orders against it.
        self.instruments_ready = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._conn_tasks: set[asyncio.Task[Any]] = set()
        self._started = False
        self._log_budget: dict[str, int] = {}
        self.connect_pacer = _pacer(self.connections_per_second)
        self.request_pacer = _pacer(self.requests_per_second)

    # ------------------------------------------------------------------ exchange specifics

    @abstractmethod
    def default_endpoints(self) -> tuple[str, str]:
        """(WebSocket base URL, REST base URL) of the real exchange."""

    @abstractmethod
    def make_rest_client(self, base_url: str) -> RestClient: ...

    @abstractmethod
    def make_normalizer(self, symbols: SymbolMap) -> BaseNormalizer: ...

    @abstractmethod
    def make_sync(self) -> BookSync: ...

    @abstractmethod
    async def fetch_instruments(self, wanted: list[str]) -> list[InstrumentInfo]:
        """Instrument info of the venue (at least of the `wanted` configured symbols)."""

    @abstractmethod
    async def fetch_server_time_us(self) -> int: ...

    def normalizer_as(self, kind: type[_N]) -> _N:
        """The connector's normalizer as the exchange's own class, which also reads its REST
        bodies (instruments, book snapshots)."""
        normalizer = self.normalizer
        assert isinstance(normalizer, kind)
        return normalizer

    @abstractmethod
    def stream_names(self, native: str) -> list[str]:
        """The exchange's stream/topic names for one symbol, per the configured streams."""

    def configured_streams(self, book: str, trades: str, bbo: str,
                           kline: Callable[[str], str]) -> list[str]:
        """`stream_names` of the exchanges with one stream per kind: the symbol's names for the
        book, trades and BBO, and `kline(interval)`, kept for the configured streams, in the
        order book, trades, klines, BBO."""
        streams = self.config.streams
        names = []
        if streams.book:
            names.append(book)
        if streams.trades:
            names.append(trades)
        if streams.klines:
            names += [kline(i) for i in streams.klines.intervals]
        if streams.bbo:
            names.append(bbo)
        return names

    @abstractmethod
    def ws_url(self, conn: Connection) -> str: ...

    async def before_connect(self, conn: Connection) -> None:  # noqa: B027 - optional hook
        """Just before each (re)connect: fetch what the URL needs (KuCoin's connection token).
        An `ExchangeError` or `MalformedMessage` here is a failed connect (retried)."""

    async def on_open(self, conn: Connection) -> None:  # noqa: B027 - optional hook
        """Just connected: send subscriptions (exchanges that subscribe by message)."""

    async def heartbeat(self, conn: Connection) -> None:  # noqa: B027 - optional hook
        """Send one application-level ping (exchanges that want them)."""

    def book_max_depth(self) -> int | None:
        """Levels per side the connector's book keeps (None: every level the exchange sends;
        Kraken: the subscribed depth, its rule truncates after every update)."""
        return None

    @abstractmethod
    async def rebuild(self, state: SymbolState) -> None:
        """Start rebuilding a broken book (fetch a snapshot, or resubscribe)."""

    async def resubscribe_book(self, state: SymbolState, request: Callable[[str], Any]) -> None:
        """A rebuild by resubscribing (exchanges that answer a subscription with a snapshot):
        `request("unsubscribe")`, then `request("subscribe")`, each message sent as JSON on the
        symbol's connection."""
        conn = state.conn
        if conn is None or conn.ws is None:
            return  # not connected: the next connection subscribes afresh
        try:
            for op in ("unsubscribe", "subscribe"):
                await conn.ws.send_json(request(op))
        except WS_ERRORS:
            return  # the reader sees the broken connection and reconnects

    def fetch_snapshot(self, state: SymbolState, get: Callable[[], Awaitable[OrderBook]]
                       ) -> None:
        """A rebuild from a REST snapshot (Binance, KuCoin): `get()` fetches and normalizes
        it, in a task of the symbol's connection; later attempts of an episode wait a little
        first. A failed request is logged and counted: the next buffered delta, or the resync
        watchdog, tries again."""
        state.fetching = True
        group = state.conn.tasks if state.conn is not None else self._tasks
        self._spawn(self._snapshot_task(state, get), group)

    async def _snapshot_task(self, state: SymbolState,
                             get: Callable[[], Awaitable[OrderBook]]) -> None:
        try:
            if state.snapshot_attempts > 1:
                await asyncio.sleep(min(2.0, 0.25 * (state.snapshot_attempts - 1)))
            snap = await get()
        except (ExchangeError, MalformedMessage) as exc:
            self.stats.rest_errors += 1
            state.fetching = False
            log.warning("%s %s: depth snapshot failed: %s", self.venue, state.symbol, exc)
            return
        except BaseException:
            state.fetching = False
            raise
        state.fetching = False
        await self.on_snapshot(state, snap)

    # ------------------------------------------------------------------ lifecycle

    async def run(self) -> None:
        """Run until `stop()` (or cancellation); then close sockets and the REST session."""
        try:
            await self.start()
            await self._stopping.wait()
        finally:
            await self.close()

    async def start(self) -> None:
        """Load instruments, resolve the configured symbols, start the connections."""
        if self._started:
            return
        self._started = True
        add_listener = getattr(self.queue, "add_listener", None)
        if add_listener is not None:  # a KafkaQueue: told about delivery failures
            add_listener(self)
        await self._load_instruments()
        await self._measure_clock()
        self._plan_connections()
        for conn in self.connections:
            self._spawn(self._run_connection(conn), self._conn_tasks)
        if self.config.streams.book and self.config.snapshot_interval > 0:
            self._spawn(self._snapshot_loop(), self._tasks)

    def stop(self) -> None:
        """Ask `run()` to finish (safe to call from a signal handler)."""
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    async def close(self) -> None:
        """Close every socket (DISCONNECTED status each), stop the tasks, close REST."""
        self._stopping.set()
        for conn in self.connections:
            conn.close_reason = conn.close_reason or "connector stopping"
            if conn.ws is not None:
                with contextlib.suppress(*WS_ERRORS):
                    await conn.ws.close()
        # Let each connection say DISCONNECTED before the rest is torn down.
        if self._conn_tasks:
            await asyncio.wait(list(self._conn_tasks), timeout=5.0)
        tasks = self._tasks | self._conn_tasks
        for conn in self.connections:
            tasks |= conn.tasks
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        remove_listener = getattr(self.queue, "remove_listener", None)
        if remove_listener is not None:
            remove_listener(self)
        await self.rest.close()

    async def __aenter__(self) -> Connector:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _spawn(self, coro: Awaitable[Any], group: set[asyncio.Task[Any]]) -> asyncio.Task[Any]:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        group.add(task)
        task.add_done_callback(group.discard)
        task.add_done_callback(self._task_done)
        return task

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("%s: task failed", self.venue, exc_info=task.exception())

    # ------------------------------------------------------------------ instruments, clock

    async def _load_instruments(self) -> None:
        wanted = list(self.config.symbols)
        backoff = Backoff(self.config.reconnect.initial_delay, self.config.reconnect.max_delay)
        while True:
            try:
                infos = await self.fetch_instruments(wanted)
                break
            except (ExchangeError, MalformedMessage) as exc:
                self.stats.rest_errors += 1
                if self.stopping:
                    raise
                delay = backoff.next()
                log.warning("%s: instrument info unavailable (%s); retrying in %.1fs",
                            self.venue, exc, delay)
                await self._status(ConnectorState.ERROR, "instruments", f"instrument info: {exc}")
                await self._sleep(delay)
        for info in infos:
            self.symbols.add(info)
        self.normalizer = self.make_normalizer(self.symbols)
        self.numbers = NumberChecker(self.symbols.instruments, self.spec.asset_decimals)
        resolved: list[tuple[str, str]] = []
        for sym in wanted:
            try:
                resolved.append(self.symbols.resolve(sym))
            except UnknownSymbolError as exc:
                raise ConnectorError(str(exc)) from None
        self.native_symbols = [native for _, native in resolved]
        # The books exist before anyone is told the instruments are ready: the trader's paper
        # gateway takes them then, and a publish below may wait (e.g. for a schema id).
        if self.config.streams.book:
            for symbol, native in resolved:
                book = Book(self.venue, symbol, max_depth=self.book_max_depth())
                book.native_symbol = native
                self.books[symbol] = book
                self.states[native] = SymbolState(native, symbol, self.make_sync(), book)
        self.instruments_ready.set()
        receive_ts = now_us()
        for symbol, _native in resolved:
            info = self.symbols.instruments[symbol]
            info.receive_ts = receive_ts
            await self._publish(info)

    async def _measure_clock(self) -> None:
        """Clock drift = server time - local time at the request's midpoint (µs)."""
        try:
            t0 = now_us()
            server = await self.fetch_server_time_us()
            t1 = now_us()
        except (ExchangeError, MalformedMessage, KeyError, TypeError, ValueError) as exc:
            log.warning("%s: cannot read the server time: %s", self.venue, exc)
            return
        self.clock_drift_us = server - (t0 + t1) // 2
        if abs(self.clock_drift_us) > self.config.clock_drift_warning_ms * 1000:
            log.warning("%s: local clock is %+.0f ms off the exchange's (round trip %.0f ms)",
                        self.venue, -self.clock_drift_us / 1000, (t1 - t0) / 1000)

    # ------------------------------------------------------------------ connections

    def _plan_connections(self) -> None:
        """Spread the symbols over connections of at most `max_streams_per_connection`."""
        per_symbol = max(1, len(self.stream_names(self.native_symbols[0])))
        limit = self.config.max_streams_per_connection
        if self.max_streams_per_connection is not None:
            limit = min(limit, self.max_streams_per_connection)
        per_conn = max(1, limit // per_symbol)
        natives = self.native_symbols
        for i, start in enumerate(range(0, len(natives), per_conn)):
            conn = Connection(i, f"public#{i}", natives[start:start + per_conn])
            self.connections.append(conn)
            for native in conn.symbols:
                if native in self.states:
                    self.states[native].conn = conn

    async def _run_connection(self, conn: Connection) -> None:
        cfg = self.config
        backoff = Backoff(cfg.reconnect.initial_delay, cfg.reconnect.max_delay)
        reason = ""
        while not self.stopping:
            if conn.generation > 0 or reason:
                self.stats.reconnects += 1
                delay = backoff.next()
                await self._status(ConnectorState.RECONNECTING, conn.name,
                                   f"{reason}; reconnecting in {delay:.1f}s")
                await self._sleep(delay)
                if self.stopping:
                    break
            reason = await self._session(conn)
            if conn.data_frames:
                backoff.reset()  # it worked for a while: the next outage starts from scratch
        await self._status(ConnectorState.DISCONNECTED, conn.name,
                           reason or conn.close_reason or "stopped")

    async def _session(self, conn: Connection) -> str:
        """One connection's life: connect, subscribe, read until it ends. Returns why it ended."""
        try:
            await self.before_connect(conn)
        except (ExchangeError, MalformedMessage) as exc:
            self.stats.rest_errors += 1
            return f"before connecting: {exc}"
        ws = WsClient(self.ws_url(conn), ping_interval=self.ws_ping_interval)
        if self.connect_pacer is not None:
            await self.connect_pacer.acquire()
        try:
            await ws.connect()
        except WS_ERRORS as exc:
            return f"connect to {_redact(ws.url)} failed: {type(exc).__name__}: {exc}"
        conn.ws = ws
        conn.generation += 1
        conn.close_reason = ""
        conn.data_frames = 0
        conn.last_rx = time.monotonic()
        await self._status(ConnectorState.CONNECTED, conn.name, _redact(ws.url))
        await self._reset_books(conn.symbols, "reconnect" if conn.generation > 1 else "")
        if conn.generation > 1:
            self._spawn(self._measure_clock(), conn.tasks)
        try:
            self._spawn(self._watchdog(conn), conn.tasks)
            if self.heartbeat_interval:
                self._spawn(self._heartbeat_loop(conn, self.heartbeat_interval), conn.tasks)
            await self.on_open(conn)
            await self._read(conn, ws)
            reason = f"closed by the exchange ({ws.close_info()})"
        except WS_ERRORS as exc:
            reason = f"connection lost: {type(exc).__name__}: {exc}"
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug or a queue failure: log it, reconnect, go on
            log.exception("%s %s: unexpected error", self.venue, conn.name)
            reason = f"error: {type(exc).__name__}: {exc}"
        finally:
            for task in list(conn.tasks):
                task.cancel()
            with contextlib.suppress(*WS_ERRORS):
                await ws.close()
            conn.ws = None
        return conn.close_reason or reason

    async def _read(self, conn: Connection, ws: AsyncIterable[str | bytes]) -> None:
        """The hot path: every frame -> events -> queue. (`ws`: the connection's frames; an
        exchange may wrap them, e.g. to check a per-connection counter on each.)"""
        normalize = self.normalizer
        on_book = self._on_book
        queue_publish = self.queue.publish  # straight to the queue: one coroutine less a frame
        stats = self.stats
        numbers = self.numbers
        clock = time.monotonic
        time_ns = time.time_ns
        async for raw in ws:
            conn.last_rx = clock()
            stats.messages += 1
            try:
                events = normalize(raw, time_ns() // 1000)  # receive time, µs
            except MalformedMessage as exc:
                stats.malformed += 1
                self._log_limited("malformed", "%s %s: malformed frame skipped (%d so far): %s",
                                  self.venue, conn.name, stats.malformed, exc)
                continue
            except ExchangeMessageError as exc:
                stats.exchange_errors += 1
                self._log_limited("exchange", "%s %s: %s", self.venue, conn.name, exc)
                continue
            if events:
                conn.data_frames += 1
            for ev in events:
                if ev.__class__ is OrderBook:
                    await on_book(ev)  # type: ignore[arg-type]
                    continue
                bad = numbers(ev)
                if bad is not None:
                    stats.malformed += 1
                    self._log_limited("numbers", "%s %s: malformed %s refused (%d so far): %s",
                                      self.venue, conn.name, ev.SCHEMA, stats.malformed, bad)
                    continue
                try:
                    await queue_publish(ev)
                except CodecError as exc:
                    self._not_published(ev, exc)
                    continue
                stats.events += 1

    async def _watchdog(self, conn: Connection) -> None:
        """Close the socket when the stream goes quiet or a book stays broken too long."""
        cfg = self.config
        period = min(1.0, cfg.stale_timeout / 4, cfg.resync_timeout / 4)
        opened = time.monotonic()
        while True:
            await asyncio.sleep(period)
            now = time.monotonic()
            age = self.max_connection_age
            if age is not None and now - opened > age:
                await self._close(conn, f"connection {age:g}s old: redone before the exchange "
                                        "drops it")
                return
            if now - conn.last_rx > cfg.stale_timeout:
                await self._close(conn, f"no message for {cfg.stale_timeout:g}s (stale stream)")
                return
            for native in conn.symbols:
                state = self.states.get(native)
                since = state.unsynced_since if state is not None else None
                if since is not None and now - since > cfg.resync_timeout:
                    await self._close(conn, f"{state.symbol} book not rebuilt within "  # type: ignore[union-attr]
                                            f"{cfg.resync_timeout:g}s")
                    return

    async def send_request(self, conn: Connection, msg: Any) -> None:
        """Send one request (subscribe, unsubscribe, ...) on `conn`, paced to the exchange's
        request limit. Raises the socket's errors (WS_ERRORS) when it is gone."""
        if self.request_pacer is not None:
            await self.request_pacer.acquire()
        if conn.ws is None:
            raise ConnectionError(f"{conn.name} is not connected")
        await conn.ws.send_json(msg)

    async def _close(self, conn: Connection, reason: str) -> None:
        conn.close_reason = reason
        log.warning("%s %s: closing: %s", self.venue, conn.name, reason)
        if conn.ws is not None:
            with contextlib.suppress(*WS_ERRORS):
                await conn.ws.close(1000, reason[:100])

    async def _heartbeat_loop(self, conn: Connection, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.heartbeat(conn)
            except WS_ERRORS:
                return  # the reader sees the broken connection and reconnects

    async def _sleep(self, seconds: float) -> None:
        """Sleep, but wake up at once when the connector stops."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)

    # ------------------------------------------------------------------ publishing

    async def _publish(self, event: Event) -> bool:
        """Publish one event; False (logged, counted) if the queue could not encode it."""
        try:
            await self.queue.publish(event)
        except CodecError as exc:
            self._not_published(event, exc)
            return False
        self.stats.events += 1
        return True

    def _not_published(self, event: Event, exc: Exception) -> None:
        self.stats.publish_errors += 1
        self._log_limited("publish", "%s: %s %s not published: %s", self.venue,
                          event.SCHEMA, event.symbol, exc)

    async def _status(self, status: ConnectorState, stream: str, reason: str = "") -> None:
        ts = now_us()
        log.info("%s %s: %s %s", self.venue, stream, status.value, reason)
        await self._publish(ConnectorStatus(
            venue=self.venue, symbol="", exchange_ts=ts, receive_ts=ts, stream=stream,
            status=status, reason=reason,
        ))

    # ------------------------------------------------------------------ the bus's troubles

    def delivery_failed(self, reason: str) -> None:
        """The queue could not deliver records and is replacing its producer."""
        self.stats.delivery_failures += 1
        if not self.stopping:
            self._spawn(self._status(ConnectorState.ERROR, "kafka", reason), self._tasks)

    def delivery_recovered(self, reason: str) -> None:
        if not self.stopping:
            self._spawn(self._status(ConnectorState.CONNECTED, "kafka", reason), self._tasks)

    def chains_broken(self, chains: list[tuple[str, bytes | None]]) -> None:
        """Book records of these (topic, symbol) may not have reached Kafka: resync each of our
        books among them (BOOK_RESYNC, then a fresh SNAPSHOT once rebuilt)."""
        suffix = f".{self.venue}.book"
        for topic_name, key in chains:
            if not topic_name.endswith(suffix) or key is None:
                continue
            native = self.symbols.to_native.get(key.decode(errors="replace"))
            state = self.states.get(native) if native is not None else None
            if state is None or self.stopping:
                continue
            self.stats.delivery_resyncs += 1
            self._spawn(self._resync(state, "delivery failure: book records may not have "
                                            "reached Kafka"), self._tasks)

    def _log_limited(self, kind: str, msg: str, *args: Any) -> None:
        """The first 10 of a kind, then every 1000th: a flood must not drown the log."""
        n = self._log_budget[kind] = self._log_budget.get(kind, 0) + 1
        if n <= 10 or n % 1000 == 0:
            log.warning(msg, *args)

    # ------------------------------------------------------------------ for tests and tools

    async def wait_synced(self, timeout: float = 30.0,
                          predicate: Callable[[Connector], bool] | None = None) -> None:
        """Wait until every book is synced, its snapshot and BOOK_SYNCED status handed to the
        queue (or until `predicate(self)` holds)."""
        check = predicate or (lambda c: bool(c.states) and all(
            s.sync.synced and not s.announcing for s in c.states.values()))
        deadline = time.monotonic() + timeout
        while not check(self):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.venue}: not synced within {timeout}s: {self.stats}")
            await asyncio.sleep(0.01)


def _redact(url: str) -> str:
    """A URL for a log line or status event: without its query (listen keys, tokens)."""
    return url.split("?", 1)[0]


def _pacer(per_second: float | None) -> WeightLimiter | None:
    """A bucket that lets at most `per_second` through in any one-second window: two thirds of
    it at once (a connection's subscriptions go out together), the rest as the refill of one
    second (a full bucket plus a second of refill never exceeds the limit)."""
    if per_second is None:
        return None
    if per_second <= 2:  # too few for a burst: half at once, half refilled
        return WeightLimiter(per_second / 2, 1.0)
    burst = math.ceil(per_second * 2 / 3)
    return WeightLimiter(burst, burst / (per_second - burst))
