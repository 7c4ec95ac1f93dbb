"""One venue in a backtest: the matching engine, fed by the recorded market, taking commands.

What a connector in paper mode does, without Kafka and on the exchange clock:

* market events move the engine's view of the market: an `OrderBook` updates the external
  book (then `sync_external` fills our resting orders it now crosses, as makers at their
  price), a `Trades` batch goes to `on_external_trade` (a trade through a resting order's price
  fills it; at its price only with `fill_on_touch`, since the queue ahead of it is unknown);
* a command is validated like the connector validates it
  (`ttxt_kafka.orders.validation`, the
  exact same reasons), then given to the engine; the answer is one `OrderAck` followed by the
  engine's reports as platform events (`ttxt_kafka.matching.events_map`).

The engine is keyed by normalized symbol and runs on the backtest's clock (`now`), so every
event it reports carries the simulated exchange time.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from ttxt_kafka import venues
from ttxt_kafka.book import Book
from ttxt_kafka.events import (
    AmendOrder,
    CancelAllOrders,
    CancelOrder,
    ConnectorState,
    ConnectorStatus,
    CreateOrder,
    Event,
    InstrumentInfo,
    MarketType,
    OrderBook,
    Side,
    Trades,
)
from ttxt_kafka.matching import (
    BalanceChanged,
    EngineEvent,
    MarketKind,
    MatchingEngine,
    OrderAccepted,
    OrderRejected,
    OrderRequest,
    OrderUpdated,
)
from ttxt_kafka.matching.events_map import platform_events, wallet
from ttxt_kafka.matching.instruments import instrument_from_info
from ttxt_kafka.orders.acks import accepted_ack, rejected_ack
from ttxt_kafka.orders.state import KnownOrder
from ttxt_kafka.orders.validation import (
    InvalidCommand,
    validate_amend,
    validate_cancel,
    validate_cancel_all,
    validate_create,
)

from .config import DEFAULT_QUOTE_BALANCE, BacktestConfig
from .instruments import Instruments
from .liquidity import BookLiquidity

ACCOUNT = "backtest"
ACCOUNT_TYPE = "BACKTEST"
Command = CreateOrder | CancelOrder | AmendOrder | CancelAllOrders
COMMANDS = (CreateOrder, CancelOrder, AmendOrder, CancelAllOrders)
TP_SL = "take-profit / stop-loss are not simulated in backtests"


def exchange_of(venue: str) -> str | None:
    """Whose client order id rule applies: the venue's exchange; None (the portable rule) for
    a venue the registry does not know."""
    spec = venues.find(venue)
    return spec.exchange if spec is not None else None


class SimVenue:
    def __init__(self, venue: str, config: BacktestConfig, instruments: Instruments) -> None:
        self.venue = venue
        self.kind = config.market_of(venue)
        self.fees = config.fees_of(venue)
        self.instruments = instruments
        self.now = 0
        self.engine = MatchingEngine(self.kind, fees=self.fees, leverage=config.leverage,
                                     fill_on_touch=config.fill_on_touch, clock=self._clock)
        self.books: dict[str, Book] = {}
        self.liquidity: dict[str, BookLiquidity] = {}
        self.last_trade: dict[str, Decimal] = {}
        self.sources: dict[str, str] = {}  # symbol -> where its rules came from
        configured = config.balances_of(venue)
        self.default_balances = configured is None
        self.deposits: dict[str, Decimal] = {}
        for asset, amount in sorted((configured or {}).items()):
            self._deposit(asset, amount)

    def _clock(self) -> int:
        return self.now

    @property
    def market_type(self) -> MarketType:
        return MarketType.LINEAR if self.kind is MarketKind.LINEAR else MarketType.SPOT

    def _deposit(self, asset: str, amount: Decimal) -> list[EngineEvent]:
        self.deposits[asset] = self.deposits.get(asset, Decimal(0)) + amount
        return self.engine.deposit(ACCOUNT, asset, amount) if amount > 0 else []

    def names(self, symbol: str) -> tuple[str, str]:
        return symbol, self.instruments.native(self.venue, symbol)

    # ------------------------------------------------------------------ the market

    def on_market(self, event: Event, now: int, receive_ts: int) -> list[Event]:
        """Move the market; reports of our orders it filled."""
        self.now = now
        if isinstance(event, InstrumentInfo):
            if self.instruments.observe(event) and event.symbol in self.engine.instruments:
                self._register(event.symbol)  # a listing change: the engine takes the new rules
            return []
        self.instruments.observe(event)
        symbol = event.symbol
        engine_events: list[EngineEvent] = []
        if isinstance(event, OrderBook):
            live = self.liquidity.get(symbol)
            if live is None:
                book = self.books[symbol] = Book(self.venue, symbol)
                live = self.liquidity[symbol] = BookLiquidity(book)
            if live.apply(event) and symbol in self.engine.instruments:
                engine_events = self.engine.sync_external(symbol)
        elif (isinstance(event, ConnectorStatus) and event.status is ConnectorState.BOOK_RESYNC
              and symbol in self.liquidity):
            # The recorded book was broken: no liquidity from it until its next snapshot.
            self.books[symbol].clear()
        elif isinstance(event, Trades):
            registered = symbol in self.engine.instruments
            for trade in event.trades:
                price = Decimal(trade.price)
                self.last_trade[symbol] = price
                if registered and trade.side is not Side.UNKNOWN:
                    engine_events += self.engine.on_external_trade(
                        symbol, trade.side, price, Decimal(trade.qty))
        return self._reports(engine_events, receive_ts)

    def mid(self, symbol: str) -> Decimal | None:
        """The market's mid (the last trade price while there is no two-sided book)."""
        book = self.books.get(symbol)
        mid = book.mid() if book is not None else None
        return mid if mid is not None else self.last_trade.get(symbol)

    # ------------------------------------------------------------------ commands

    def execute(self, cmd: Command, now: int, receive_ts: int) -> list[Event]:
        """One command at the engine: its ack, then what the engine reports."""
        self.now = now
        funded: list[EngineEvent] = []
        if (cmd.symbol and cmd.symbol not in self.engine.instruments
                and self._has_market(cmd.symbol)):
            funded = self._register(cmd.symbol)  # first order: the symbol's rules are fixed
        try:
            ack, engine_events = self._execute(cmd, now, receive_ts)
        except InvalidCommand as exc:
            ack, engine_events = rejected_ack(cmd, str(exc), now_us=receive_ts,
                                              exchange_ts=now), []
        return self._reports(funded, receive_ts) + [ack] + self._reports(engine_events,
                                                                         receive_ts)

    def _has_market(self, symbol: str) -> bool:
        key = (self.venue, symbol)
        return (symbol in self.books or symbol in self.last_trade
                or key in self.instruments.recorded or key in self.instruments.configured)

    def _register(self, symbol: str) -> list[EngineEvent]:
        """Give the engine the symbol's rules (and the default funds of its quote asset)."""
        info, source = self.instruments.resolve(self.venue, symbol, self.market_type)
        self.sources[symbol] = source
        self.engine.add_instrument(dataclasses.replace(instrument_from_info(info),
                                                       symbol=symbol))
        live = self.liquidity.get(symbol)
        if live is not None:
            self.engine.set_external(symbol, live)
        if self.default_balances and info.quote not in self.deposits:
            return self._deposit(info.quote, DEFAULT_QUOTE_BALANCE)
        return []

    def _info(self, cmd: Event) -> InstrumentInfo | None:
        if cmd.symbol not in self.engine.instruments:
            return None
        return self.instruments.resolve(self.venue, cmd.symbol, self.market_type)[0]

    def _execute(self, cmd: Command, now: int, receive_ts: int
                 ) -> tuple[Event, list[EngineEvent]]:
        info = self._info(cmd)
        if isinstance(cmd, CreateOrder):
            order = validate_create(cmd, info, exchange=exchange_of(self.venue),
                                    reference_price=self.mid(cmd.symbol))
            if order.take_profit is not None or order.stop_loss is not None:
                raise InvalidCommand(TP_SL)
            events = self.engine.submit(ACCOUNT, OrderRequest(
                symbol=cmd.symbol, side=order.side, order_type=order.order_type,
                qty=order.qty, price=order.price, time_in_force=order.time_in_force,
                post_only=order.post_only, reduce_only=order.reduce_only,
                client_order_id=order.client_order_id))
        elif isinstance(cmd, CancelOrder):
            cancel = validate_cancel(cmd, info)
            events = self.engine.cancel(ACCOUNT, cmd.symbol, order_id=_int(cancel.order_id),
                                        client_order_id=cancel.client_order_id)
        elif isinstance(cmd, AmendOrder):
            amend = validate_amend(cmd, info, current=self._known(cmd))
            if amend.new_take_profit is not None or amend.new_stop_loss is not None:
                raise InvalidCommand(TP_SL)
            events = self.engine.amend(ACCOUNT, cmd.symbol, order_id=_int(amend.order_id),
                                       client_order_id=amend.client_order_id,
                                       new_qty=amend.new_qty, new_price=amend.new_price)
        else:
            if cmd.symbol and info is None:
                raise InvalidCommand(f"unknown symbol {cmd.symbol} on {self.venue}")
            validate_cancel_all(cmd, info)
            events = self.engine.cancel_all(ACCOUNT, cmd.symbol or None)
        return self._ack(cmd, events, now, receive_ts), events

    def _known(self, cmd: AmendOrder) -> KnownOrder | None:
        if cmd.symbol not in self.engine.instruments:
            return None
        o = self.engine.order(ACCOUNT, cmd.symbol, order_id=_int(cmd.order_id),
                              client_order_id=cmd.client_order_id)
        if o is None or not o.is_open:
            return None
        return KnownOrder(client_order_id=o.client_order_id, order_id=str(o.order_id),
                          side=o.side, order_type=o.order_type, time_in_force=o.time_in_force,
                          post_only=o.post_only, reduce_only=o.reduce_only, price=o.price,
                          qty=o.qty, filled_qty=o.filled_qty)

    def _ack(self, cmd: Command, events: list[EngineEvent], now: int, receive_ts: int) -> Event:
        if events and isinstance(events[0], OrderRejected):
            rejected = events[0]
            return rejected_ack(cmd, rejected.message, now_us=receive_ts, exchange_ts=now,
                                error_code=rejected.reason.value)
        state = next((e.order for e in events if isinstance(e, OrderAccepted | OrderUpdated)),
                     None)
        if state is None or isinstance(cmd, CancelAllOrders):
            return accepted_ack(cmd, now_us=receive_ts, exchange_ts=now)
        return accepted_ack(cmd, now_us=receive_ts, exchange_ts=now,
                            client_order_id=state.client_order_id, order_id=str(state.order_id))

    # ------------------------------------------------------------------ reports

    def _reports(self, events: list[EngineEvent], receive_ts: int) -> list[Event]:
        if not events or isinstance(events[0], OrderRejected):
            return []
        return platform_events(events, venue=self.venue, receive_ts=receive_ts,
                               names=self.names, account_type=ACCOUNT_TYPE)

    def opening_wallet(self, receive_ts: int) -> Event | None:
        """The starting balances, as the snapshot a connector publishes when it starts."""
        assets = sorted(self.deposits)
        if not assets:
            return None
        changes = [BalanceChanged(seq=0, ts=self.now, account=ACCOUNT, asset=a,
                                  total=t, available=av, locked=lk)
                   for a in assets for t, av, lk in [self.engine.balance(ACCOUNT, a)]]
        return wallet(changes, venue=self.venue, receive_ts=receive_ts,
                      account_type=ACCOUNT_TYPE, is_snapshot=True)


def _int(order_id: str | None) -> int | None:
    return int(order_id) if order_id and order_id.isdigit() else None
