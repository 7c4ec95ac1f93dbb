"""Synthetic market source: a deterministic, seeded market that every client shares.

One market loop steps every symbol `rate` times per second (None: as fast as the slowest client
reads, the benchmark mode), turns each step into the venue's messages for the streams someone
subscribed to, and publishes them to the sessions. REST snapshots are taken from the same book,
so they line up with the stream's sequence ids. The loop idles while nobody is subscribed, and
stops for good after `max_steps` steps per symbol (then the feed reports `finished`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ttxt_kafka.simulator.feeds import Feed, Source, UnknownStream, UnknownSymbol, wait_writable
from ttxt_kafka.simulator.keys import Key
from ttxt_kafka.simulator.market.candles import Candle, CandleSeries, Stats
from ttxt_kafka.simulator.market.flow import FlowStep, OrderFlow, Trade
from ttxt_kafka.simulator.market.instruments import Instrument, default_instrument
from ttxt_kafka.simulator.publication import Publication
from ttxt_kafka.simulator.session import HIGH_WATER, Session
from ttxt_kafka.venues import Part, VenueSpec

log = logging.getLogger(__name__)

_MAX_CATCH_UP = 1000  # steps per wake-up when a paced loop has fallen behind


@dataclass
class SymbolMarket:
    inst: Instrument
    flow: OrderFlow
    stats: Stats
    candles: dict[int, CandleSeries] = field(default_factory=dict)  # interval ms -> series

    @property
    def symbol(self) -> str:
        return self.inst.symbol

    def candle_series(self, interval_ms: int) -> CandleSeries:
        series = self.candles.get(interval_ms)
        if series is None:
            series = self.candles[interval_ms] = CandleSeries(interval_ms, self.stats.last)
        return series


class CandleChannels:
    """The candle streams subscribed, per symbol, of a formatter whose keys are
    `<channel>:<symbol>` (keys.py: Bitget, OKX) and whose candle channels each name one
    interval (`interval_ms`; a `candle*` channel not in it is not simulated)."""

    def __init__(self, markets: dict[str, SymbolMarket], interval_ms: Mapping[str, int]) -> None:
        self.markets = markets
        self.interval_ms = interval_ms
        self._keys: dict[str, dict[str, str]] = {}  # symbol -> {key: channel}

    def check(self, key: Key) -> None:
        """Refuse (UnknownStream) a key of another symbol or of a candle not simulated."""
        if key.symbol not in self.markets:
            raise UnknownStream(key.name)
        if key.channel.startswith("candle") and key.channel not in self.interval_ms:
            raise UnknownStream(key.name)

    def activate(self, key: Key) -> None:
        ms = self.interval_ms.get(key.channel)
        if ms is not None:
            self.markets[key.symbol].candle_series(ms)
            self._keys.setdefault(key.symbol, {})[key.name] = key.channel

    def current(self, key: Key) -> Candle | None:
        """The candle a new subscriber of `key` gets at once (None: not a candle, none yet)."""
        ms = self.interval_ms.get(key.channel)
        return None if ms is None else self.markets[key.symbol].candles[ms].current

    def updated(self, m: SymbolMarket, ts: int, trade: Trade, active: Counter[str]
                ) -> list[tuple[str, Candle]]:
        """A trade folded into the symbol's candles: (channel, candle) of the subscribed ones."""
        out = []
        for key, channel in self._keys.get(m.symbol, {}).items():
            for candle in m.candles[self.interval_ms[channel]].update(ts, trade):
                if key in active:
                    out.append((channel, candle))
        return out


class MarketFormatter(ABC):
    """One exchange's view of the synthetic market: its ids, message shapes and REST bodies."""

    # USD-M: a REST snapshot must fall inside a published update's [U, u]; stepping the symbol
    # just before taking it guarantees the client gets that update after subscribing
    step_before_snapshot = False

    def __init__(self, spec: VenueSpec, markets: dict[str, SymbolMarket], seed: int) -> None:
        self.spec = spec
        self.markets = markets
        self.seed = seed
        self._rename_markets()

    def native_name(self, inst: Instrument) -> str:
        """The symbol as this exchange writes it (Kraken `BTC/USDT`, Gate.io `BTC_USDT`): a
        market given as `BTCUSDT` or any other spelling is named so."""
        return inst.symbol

    def _rename_markets(self) -> None:
        """Key (and name) each market by its native name, in place: the feed shares the dict."""
        markets = self.markets
        for old in list(markets):
            m = markets.pop(old)
            name = self.native_name(m.inst)
            if m.inst.symbol != name:
                m.inst = dataclasses.replace(m.inst, symbol=name)
            markets[name] = m

    @abstractmethod
    def resolve(self, name: str) -> str:
        """Publication key for a stream/topic name; raises UnknownStream."""

    def activate(self, key: str) -> None:  # noqa: B027 - optional hook
        """The first subscriber of `key` arrived (start tracking what it needs)."""

    def on_subscribe(self, key: str) -> list[Publication]:
        """Messages a new subscriber gets at once (Bybit snapshots)."""
        return []

    @abstractmethod
    def on_step(self, m: SymbolMarket, step: FlowStep, active: Counter[str]) -> list[Publication]:
        """Messages for one market step, only for keys in `active`, in wire order."""

    @abstractmethod
    def depth_body(self, m: SymbolMarket, limit: int, stale_behind: int | None) -> str: ...

    @abstractmethod
    def instruments_body(self, symbols: list[str]) -> str: ...


class SyntheticSource(Source):
    """A seeded synthetic market.

    `symbols`: native symbols (default instrument specs) or `Instrument`s. `rate`: steps per
    second per symbol, None = as fast as possible. `max_steps`: stop after that many steps per
    symbol. `levels`: initial book depth per side.
    """

    def __init__(
        self,
        seed: int = 0,
        symbols: Sequence[str | Instrument] = ("BTCUSDT", "ETHUSDT"),
        rate: float | None = 20.0,
        max_steps: int | None = None,
        levels: int = 50,
    ) -> None:
        if rate is not None and rate <= 0:
            raise ValueError("rate must be positive (None = as fast as possible)")
        self.seed = seed
        self.instruments = [
            s if isinstance(s, Instrument) else default_instrument(s) for s in symbols
        ]
        if not self.instruments:
            raise ValueError("SyntheticSource needs at least one symbol")
        self.rate = rate
        self.max_steps = max_steps
        self.levels = levels

    def bind(self, spec: VenueSpec) -> Feed:
        return SyntheticFeed(spec, self)


def _formatter(spec: VenueSpec, markets: dict[str, SymbolMarket], seed: int) -> MarketFormatter:
    formatter: MarketFormatter = spec.part(Part.SIM_SYNTHETIC)(spec, markets, seed)
    return formatter


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class SyntheticFeed(Feed):
    kind = "synthetic"

    def __init__(self, spec: VenueSpec, source: SyntheticSource) -> None:
        super().__init__(spec)
        self.source = source
        self.markets = {
            inst.symbol: SymbolMarket(
                inst,
                OrderFlow(inst, source.seed, levels=source.levels),
                Stats.starting_at(inst.start_ticks),
            )
            for inst in source.instruments
        }
        self.fmt = _formatter(spec, self.markets, source.seed)
        self.active: Counter[str] = Counter()
        self.steps = 0  # market ticks done (each steps every symbol once)
        self._activity = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def finished(self) -> bool:
        return self.source.max_steps is not None and self.steps >= self.source.max_steps

    def symbols(self) -> set[str]:
        return set(self.markets)

    def resolve(self, name: str) -> str:
        return self.fmt.resolve(name)

    async def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    # -- subscriptions -------------------------------------------------------------------

    def subscribed(self, session: Session, names: list[str]) -> None:
        for name in names:
            key = session.subs[name]
            if self.active[key] == 0:
                self.fmt.activate(key)
            self.active[key] += 1
            for pub in self.fmt.on_subscribe(key):
                session.publish(pub)
        self._activity.set()

    def unsubscribed(self, session: Session, keys: list[str]) -> None:
        for key in keys:
            self._release(key)

    def detach(self, session: Session) -> None:
        super().detach(session)
        for key in session.subs.values():
            self._release(key)

    def _release(self, key: str) -> None:
        self.active[key] -= 1
        if self.active[key] <= 0:
            del self.active[key]

    # -- the market loop -----------------------------------------------------------------

    async def _run(self) -> None:
        try:
            await self._loop()
        except Exception:  # a market bug must be loud, not a silently frozen feed
            log.exception("synthetic market loop failed")
            raise

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        rate = self.source.rate
        while not self.finished:
            if not self.active:
                self._activity.clear()
                await self._activity.wait()
            t0, done = loop.time(), 0
            while self.active and not self.finished:
                if rate is None:
                    self._tick()
                    if any(s.queued >= HIGH_WATER for s in self.sessions):
                        await wait_writable(self.sessions)
                    elif self.steps % 32 == 0:
                        await asyncio.sleep(0)
                    continue
                due = int((loop.time() - t0) * rate) - done
                if due <= 0:
                    await asyncio.sleep(max(0.0005, (done + 1) / rate - (loop.time() - t0)))
                    continue
                for _ in range(min(due, _MAX_CATCH_UP)):
                    self._tick()
                    if self.finished:
                        break
                done += due
                await wait_writable(self.sessions)
        log.info("synthetic market finished after %d steps per symbol", self.steps)

    def _tick(self) -> None:
        self.steps += 1
        for m in self.markets.values():
            self.step_symbol(m)

    def step_symbol(self, m: SymbolMarket) -> None:
        step = m.flow.step(now_ms())
        if step.trade is not None:
            m.stats.on_trade(step.trade)
        pubs = self.fmt.on_step(m, step, self.active)
        for pub in pubs:
            for session in self.sessions:
                session.publish(pub)

    # -- REST ----------------------------------------------------------------------------

    def depth_body(self, symbol: str, limit: int, stale_behind: int | None) -> str:
        m = self.markets.get(symbol)
        if m is None:
            raise UnknownSymbol(symbol)
        if self.fmt.step_before_snapshot and stale_behind is None:
            self.step_symbol(m)
        return self.fmt.depth_body(m, limit, stale_behind)

    def instruments_body(self, symbols: list[str] | None) -> str:
        if symbols is not None and not set(symbols) <= set(self.markets):
            raise UnknownSymbol(next(s for s in symbols if s not in self.markets))
        return self.fmt.instruments_body(symbols if symbols is not None else list(self.markets))

    def state(self) -> dict[str, Any]:
        return {
            **super().state(),
            "steps": self.steps,
            "rate": self.source.rate,
            "max_steps": self.source.max_steps,
            "symbols": list(self.markets),
            "active_streams": sorted(self.active),
        }
