"""Paper trading: orders filled locally from the connector's own books, no exchange call.

The simulator's matching engine (`ttxt_kafka.matching`) runs in the connector: each
symbol's
external liquidity is a `LiveBook` over the connector's `Book` (what an order took stays taken
until the market changes that level), balances start from `trading.paper.balances`, fees from
`paper.maker_fee` / `taker_fee`. What the engine reports goes out as the same events a live
venue's private stream gives — `OrderUpdate` and `Fill` on `.executions`, `Wallet` and
`PositionUpdate` on `.account` — and resting orders fill when the market comes to them (checked
every `SYNC_INTERVAL`). Take-profit / stop-loss are not simulated (refused).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from decimal import Decimal

from ttxt_kafka import venues
from ttxt_kafka.book import Book
from ttxt_kafka.events import (
    Event,
    OrderUpdate,
    Wallet,
    now_us,
)
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
    Reason,
    instrument_from_info,
)
from ttxt_kafka.matching.events_map import (
    balance,
    order_update,
    platform_events,
    position_update,
)
from ttxt_kafka.matching.live import Levels
from ttxt_kafka.orders.errors import ErrorKind, ExchangeFailure
from ttxt_kafka.orders.state import KnownOrder
from ttxt_kafka.orders.validation import ValidAmend, ValidCancel, ValidCancelAll, ValidCreate

from ..base.symbols import SymbolMap
from ..config import PaperSettings
from .gateway import Gateway, Placed, Result

ACCOUNT = "paper"
DEPTH = 100  # book levels per side offered as liquidity
SYNC_INTERVAL = 0.1  # seconds between matching resting orders against the moving books

_KINDS = {
    Reason.INSUFFICIENT_BALANCE: ErrorKind.INSUFFICIENT_BALANCE,
    Reason.UNKNOWN_ORDER: ErrorKind.UNKNOWN_ORDER,
    Reason.DUPLICATE_CLIENT_ORDER_ID: ErrorKind.DUPLICATE_ORDER,
    Reason.POST_ONLY_WOULD_TAKE: ErrorKind.POST_ONLY_REJECTED,
    Reason.REDUCE_ONLY_REJECTED: ErrorKind.REDUCE_ONLY_REJECTED,
}


def book_reader(book: Book, contract_size: str | None = None
                ) -> Callable[[], tuple[Levels, Levels]]:
    """The book as liquidity in base quantities: a book sized in contracts (the instrument's
    `contract_size`, OKX swaps) is scaled by it; orders are given in base quantities."""
    unit = Decimal(contract_size) if contract_size else Decimal(1)

    def read() -> tuple[Levels, Levels]:
        return ({Decimal(p): Decimal(q) * unit for p, q in book.bids(DEPTH)},
                {Decimal(p): Decimal(q) * unit for p, q in book.asks(DEPTH)})

    return read


class PaperGateway(Gateway):
    def __init__(self, *, venue: str, exchange: str, symbols: SymbolMap, books: dict[str, Book],
                 settings: PaperSettings, publish: Callable[[Event], Awaitable[None]]) -> None:
        self.venue = venue
        self.exchange = exchange
        self.symbols = symbols
        self.books = books
        self.publish = publish
        self.linear = venues.venue(venue).derivatives
        self.engine = MatchingEngine(
            MarketKind.LINEAR if self.linear else MarketKind.SPOT,
            fees=FeeSchedule(Decimal(settings.maker_fee), Decimal(settings.taker_fee)),
            leverage=Decimal(settings.leverage), clock=now_us)
        self.liquidity: dict[str, LiveBook] = {}  # by native symbol
        self.natives: dict[str, str] = {}  # native -> normalized
        self._balances = {asset: Decimal(amount) for asset, amount in settings.balances.items()}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        for symbol, book in self.books.items():
            info = self.symbols.instruments[symbol]
            self.engine.add_instrument(instrument_from_info(info))
            live = LiveBook(book_reader(book, info.contract_size))
            self.liquidity[info.native_symbol] = live
            self.natives[info.native_symbol] = symbol
            self.engine.set_external(info.native_symbol, live)
        settle = {self.symbols.instruments[s].quote for s in self.books}
        for asset, amount in sorted(self._balances.items()):
            if amount > 0 and (not self.linear or asset in settle):  # linear: margin only
                self.engine.deposit(ACCOUNT, asset, amount)
        self._task = asyncio.ensure_future(self._sync_loop())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    # ------------------------------------------------------------------ orders

    def _no_book(self, native: str) -> ExchangeFailure | None:
        if native in self.liquidity:
            return None
        return ExchangeFailure("NO_BOOK", f"paper trading needs the book of {native}: list the "
                               "symbol in the connector with streams.book on",
                               ErrorKind.INVALID_REQUEST)

    async def create(self, order: ValidCreate) -> Result:
        if order.take_profit is not None or order.stop_loss is not None:
            return _refused("take-profit / stop-loss are not simulated in paper mode")
        no_book = self._no_book(order.native_symbol)
        if no_book is not None:
            return no_book
        self.liquidity[order.native_symbol].refresh()
        events = self.engine.submit(ACCOUNT, OrderRequest(
            symbol=order.native_symbol, side=order.side, order_type=order.order_type,
            qty=order.qty, price=order.price, time_in_force=order.time_in_force,
            post_only=order.post_only, reduce_only=order.reduce_only,
            client_order_id=order.client_order_id))
        return await self._answer(events)

    async def cancel(self, cancel: ValidCancel) -> Result:
        events = self.engine.cancel(ACCOUNT, cancel.native_symbol, order_id=_int(cancel.order_id),
                                    client_order_id=cancel.client_order_id)
        return await self._answer(events)

    async def amend(self, amend: ValidAmend, current: KnownOrder | None) -> Result:
        if amend.new_take_profit is not None or amend.new_stop_loss is not None:
            return _refused("take-profit / stop-loss are not simulated in paper mode")
        live = self.liquidity.get(amend.native_symbol)
        if live is not None:
            live.refresh()
        events = self.engine.amend(ACCOUNT, amend.native_symbol, order_id=_int(amend.order_id),
                                   client_order_id=amend.client_order_id,
                                   new_qty=amend.new_qty, new_price=amend.new_price)
        return await self._answer(events)

    async def cancel_all(self, cancel: ValidCancelAll, open_symbols: list[str]) -> Result:
        events = self.engine.cancel_all(ACCOUNT, cancel.native_symbol or None)
        await self._emit(events)
        return Placed()

    async def _answer(self, events: list[EngineEvent]) -> Result:
        if events and isinstance(events[0], OrderRejected):
            rejected = events[0]
            return ExchangeFailure(rejected.reason.value, rejected.message,
                                   _KINDS.get(rejected.reason, ErrorKind.INVALID_REQUEST))
        await self._emit(events)
        state = next((e.order for e in reversed(events)
                      if isinstance(e, OrderAccepted | OrderUpdated)), None)
        if state is None:
            return Placed()
        return Placed(str(state.order_id), state.client_order_id, state.updated_ts)

    # ------------------------------------------------------------------ queries

    async def query(self, native_symbol: str, *, client_order_id: str | None = None,
                    order_id: str | None = None) -> OrderUpdate | None | ExchangeFailure:
        if native_symbol not in self.engine.instruments:
            return None
        state = self.engine.order(ACCOUNT, native_symbol, order_id=_int(order_id),
                                  client_order_id=client_order_id)
        return None if state is None else self._update(state, now_us())

    async def open_orders(self) -> list[OrderUpdate] | ExchangeFailure:
        now = now_us()
        return [self._update(o, now) for o in self.engine.open_orders(ACCOUNT)]

    async def account(self) -> list[Event] | ExchangeFailure:
        now = now_us()
        if self.linear:
            assets = sorted({a for (acct, a) in self.engine.wallets if acct == ACCOUNT})
        else:
            assets = self.engine.spot.assets(ACCOUNT)
        balances = [balance(a, *self.engine.balance(ACCOUNT, a)) for a in assets]
        out: list[Event] = [Wallet(venue=self.venue, symbol="", exchange_ts=now, receive_ts=now,
                                   account_type="PAPER", balances=balances, is_snapshot=True)]
        for (acct, native), position in sorted(self.engine.positions.items()):
            if acct == ACCOUNT:
                mark = self.engine.mark_price.get(native, self.engine.last_price.get(native))
                out.append(position_update(PositionChanged(
                    seq=0, ts=now, account=acct, symbol=native, size=position.size,
                    entry_price=position.entry_price(self.engine.quantum),
                    entry_value=position.entry_value, realized_pnl=position.realized,
                    unrealized_pnl=position.unrealized(mark), mark_price=mark,
                    leverage=self.engine.leverage_of(acct, native)),
                    venue=self.venue, receive_ts=now, names=self._names))
        return out

    # ------------------------------------------------------------------ engine -> events

    async def _sync_loop(self) -> None:
        while True:
            await asyncio.sleep(SYNC_INTERVAL)
            for native in sorted({o.symbol for o in self.engine.open_orders(ACCOUNT)}):
                self.liquidity[native].refresh()
                await self._emit(self.engine.sync_external(native))

    async def _emit(self, events: list[EngineEvent]) -> None:
        for event in self.events(events):
            await self.publish(event)

    def events(self, events: list[EngineEvent]) -> list[Event]:
        """The platform events of one engine call (the mapping backtests use too)."""
        return platform_events(events, venue=self.venue, receive_ts=now_us(),
                               names=self._names, account_type="PAPER")

    def _names(self, native: str) -> tuple[str, str]:
        return self.natives.get(native, native), native

    def _update(self, o: OrderState, now: int) -> OrderUpdate:
        return order_update(o, venue=self.venue, receive_ts=now, names=self._names)


def _int(order_id: str | None) -> int | None:
    return int(order_id) if order_id and order_id.isdigit() else None


def _refused(message: str) -> ExchangeFailure:
    return ExchangeFailure("PAPER", message, ErrorKind.INVALID_REQUEST)
