"""`SimExchange`: one venue's matching engine, its one account, fed by the simulator's market.

Every order call refreshes the symbol's external liquidity from the feed first (a market order
trades against the book the connector is being sent), runs the engine, and hands the events to
the private streams that listen (user data, Bybit private WS). A background loop matches
resting orders against the market as it moves (`sync_external`), so a resting limit order fills
when the synthetic market comes to it. Trading faults (rate limit, bad signature, insufficient
balance on demand) are taken from the simulator's fault controller by the protocol layers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from ttxt_kafka.connectors.base.normalizer import BaseNormalizer
from ttxt_kafka.events import InstrumentInfo
from ttxt_kafka.matching import (
    EngineEvent,
    FeeSchedule,
    LiveBook,
    MarketKind,
    MatchingEngine,
    OrderAccepted,
    OrderRejected,
    OrderRequest,
    OrderState,
    OrderUpdated,
    PositionChanged,
    instrument_from_info,
)
from ttxt_kafka.simulator.faults import Fault, FaultController, FaultKind
from ttxt_kafka.simulator.feeds import Feed
from ttxt_kafka.venues import Part, VenueSpec

from .liquidity import reader_for
from .params import Refusal
from .settings import TradingSettings

log = logging.getLogger(__name__)

Listener = Callable[[list[EngineEvent]], None]


def now_us() -> int:
    return time.time_ns() // 1000


def _normalizer(spec: VenueSpec) -> Any:
    """The connector's own instrument parser: the engine's filters are the ones it validates by."""
    return spec.part(Part.NORMALIZER)()


def final_state(events: list[EngineEvent], order_id: int | None = None) -> OrderState | None:
    """The last reported state of the order a call created or touched."""
    state = None
    for ev in events:
        if isinstance(ev, OrderAccepted | OrderUpdated) and (
                order_id is None or ev.order.order_id == order_id):
            state = ev.order
            order_id = state.order_id
    return state


def rejection(events: list[EngineEvent]) -> OrderRejected | None:
    return events[0] if events and isinstance(events[0], OrderRejected) else None


class Refusals:
    """An exchange's refusals, for its simulated endpoints: `table` maps a reason (a
    RejectReason value, or a simulator check such as DUPLICATE_CLIENT_ORDER_ID) to the
    exchange's (code, message); a reason not in it is refused with `fallback` and the engine's
    message."""

    def __init__(self, table: Mapping[str, tuple[str, str]], fallback: int) -> None:
        self.table = table
        self.fallback = fallback

    def refusal(self, reason: str, message: str = "") -> Refusal:
        code, msg = self.table.get(reason, (str(self.fallback), message))
        return Refusal(int(code), msg)

    def done(self, events: list[EngineEvent]) -> OrderState:
        """The order an engine call created or touched; its rejection refused."""
        rejected = rejection(events)
        if rejected is not None:
            raise self.refusal(rejected.reason.value, rejected.message)
        state = final_state(events)
        assert state is not None
        return state

    def check_new(self, exchange: SimExchange, symbol: str, client_order_id: str) -> None:
        """Before a new order reaches the engine: a client id in use, the INSUFFICIENT_BALANCE
        fault."""
        if exchange.order(symbol, client_order_id=client_order_id) is not None:
            raise self.refusal("DUPLICATE_CLIENT_ORDER_ID")
        if exchange.take_fault(FaultKind.INSUFFICIENT_BALANCE, symbol):
            raise self.refusal("INSUFFICIENT_BALANCE")


class SimExchange:
    def __init__(self, spec: VenueSpec, feed: Feed, settings: TradingSettings,
                 faults: FaultController) -> None:
        self.spec = spec
        self.venue = spec.name
        self.feed = feed
        self.settings = settings
        self.credentials = settings.credentials
        self.account = settings.account
        self.faults = faults
        self.spec = spec
        self.linear = spec.derivatives
        self.engine = MatchingEngine(
            MarketKind.LINEAR if self.linear else MarketKind.SPOT,
            fees=FeeSchedule(settings.maker_fee, settings.taker_fee),
            leverage=settings.leverage, clock=now_us)
        self.instruments: dict[str, InstrumentInfo] = {}  # by native symbol
        self.liquidity: dict[str, LiveBook] = {}
        self.listeners: list[Listener] = []
        self.requests: Counter[str] = Counter()  # per endpoint / trade op, for tests and state
        self._task: asyncio.Task[None] | None = None
        self._loaded = False

    # ------------------------------------------------------------------ lifecycle

    def load(self) -> None:
        """Instruments from the feed's own instrument list; starting balances deposited."""
        if self._loaded:
            return
        self._loaded = True
        normalizer: BaseNormalizer = _normalizer(self.spec)
        for info in normalizer.instruments(  # type: ignore[attr-defined]
                self.feed.instruments_body(None), now_us()):
            self.instruments[info.native_symbol] = info
            self.engine.add_instrument(instrument_from_info(info))
            liquidity = LiveBook(reader_for(self.feed, info.native_symbol))
            self.liquidity[info.native_symbol] = liquidity
            self.engine.set_external(info.native_symbol, liquidity)
        settle = {info.quote for info in self.instruments.values()}
        for asset, amount in self.settings.balances.items():
            if amount > 0 and (not self.linear or asset in settle):
                self.engine.deposit(self.account, asset, amount)

    async def start(self) -> None:
        self.load()
        self._task = asyncio.get_running_loop().create_task(self._sync_loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    # ------------------------------------------------------------------ faults

    def take_fault(self, kind: FaultKind, symbol: str | None = None) -> Fault | None:
        return self.faults.take_trading(kind, symbol)

    # ------------------------------------------------------------------ order calls

    def submit(self, request: OrderRequest) -> list[EngineEvent]:
        self._refresh(request.symbol)
        return self.notify(self.engine.submit(self.account, request))

    def cancel(self, symbol: str, *, order_id: int | None = None,
               client_order_id: str | None = None) -> list[EngineEvent]:
        return self.notify(self.engine.cancel(self.account, symbol, order_id=order_id,
                                                client_order_id=client_order_id))

    def amend(self, symbol: str, *, order_id: int | None = None,
              client_order_id: str | None = None, new_qty: Decimal | None = None,
              new_price: Decimal | None = None) -> list[EngineEvent]:
        self._refresh(symbol)
        return self.notify(self.engine.amend(
            self.account, symbol, order_id=order_id, client_order_id=client_order_id,
            new_qty=new_qty, new_price=new_price))

    def cancel_all(self, symbol: str | None = None) -> list[EngineEvent]:
        return self.notify(self.engine.cancel_all(self.account, symbol))

    # ------------------------------------------------------------------ queries

    def order(self, symbol: str, *, order_id: int | None = None,
              client_order_id: str | None = None) -> OrderState | None:
        return self.engine.order(self.account, symbol, order_id=order_id,
                                 client_order_id=client_order_id)

    def open_orders(self, symbol: str | None = None) -> list[OrderState]:
        return self.engine.open_orders(self.account, symbol)

    def balances(self) -> dict[str, tuple[Decimal, Decimal, Decimal]]:
        """asset -> (total, available, locked) of the account."""
        if self.linear:
            assets = sorted({a for (acct, a) in self.engine.wallets if acct == self.account})
        else:
            assets = self.engine.spot.assets(self.account)
        return {a: self.engine.balance(self.account, a) for a in assets}

    def positions(self) -> list[PositionChanged]:
        """The account's linear positions (flat ones too), as the engine reports them."""
        out = []
        for (account, symbol), position in sorted(self.engine.positions.items()):
            if account != self.account:
                continue
            mark = self.engine.mark_price.get(symbol, self.engine.last_price.get(symbol))
            out.append(PositionChanged(
                seq=0, ts=now_us(), account=account, symbol=symbol, size=position.size,
                entry_price=position.entry_price(self.engine.quantum),
                entry_value=position.entry_value, realized_pnl=position.realized,
                unrealized_pnl=position.unrealized(mark), mark_price=mark,
                leverage=self.engine.leverage_of(account, symbol)))
        return out

    def state(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "orders": len(self.engine._orders),  # every order ever placed (a count, for tests)
            "open_orders": len(self.open_orders()),
            "balances": {a: [str(v) for v in b] for a, b in self.balances().items()},
            "requests": dict(self.requests),
            "listeners": len(self.listeners),
        }

    # ------------------------------------------------------------------ plumbing

    def _refresh(self, symbol: str) -> None:
        liquidity = self.liquidity.get(symbol)
        if liquidity is not None:
            liquidity.refresh()

    def notify(self, events: list[EngineEvent]) -> list[EngineEvent]:
        """Hand engine events to every private stream; returns them."""
        for listener in list(self.listeners):
            try:
                listener(events)
            except Exception:  # one broken stream must not fail the order call
                log.exception("private stream listener failed")
        return events

    async def _sync_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.sync_interval)
            for symbol in sorted({o.symbol for o in self.open_orders()}):
                self._refresh(symbol)
                events = self.engine.sync_external(symbol)
                if events:
                    self.notify(events)
