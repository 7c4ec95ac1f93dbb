"""The strategy runtime: events in, state kept, handlers called, commands out. No Kafka here.

    runtime = StrategyRuntime(MyStrategy(), sink)
    await runtime.start()                     # on_start
    await runtime.process(event, origin)      # for every event, from any source
    await runtime.stop()                      # on_stop, commands flushed

What `process` does with an event, in this order:
1. advances the event clock (exchange time, overall and per partition: `ctx.now_us`,
   `ctx.clock(symbol)`, timers);
2. drops it if it is not for the strategy's venues/symbols (several symbols share a partition);
3. updates the state the strategy reads: books (OrderBook), readiness (a BOOK_RESYNC status),
   open orders (its own acks and order updates), balances and positions (account events);
4. calls the handler, unless the strategy must not act on it: a book not ready yet (no snapshot
   since the instance got the symbol) holds back that symbol's market data when the strategy
   reads books; another strategy's executions are not its business;
5. sends the commands the handler queued through the sink, in order.

Sources drive it: `queue_runner` (any IQueue, an async iterator: backtests, tests) and
`kafka_runner` (a consumer group, with partition ownership and book rebuilds). Sinks take its
output (see `sinks`). `dispatch=False` updates the state only: used to rebuild books and to
catch up on the account topic without replaying decisions already taken.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from dataclasses import dataclass
from typing import Any

from ttxt_kafka.book import BookError
from ttxt_kafka.events import (
    BBO,
    ConnectorState,
    ConnectorStatus,
    Event,
    Fill,
    Kline,
    OrderAck,
    OrderBook,
    OrderUpdate,
    PositionUpdate,
    Trades,
    Wallet,
    now_us,
)
from ttxt_kafka.handler import Dispatcher
from ttxt_kafka.metrics import Registry
from ttxt_kafka.topics import DEFAULT_PREFIX, topic_for

from .account import AccountState
from .books import BookKeeper, Origin
from .clock import EventClock
from .context import Context
from .ids import OrderIds
from .metrics import StrategyMetrics
from .orders import OrderTracker
from .sinks import OrderSink
from .strategy import Strategy
from .subscription import Subscription

log = logging.getLogger(__name__)


@dataclass
class RuntimeStats:
    events: int = 0
    dispatched: int = 0
    filtered: int = 0  # not for this strategy's venues/symbols
    held_back: int = 0  # book not ready, or another strategy's execution
    handler_errors: int = 0
    bad_books: int = 0
    sent: int = 0
    muted: int = 0  # sent by handlers during a warm-up replay, dropped
    unsent: int = 0  # queued by handlers, not handed on: the runtime was stopped at once


def _described(event: Event) -> str:
    """"CreateOrder BTC/USDT id=…" for a log line (commands carry no secrets)."""
    cid = getattr(event, "client_order_id", None)
    return f"{event.SCHEMA} {event.symbol}" + (f" id={cid}" if cid else "")


def default_group(strategy: Strategy) -> str:
    cls = type(strategy)
    return f"strategy.{cls.__module__}.{cls.__qualname__}"


class StrategyRuntime:
    def __init__(
        self,
        strategy: Strategy,
        sink: OrderSink,
        *,
        group: str | None = None,
        prefix: str = DEFAULT_PREFIX,
        run_id: str | None = None,
        registry: Registry | None = None,
    ) -> None:
        self.strategy = strategy
        self.sink = sink
        self.group = group or default_group(strategy)
        self.subscription = Subscription.of(strategy.venues, strategy.symbols,
                                            strategy.channels, prefix)
        self.ids = OrderIds(self.group, run_id)
        self.books = BookKeeper(strategy.book_depth)
        self.orders = OrderTracker(self.ids)
        self.account = AccountState()
        self.metrics = StrategyMetrics(self.group, registry)
        self.stats = RuntimeStats()
        self.clock = EventClock()
        self.measure_latency = False  # live sources turn it on (replayed receive_ts are old)
        self.trigger_ts: int | None = None  # exchange time of the event being handled
        self._outbox: list[tuple[Event, str]] = []
        self._muted = False
        self.ctx = Context(self, lambda event, topic: self._outbox.append((event, topic)))
        self._dispatcher = Dispatcher(strategy)
        self._timer_us = int(strategy.timer_interval * 1e6) if strategy.timer_interval else 0
        self._next_timer: dict[Origin | None, int] = {}  # per origin: its clock ticks alone
        self._started = False

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        self.strategy.ctx = self.ctx
        self._started = True
        await self._hook("on_start")

    async def stop(self) -> None:
        """on_stop (its commands go out too), then wait until the sink delivered everything."""
        if self._started:
            self._started = False
            await self._hook("on_stop")
        await self.sink.flush()

    async def flush(self) -> None:
        await self.sink.flush()

    # ------------------------------------------------------------------ events

    async def process(self, event: Event, origin: Origin | None = None, *,
                      dispatch: bool = True, muted: bool = False) -> bool:
        """Handle one event (see the module doc); True if a handler was called.

        muted: a warm-up replay — handlers run (to rebuild the strategy's own state) but what
        they send is dropped: the previous owner of the partition sent it already."""
        self.stats.events += 1
        if dispatch and not muted:  # live events only: rebuilds and warm-ups re-read old ones
            self.metrics.event_in(origin[0] if origin
                                  else topic_for(event, self.subscription.prefix))
        self._muted = muted
        origin_time = self.clock.advance(event, origin)
        called = False
        if not self.subscription.wants(event):
            self.stats.filtered += 1
        elif not self._update_state(event, origin):
            self.stats.held_back += 1
        elif dispatch:
            await self._dispatch(event)
            called = True
        if dispatch and self._timer_us:
            await self._maybe_timer(origin, origin_time)
        self._muted = False
        return called

    async def drop_origin(self, origin: Origin, *, notify: bool = True) -> list[tuple[str, str]]:
        """The group took a partition away: forget its books and clock, and tell the strategy
        which symbols it lost (`on_symbols_lost`: cancel their quotes, drop partial state)."""
        lost = set(self.books.drop_origin(origin)) | set(self.clock.forget(origin))
        self._next_timer.pop(origin, None)
        self.metrics.books_ready.labels(self.group).set(self.books.ready_count())
        symbols = sorted(lost)
        if notify and symbols and self._started:
            await self._hook("on_symbols_lost", symbols)
        return symbols

    def _update_state(self, event: Event, origin: Origin | None) -> bool:
        """Keep books, orders and account; True if the strategy should see the event."""
        if isinstance(event, OrderBook):
            was_ready = event.is_snapshot or self.books.is_ready(event.venue, event.symbol)
            try:
                ready = self.books.apply(event, origin)
            except BookError as exc:
                self.stats.bad_books += 1
                log.warning("%s: %s; book not ready until the next snapshot", self.group, exc)
                self.books.reset(event.venue, event.symbol)
                ready = False
            if ready != was_ready or event.is_snapshot:  # count only when readiness may change
                self.metrics.books_ready_child.set(self.books.ready_count())
            return ready
        if isinstance(event, Trades | Kline | BBO):
            return not self.subscription.has_books or self.books.is_ready(event.venue,
                                                                          event.symbol)
        if isinstance(event, OrderAck | OrderUpdate | Fill):
            return self.orders.apply(event)
        if isinstance(event, Wallet | PositionUpdate):
            self.account.apply(event)
        elif (isinstance(event, ConnectorStatus) and event.symbol
              and event.status is ConnectorState.BOOK_RESYNC):
            self.books.reset(event.venue, event.symbol)
            self.metrics.books_ready_child.set(self.books.ready_count())
        return True

    async def _dispatch(self, event: Event) -> None:
        self.stats.dispatched += 1
        if self.measure_latency and event.receive_ts and not self._muted:
            self.metrics.event_latency_child.observe(
                (now_us() - event.receive_ts) / 1000.0)
        method = self._dispatcher.method_for(event)
        self.trigger_ts = event.exchange_ts
        try:
            await self._call(method, event)
        finally:
            self.trigger_ts = None

    @property
    def clock_us(self) -> int:
        return self.clock.now_us

    async def _maybe_timer(self, origin: Origin | None, now: int) -> None:
        """on_timer when the event's partition clock crosses a multiple of timer_interval."""
        due = self._next_timer.get(origin)
        if due is not None and now < due:
            return
        self._next_timer[origin] = (now // self._timer_us + 1) * self._timer_us
        if due is not None:  # a partition's first event only starts its clock
            await self._hook("on_timer", now)

    async def _hook(self, name: str, *args: Any) -> None:
        await self._call(getattr(self.strategy, name), *args)

    async def _call(self, method: Any, *args: Any) -> None:
        """Run a handler; count and log what it raises; send what it queued."""
        t0 = time.perf_counter()
        try:
            result = method(*args)
            if inspect.isawaitable(result):
                await result
        except Exception:
            self.stats.handler_errors += 1
            name = getattr(method, "__name__", "handler")
            self.metrics.handler_errors.labels(self.group, name).inc()
            if self.stats.handler_errors <= 10 or self.stats.handler_errors % 1000 == 0:
                log.exception("%s: %s raised (%d handler errors so far)", self.group, name,
                              self.stats.handler_errors)
        finally:
            self.metrics.handler_ms_child.observe(
                (time.perf_counter() - t0) * 1000.0)
            await self._send_outbox()

    async def _send_outbox(self) -> None:
        if self._muted:
            self.stats.muted += len(self._outbox)
            self._outbox.clear()
            return
        while self._outbox:
            batch, self._outbox = self._outbox, []
            for i, (event, topic) in enumerate(batch):
                try:
                    await self.sink.send(event, topic)
                except asyncio.CancelledError:
                    # Stopped at once (a second Ctrl-C): what the strategy queued after this
                    # one was never handed on. It stays in the outbox (nothing re-sends it:
                    # that could place an order the user chose to stop) and is said by name.
                    self._outbox[:0] = batch[i + 1:]
                    self._report_unsent(event)
                    raise
                self.stats.sent += 1
                self.metrics.commands.labels(self.group, event.SCHEMA).inc()

    def _report_unsent(self, cut: Event) -> None:
        self.stats.unsent = len(self._outbox)
        names = ", ".join(_described(e) for e, _ in self._outbox[:10])
        more = f" and {len(self._outbox) - 10} more" if len(self._outbox) > 10 else ""
        log.warning("%s: stopped while sending %s (it may or may not have been handed on); "
                    "%d queued after it not sent%s", self.group, _described(cut),
                    len(self._outbox), f": {names}{more}" if self._outbox else "")
