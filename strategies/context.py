"""`ctx`: what a strategy can do (send commands, emit events) and read (books, orders, account).

Commands are queued by these plain (not async) calls and sent by the runtime, in order, as soon
as the handler returns — so handlers stay one-liners and a backtest sees the same sequence.
Prices and quantities are Decimals or decimal strings, never floats; they go on the wire as
exact decimal strings. `venue=` may be left out when the strategy has a single venue.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, TypedDict

from ttxt_kafka.book import Book
from ttxt_kafka.events import (
    AmendOrder,
    Balance,
    CancelAllOrders,
    CancelOrder,
    CreateOrder,
    Event,
    OrderType,
    Side,
    TimeInForce,
    now_us,
)
from ttxt_kafka.topics import topic

from .orders import OpenOrder

if TYPE_CHECKING:
    from .runtime import StrategyRuntime

Number = Decimal | str | int


class _Header(TypedDict):
    venue: str
    symbol: str
    exchange_ts: int
    receive_ts: int
    expires_ts: int | None


class OrderError(ValueError):
    """A command the strategy asked for that cannot be made (bad number, unknown order)."""


class BookNotReady(LookupError):
    """No ready book for the symbol here: no snapshot yet, or another instance owns it."""


def exact(name: str, value: Number, *, positive: bool = True) -> str:
    """A price or quantity as an exact decimal string."""
    if isinstance(value, bool) or not isinstance(value, Decimal | str | int):
        raise OrderError(f"{name}={value!r}: give a Decimal, a decimal string or an int "
                         "(floats are not exact)")
    try:
        d = Decimal(value)
    except InvalidOperation as exc:
        raise OrderError(f"{name}={value!r} is not a decimal number") from exc
    if not d.is_finite() or (positive and d <= 0):
        raise OrderError(f"{name}={value!r} must be a positive finite number")
    return value.strip() if isinstance(value, str) else format(d, "f")


class Context:
    def __init__(self, runtime: StrategyRuntime, send: Callable[[Event, str], None]) -> None:
        self._rt = runtime
        self._send = send
        self.log = logging.getLogger(f"strategy.{runtime.strategy.name}")

    # ------------------------------------------------------------------ reading

    @property
    def now_us(self) -> int:
        """Event time: the latest exchange timestamp seen (replay time in a backtest)."""
        return self._rt.clock_us

    def clock(self, symbol: str, venue: str | None = None) -> int:
        """Event time of the partition the symbol's events come from: time that has passed
        for this symbol (see `ttxt_kafka.strategies.clock`). In-process, the same as `now_us`."""
        return self._rt.clock.of(self.venue_of(venue), symbol)

    def venue_of(self, venue: str | None) -> str:
        if venue is not None:
            return venue
        venues = self._rt.subscription.venues
        if len(venues) != 1:
            raise OrderError(f"this strategy reads {len(venues)} venues: pass venue=")
        return venues[0]

    def book(self, symbol: str, venue: str | None = None) -> Book:
        """The symbol's current book. Always ready inside a handler of that symbol's market
        data; elsewhere check `has_book` first (else BookNotReady)."""
        book = self._rt.books.get(self.venue_of(venue), symbol)
        if book is None:
            raise BookNotReady(f"no ready {symbol} book on {self.venue_of(venue)} here")
        return book

    def has_book(self, symbol: str, venue: str | None = None) -> bool:
        return self._rt.books.is_ready(self.venue_of(venue), symbol)

    def open_orders(self, symbol: str | None = None, venue: str | None = None) -> list[OpenOrder]:
        return self._rt.orders.open(venue, symbol)

    def position(self, symbol: str, venue: str | None = None) -> Decimal:
        """Signed position size (0 if none known)."""
        return self._rt.account.position(self.venue_of(venue), symbol)

    def balance(self, asset: str, venue: str | None = None) -> Balance | None:
        return self._rt.account.balance(self.venue_of(venue), asset)

    # ------------------------------------------------------------------ commands

    def buy(self, symbol: str, qty: Number, price: Number | None = None, *,
            venue: str | None = None, **options: object) -> OpenOrder:
        """A limit buy at `price`, or a market buy without one."""
        return self.order(Side.BUY, symbol, qty, price, venue=venue, **options)  # type: ignore[arg-type]

    def sell(self, symbol: str, qty: Number, price: Number | None = None, *,
             venue: str | None = None, **options: object) -> OpenOrder:
        return self.order(Side.SELL, symbol, qty, price, venue=venue, **options)  # type: ignore[arg-type]

    def order(self, side: Side, symbol: str, qty: Number, price: Number | None = None, *,
              venue: str | None = None, time_in_force: TimeInForce = TimeInForce.GTC,
              post_only: bool = False, reduce_only: bool = False,
              take_profit: Number | None = None, stop_loss: Number | None = None,
              client_order_id: str | None = None,
              extras: dict[str, str] | None = None) -> OpenOrder:
        # Every number is checked before a command id is spent.
        exact_qty = exact("qty", qty)
        exact_price = None if price is None else exact("price", price)
        tp = None if take_profit is None else exact("take_profit", take_profit)
        sl = None if stop_loss is None else exact("stop_loss", stop_loss)
        command_id = self._rt.ids.next()
        cmd = CreateOrder(
            **self._header(venue, symbol), command_id=command_id,
            client_order_id=client_order_id or command_id, side=side,
            order_type=OrderType.MARKET if price is None else OrderType.LIMIT,
            time_in_force=time_in_force, post_only=post_only, reduce_only=reduce_only,
            qty=exact_qty, price=exact_price, take_profit=tp, stop_loss=sl,
            extras=dict(extras or {}),
        )
        order = self._rt.orders.created(cmd)
        self._command(cmd)
        return order

    def cancel(self, order: OpenOrder | str) -> str:
        """Cancel one of this strategy's orders (or a client order id). Returns the command id."""
        o = self._known(order)
        cmd = CancelOrder(**self._header(o.venue, o.symbol), command_id=self._rt.ids.next(),
                          client_order_id=o.client_order_id, order_id=o.order_id)
        self._rt.orders.cancel_sent(cmd)
        self._command(cmd)
        return cmd.command_id

    def amend(self, order: OpenOrder | str, *, price: Number | None = None,
              qty: Number | None = None) -> str:
        """New price and/or quantity for an open order. Returns the command id."""
        if price is None and qty is None:
            raise OrderError("amend needs a new price or a new qty")
        o = self._known(order)
        cmd = AmendOrder(**self._header(o.venue, o.symbol), command_id=self._rt.ids.next(),
                         client_order_id=o.client_order_id, order_id=o.order_id,
                         new_price=None if price is None else exact("price", price),
                         new_qty=None if qty is None else exact("qty", qty))
        self._rt.orders.amend_sent(cmd)
        self._command(cmd)
        return cmd.command_id

    def cancel_all(self, symbol: str | None = None, venue: str | None = None) -> str:
        """Cancel every order of a symbol (or of the venue when symbol is None)."""
        cmd = CancelAllOrders(**self._header(venue, symbol or ""),
                              command_id=self._rt.ids.next())
        self._rt.orders.cancel_all_sent(cmd)
        self._command(cmd)
        return cmd.command_id

    def emit(self, event: Event, channel: str) -> None:
        """Publish a derived event on `<prefix>.<event.venue>.<channel>` (klines_agg, ...)."""
        self._send(event, topic(event.venue, channel, self._rt.subscription.prefix))

    # ------------------------------------------------------------------ helpers

    def _header(self, venue: str | None, symbol: str) -> _Header:
        """A command's exchange_ts is the exchange time of the event it answers (else, from
        a timer or on_stop, the symbol's clock): the same whatever the source, in backtests too."""
        v = self.venue_of(venue)
        ts = self._rt.trigger_ts
        if ts is None:
            ts = self._rt.clock.of(v, symbol) if symbol else self._rt.clock_us
        sent = now_us()
        ttl = self._rt.strategy.command_expiry
        # The expiry is wall-clock time (when the connector may still send it), not event time.
        expires = None if ttl is None else sent + int(ttl * 1_000_000)
        return {"venue": v, "symbol": symbol, "exchange_ts": ts, "receive_ts": sent,
                "expires_ts": expires}

    def _known(self, order: OpenOrder | str) -> OpenOrder:
        if isinstance(order, OpenOrder):
            return order
        found = self._rt.orders.orders.get(order)
        if found is None:
            raise OrderError(f"no open order with client order id {order!r}")
        return found

    def _command(self, cmd: Event) -> None:
        self._send(cmd, self._rt.subscription.orders_topic(cmd.venue))
