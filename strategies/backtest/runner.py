"""The backtest loop: recorded market -> matching engine and strategy, on the exchange clock.

Time is the input's exchange time, never the wall clock. Two kinds of things happen:

* **input events**, in the order given (the replayer merges files by exchange time; an
  exchange timestamp that steps back is taken as "now": time never goes backwards);
* **scheduled items**, in (time, order scheduled): a command reaching its venue's matching
  engine `latency_us` after the strategy sent it, and the engine's reports (ack, order updates,
  fills, wallet, positions) reaching the strategy `report_latency_us` after the engine made them.

Before an input event at time T, every item due at or before T happens. Then the event moves the
venue's market (fills of resting orders it crosses or trades through), those reports due at T
reach the strategy — a private stream is no slower than the public one — and then the strategy
sees the event itself; what it sends is scheduled. With latency 0 a command is matched at T,
after the event that caused it and before any later one.

Everything is deterministic: no wall-clock time, no randomness, fixed order ids (`run_id`),
ties broken by the order things were scheduled. The same input gives the same fills.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any

from ttxt_kafka.events import (
    BBO,
    AckStatus,
    ConnectorStatus,
    Event,
    Fill,
    InstrumentInfo,
    Kline,
    OrderAck,
    OrderBook,
    Trades,
)
from ttxt_kafka.metrics import Registry
from ttxt_kafka.orders.acks import rejected_ack
from ttxt_kafka.strategies.runtime import StrategyRuntime
from ttxt_kafka.strategies.strategy import Strategy

from .config import BacktestConfig
from .instruments import Instruments
from .tracker import Tracker
from .venue import COMMANDS, Command, SimVenue

MARKET = (OrderBook, Trades, Kline, BBO, ConnectorStatus, InstrumentInfo)
# Items at one instant before time must have moved on: a strategy answering every report with
# a new command at zero latency would otherwise loop forever.
MAX_ITEMS_AT_ONE_INSTANT = 200_000
_COMMAND, _REPORTS = 0, 1
FOREVER = 2**63


class BacktestError(RuntimeError):
    """A backtest that cannot run or cannot go on; the text says why."""


@dataclass
class BacktestStats:
    events: int = 0  # input events read
    market_events: int = 0  # fed to the engines and the strategy
    skipped: int = 0  # input that is not market data (a live run's executions, ...)
    commands: Counter[str] = field(default_factory=Counter)  # by command type
    accepted: int = 0
    rejected: int = 0
    reject_reasons: Counter[str] = field(default_factory=Counter)  # by code
    reject_examples: dict[str, str] = field(default_factory=dict)  # code -> first message
    fills: int = 0
    reports: int = 0  # engine reports delivered to the strategy
    derived: int = 0  # events the strategy emitted on derived topics (not fed back)
    first_ts: int | None = None
    last_ts: int | None = None


class _EngineSink:
    """The strategy's OrderSink: commands are scheduled for their venue's engine."""

    def __init__(self, backtest: Backtest) -> None:
        self.backtest = backtest

    async def send(self, event: Event, topic: str) -> None:
        self.backtest.on_output(event)

    async def flush(self) -> None:
        """Nothing in flight: scheduled commands are part of the backtest's own time."""


class Backtest:
    def __init__(self, strategy: Strategy, config: BacktestConfig | None = None, *,
                 group: str | None = None) -> None:
        self.config = config or BacktestConfig()
        self.strategy = strategy
        # Its own metrics registry: a backtest in a process must not count as live trading.
        self.runtime = StrategyRuntime(strategy, _EngineSink(self), group=group,
                                       run_id=self.config.run_id, registry=Registry())
        self.instruments = Instruments(self.config.instruments)
        self.venues: dict[str, SimVenue] = {}
        self.tracker = Tracker(self.config.sample_us)
        self.stats = BacktestStats()
        self.now = 0
        self._heap: list[tuple[int, int, int, Any]] = []
        self._seq = 0
        self._stopped = False

    # ------------------------------------------------------------------ the loop

    async def run(self, events: Iterable[Event] | AsyncIterable[Event]) -> None:
        """Run the strategy over the events (start, every event, stop, the last commands)."""
        started = False
        async for event in _aiter(events):
            self.stats.events += 1
            if not isinstance(event, MARKET):
                self.stats.skipped += 1
                continue
            ts = max(event.exchange_ts, self.now)
            if not started:
                self.now = ts
                self.stats.first_ts = ts
                await self.runtime.start()  # what on_start sends leaves at the first event
                started = True
            self._venue(event.venue, ts + self.config.report_latency_us)
            await self._advance(ts)
            await self._market(event, ts)
        if not started:
            raise BacktestError(f"no market data in the input ({self.stats.events} events "
                                "read): check the directory or topics, --venue, --symbol and "
                                "the time range")
        await self._drain(FOREVER)  # the answers to the last commands
        await self.runtime.stop()  # on_stop: cancel quotes, ...
        self._stopped = True  # from here the strategy's state follows, its handlers do not run
        await self._drain(FOREVER)
        self.stats.last_ts = self.now
        self.tracker.sample_all(self.now)

    async def _advance(self, ts: int) -> None:
        """Everything due up to `ts`, with a PnL sample at a sampling boundary on the way."""
        boundary = self.tracker.due(ts)
        if boundary is not None:
            await self._drain(boundary - 1)
            self.now = max(self.now, boundary)
            self.tracker.sample_all(boundary)
        await self._drain(ts)
        self.now = ts

    async def _market(self, event: Event, ts: int) -> None:
        self.stats.market_events += 1
        at = ts + self.config.report_latency_us
        venue = self._venue(event.venue, at)
        reports = venue.on_market(event, ts, at)
        if isinstance(event, OrderBook | Trades):
            self.tracker.on_mid(event.venue, event.symbol, ts, venue.mid(event.symbol))
        self._schedule_reports(reports, at)
        await self._drain(ts)  # our fills this event caused, before the event itself
        await self.runtime.process(event)

    def _venue(self, name: str, at: int) -> SimVenue:
        venue = self.venues.get(name)
        if venue is None:
            venue = self.venues[name] = SimVenue(name, self.config, self.instruments)
            opening = venue.opening_wallet(at)
            if opening is not None:
                self._schedule_reports([opening], at)
        return venue

    # ------------------------------------------------------------------ scheduled items

    def on_output(self, event: Event) -> None:
        """From the strategy: a command goes to its engine after the latency."""
        if isinstance(event, COMMANDS):
            self.stats.commands[event.SCHEMA] += 1
            self._push(self.now + self.config.latency_us, _COMMAND, event)
        else:
            self.stats.derived += 1

    def _push(self, at: int, kind: int, payload: Any) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (at, self._seq, kind, payload))

    def _schedule_reports(self, reports: list[Event], at: int) -> None:
        if not reports:
            return
        for report in reports:
            if isinstance(report, Fill):
                self.stats.fills += 1
                self.tracker.on_fill(report)  # booked at the engine's time, not the delivery
        self._push(at, _REPORTS, reports)

    async def _drain(self, until: int) -> None:
        at_instant = 0
        while self._heap and self._heap[0][0] <= until:
            at, _, kind, payload = heapq.heappop(self._heap)
            if at > self.now:
                self.now, at_instant = at, 0
            at_instant += 1
            if at_instant > MAX_ITEMS_AT_ONE_INSTANT:
                raise BacktestError(
                    f"more than {MAX_ITEMS_AT_ONE_INSTANT:,} commands and reports at one "
                    "instant: the strategy seems to answer its own reports with new commands "
                    "forever; give it a latency (--latency-ms) or check its handlers")
            if kind == _COMMAND:
                self._execute(payload)
            else:
                for report in payload:
                    self.stats.reports += 1
                    await self.runtime.process(report, dispatch=not self._stopped)

    def _execute(self, cmd: Command) -> None:
        at = self.now + self.config.report_latency_us
        venue = self.venues.get(cmd.venue)
        if venue is None:
            out: list[Event] = [rejected_ack(
                cmd, f"no market data for venue {cmd.venue!r} in this backtest",
                now_us=at, exchange_ts=self.now)]
        else:
            out = venue.execute(cmd, self.now, at)
        for ev in out:
            if isinstance(ev, OrderAck):
                if ev.status is AckStatus.ACCEPTED:
                    self.stats.accepted += 1
                else:
                    self.stats.rejected += 1
                    # the engine's reason code, or the connector's validation refusing it
                    code = ev.error_code or "INVALID_COMMAND"
                    self.stats.reject_reasons[code] += 1
                    self.stats.reject_examples.setdefault(code, ev.reason)
        self._schedule_reports(out, at)


async def _aiter(events: Iterable[Event] | AsyncIterable[Event]) -> AsyncIterator[Event]:
    if isinstance(events, AsyncIterable):
        async for event in events:
            yield event
    else:
        for event in events:
            yield event
