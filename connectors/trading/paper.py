"""Paper trading: orders filled locally from the connector's own books, no exchange call.

The simulator's matching engine (`simulator.matching`) runs in the connector: each symbol's
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

from simulator.matching import (
    BalanceChanged,
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
    TradeFill,
    instrument_from_info,
)
from simulator.matching.live import Levels
from ttxt_kafka.book import Book
from ttxt_kafka.events import (
    Balance,
    Event,
    Fill,
    OrderUpdate,
    PositionSide,
    PositionUpdate,
    Wallet,
    now_us,
)

from ..base.symbols import SymbolMap
from ..config import PaperSettings
from ..orders.errors import ErrorKind, ExchangeFailure
from ..orders.state import KnownOrder
from ..orders.validation import ValidAmend, ValidCancel, ValidCancelAll, ValidCreate
from .gateway import Gateway, Placed, Result

ACCOUNT = "paper"
DEPTH = 100  # book levels per side offered as liquidity
SYNC_INTERVAL = 0.1  # seconds between matching resting orders against the moving books
LINEAR_VENUES = frozenset({"binance_usdm", "bybit_linear"})

_KINDS = {
    Reason.INSUFFICIENT_BALANCE: ErrorKind.INSUFFICIENT_BALANCE,
    Reason.UNKNOWN_ORDER: ErrorKind.UNKNOWN_ORDER,
    Reason.DUPLICATE_CLIENT_ORDER_ID: ErrorKind.DUPLICATE_ORDER,
    Reason.POST_ONLY_WOULD_TAKE: ErrorKind.POST_ONLY_REJECTED,
    Reason.REDUCE_ONLY_REJECTED: ErrorKind.REDUCE_ONLY_REJECTED,
}


def _plain(value: Decimal) -> str:
    return format(value, "f")


def book_reader(book: Book) -> Callable[[], tuple[Levels, Levels]]:
    def read() -> tuple[Levels, Levels]:
        return ({Decimal(p): Decimal(q) for p, q in book.bids(DEPTH)},
                {Decimal(p): Decimal(q) for p, q in book.asks(DEPTH)})

    return read


class PaperGateway(Gateway):
    def __init__(self, *, venue: str, exchange: str, symbols: SymbolMap, books: dict[str, Book],
                 settings: PaperSettings, publish: Callable[[Event], Awaitable[None]]) -> None:
        self.venue = venue
        self.exchange = exchange
        self.symbols = symbols
        self.books = books
        self.publish = publish
        self.linear = venue in LINEAR_VENUES
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
            live = LiveBook(book_reader(book))
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
        balances = [_balance(a, *self.engine.balance(ACCOUNT, a)) for a in assets]
        out: list[Event] = [Wallet(venue=self.venue, symbol="", exchange_ts=now, receive_ts=now,
                                   account_type="PAPER", balances=balances, is_snapshot=True)]
        for (acct, native), position in sorted(self.engine.positions.items()):
            if acct == ACCOUNT:
                mark = self.engine.mark_price.get(native, self.engine.last_price.get(native))
                out.append(self._position(PositionChanged(
                    seq=0, ts=now, account=acct, symbol=native, size=position.size,
                    entry_price=position.entry_price(self.engine.quantum),
                    entry_value=position.entry_value, realized_pnl=position.realized,
                    unrealized_pnl=position.unrealized(mark), mark_price=mark,
                    leverage=self.engine.leverage_of(acct, native)), now))
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
        """The platform events of one engine call: per order report its OrderUpdate (then its
        Fill), then one Wallet of the balances it changed, then the positions."""
        now = now_us()
        out: list[Event] = []
        fills: dict[int, TradeFill] = {}
        balances: list[BalanceChanged] = []
        for ev in events:
            if isinstance(ev, TradeFill):
                fills[ev.order_id] = ev
            elif isinstance(ev, OrderAccepted | OrderUpdated):
                update = self._update(ev.order, now, ev.reason.value if isinstance(
                    ev, OrderUpdated) and ev.reason else "")
                out.append(update)
                fill = fills.pop(ev.order.order_id, None)
                if fill is not None and isinstance(ev, OrderUpdated):
                    out.append(self._fill(fill, now))
            elif isinstance(ev, BalanceChanged):
                balances.append(ev)
        if balances:
            out.append(Wallet(venue=self.venue, symbol="", exchange_ts=balances[-1].ts,
                              receive_ts=now, account_type="PAPER", is_snapshot=False,
                              balances=[_balance(b.asset, b.total, b.available, b.locked)
                                        for b in balances]))
        out += [self._position(p, now) for p in events if isinstance(p, PositionChanged)]
        return out

    def _symbol(self, native: str) -> str:
        return self.natives.get(native, native)

    def _update(self, o: OrderState, now: int, reason: str = "") -> OrderUpdate:
        avg = o.cum_quote / o.filled_qty if o.filled_qty else None
        return OrderUpdate(
            venue=self.venue, symbol=self._symbol(o.symbol), native_symbol=o.symbol,
            exchange_ts=o.updated_ts, receive_ts=now, client_order_id=o.client_order_id,
            order_id=str(o.order_id), side=o.side, order_type=o.order_type,
            time_in_force=o.time_in_force, status=o.status,
            price=_plain(o.price) if o.price is not None else None, qty=_plain(o.qty),
            filled_qty=_plain(o.filled_qty), avg_price=_plain(avg) if avg is not None else None,
            reduce_only=o.reduce_only, created_ts=o.created_ts, reason=reason)

    def _fill(self, f: TradeFill, now: int) -> Fill:
        return Fill(venue=self.venue, symbol=self._symbol(f.symbol), native_symbol=f.symbol,
                    exchange_ts=f.ts, receive_ts=now, client_order_id=f.client_order_id,
                    order_id=str(f.order_id), trade_id=str(f.trade_id), side=f.side,
                    price=_plain(f.price), qty=_plain(f.qty), fee=_plain(f.fee),
                    fee_currency=f.fee_asset, is_maker=f.is_maker)

    def _position(self, p: PositionChanged, now: int) -> PositionUpdate:
        side = (PositionSide.LONG if p.size > 0 else PositionSide.SHORT if p.size < 0
                else PositionSide.FLAT)
        return PositionUpdate(
            venue=self.venue, symbol=self._symbol(p.symbol), native_symbol=p.symbol,
            exchange_ts=p.ts, receive_ts=now, side=side, size=_plain(abs(p.size)),
            entry_price=_plain(p.entry_price) if p.entry_price is not None else None,
            mark_price=_plain(p.mark_price) if p.mark_price is not None else None,
            unrealized_pnl=_plain(p.unrealized_pnl), realized_pnl=_plain(p.realized_pnl),
            leverage=_plain(p.leverage))


def _balance(asset: str, total: Decimal, available: Decimal, locked: Decimal) -> Balance:
    return Balance(asset=asset, total=_plain(total), available=_plain(available),
                   locked=_plain(locked))


def _int(order_id: str | None) -> int | None:
    return int(order_id) if order_id and order_id.isdigit() else None


def _refused(message: str) -> ExchangeFailure:
    return ExchangeFailure("PAPER", message, ErrorKind.INVALID_REQUEST)
