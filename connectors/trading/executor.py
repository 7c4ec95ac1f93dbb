"""One order command in, exactly one `OrderAck` out: validate, apply the trading mode, make sure
the command is not placed twice, send it (retrying what may be retried), and say what happened.

Exactly once, for a command that may have been handled before a crash (`possibly_seen`):
  * its ack is on the executions topic already (`AckJournal`) -> nothing is sent or acked;
  * a create whose client order id the exchange already knows -> not sent again, acked
    ACCEPTED with the order's id ("already placed");
  * a cancel of an order already canceled, an amendment the order already shows -> not sent,
    acked ACCEPTED.
The client order id of a create without one is derived from its command id, so a redelivered
command asks about the very order it placed. When the exchange cannot be asked (it keeps
failing), the create is rejected rather than risk a second order.

Expiry: a command carries `expires_ts` (absolute, set by its sender) or, when it has none, the
connector's `max_age_us` counts from its creation time (`exchange_ts`, or `receive_ts` if
later). An expired command is never sent to the exchange: it is acked REJECTED with a reason
starting `expired`. (A create that may have been placed before a crash is looked up first:
found, it is acked as placed.)

Retries: answers that say the request was not processed (rate limit, busy, timestamp) are sent
again after a backoff, at most `max_retries` times. An unknown outcome (timeout, network, 5xx)
on a create is resolved by asking for the order by client order id first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

from ttxt_kafka.events import (
    AmendOrder,
    CancelAllOrders,
    CancelOrder,
    CreateOrder,
    Event,
    InstrumentInfo,
    OrderAck,
    OrderStatus,
    OrderUpdate,
    now_us,
)
from ttxt_kafka.orders.acks import accepted_ack, not_sent_ack, rejected_ack
from ttxt_kafka.orders.client_ids import client_order_id_for
from ttxt_kafka.orders.errors import ErrorKind, ExchangeFailure
from ttxt_kafka.orders.validation import (
    InvalidCommand,
    validate_amend,
    validate_cancel,
    validate_cancel_all,
    validate_create,
)

from ..base.symbols import SymbolMap, UnknownSymbolError
from .crash import crash_point
from .gateway import Gateway, Placed, Result
from .known import KnownOrders, known_from_update

log = logging.getLogger(__name__)

Mode = Literal["live", "paper", "off"]
Command = CreateOrder | CancelOrder | AmendOrder | CancelAllOrders
COMMANDS = (CreateOrder, CancelOrder, AmendOrder, CancelAllOrders)


@dataclass
class TradingStats:
    commands: int = 0  # decoded order commands handled
    accepted: int = 0
    rejected: int = 0
    not_sent: int = 0
    dead_lettered: int = 0  # records that are not order commands
    duplicates_skipped: int = 0  # redelivered commands whose ack was already published
    already_placed: int = 0  # redelivered creates found on the exchange, not sent again
    queries: int = 0  # orders looked up by id on the exchange
    retries: int = 0
    expired: int = 0  # commands past their expiry: rejected, never sent
    errors: int = 0  # handler bugs (answered with a rejected ack)
    private_events: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


class Executor:
    def __init__(self, *, venue: str, exchange: str, symbols: SymbolMap, mode: Mode,
                 gateway: Gateway | None, known: KnownOrders, max_retries: int = 3,
                 retry_delay: float = 0.25, max_age_us: int = 0) -> None:
        self.venue = venue
        self.exchange = exchange
        self.symbols = symbols
        self.mode = mode
        self.gateway = gateway
        self.known = known
        self.max_retries = max_retries
        self.retry_delay = retry_delay
        self.max_age_us = max_age_us  # 0: commands without expires_ts never expire
        self.stats = TradingStats()

    # ------------------------------------------------------------------ entry point

    async def execute(self, command: Command, possibly_seen: bool = False) -> OrderAck:
        """The command's ack. Never raises: a bug is logged and answered with a rejection."""
        self.stats.commands += 1
        try:
            ack = await self._execute(command, possibly_seen)
        except Exception as exc:
            self.stats.errors += 1
            log.exception("%s: command %s failed", self.venue, _short(command.command_id))
            ack = rejected_ack(command, f"internal error: {type(exc).__name__}: {exc}",
                               now_us=now_us())
        return self._own(ack)

    def _own(self, ack: OrderAck) -> OrderAck:
        """Acks go on this venue's topic under the normalized symbol, whatever the command said
        (a command for another venue must not be answered on that venue's topic)."""
        ack.venue = self.venue
        if ack.symbol:
            with contextlib.suppress(UnknownSymbolError):
                ack.symbol, ack.native_symbol = self.symbols.resolve(ack.symbol)
        status = ack.status.value
        if status == "ACCEPTED":
            self.stats.accepted += 1
        elif status == "REJECTED":
            self.stats.rejected += 1
        else:
            self.stats.not_sent += 1
        return ack

    async def _execute(self, cmd: Command, possibly_seen: bool) -> OrderAck:
        if cmd.venue != self.venue:
            return rejected_ack(cmd, f"command for venue {cmd.venue!r} arrived on "
                                     f"{self.venue}'s orders topic", now_us=now_us())
        if not (possibly_seen and isinstance(cmd, CreateOrder)):  # (that one asks first)
            cid = (cmd.client_order_id or client_order_id_for(cmd.command_id,
                                                              exchange=self.exchange)
                   if isinstance(cmd, CreateOrder) else None)
            expired = self._expired(cmd, cid)
            if expired is not None:
                return expired
        instrument = self._instrument(cmd.symbol)
        try:
            if isinstance(cmd, CreateOrder):
                return await self._create(cmd, instrument, possibly_seen)
            if isinstance(cmd, CancelOrder):
                return await self._cancel(cmd, instrument, possibly_seen)
            if isinstance(cmd, AmendOrder):
                return await self._amend(cmd, instrument, possibly_seen)
            return await self._cancel_all(cmd, instrument)
        except InvalidCommand as exc:
            return rejected_ack(cmd, str(exc), now_us=now_us())

    def expiry_of(self, cmd: Command) -> int | None:
        """When the command expires (us since the epoch), or None: it never does."""
        if cmd.expires_ts is not None:
            return cmd.expires_ts
        if self.max_age_us <= 0:
            return None
        # Created at exchange_ts; a strategy stamps the event time it answers there, so the
        # later of it and receive_ts (its wall-clock send time) counts.
        return max(cmd.exchange_ts, cmd.receive_ts) + self.max_age_us

    def _expired(self, cmd: Command, client_order_id: str | None = None) -> OrderAck | None:
        """The rejection of a command past its expiry (None: it may still be sent)."""
        expiry = self.expiry_of(cmd)
        now = now_us()
        if expiry is None or now < expiry:
            return None
        self.stats.expired += 1
        given = "its expires_ts" if cmd.expires_ts is not None else (
            f"trading.command_max_age {self.max_age_us / 1e6:g}s")
        late = (now - expiry) / 1e6
        log.warning("%s: command %s expired %.1fs ago (%s): not sent", self.venue,
                    _short(cmd.command_id), late, given)
        return rejected_ack(cmd, f"expired: {given} {_utc(expiry)} passed {late:.1f}s before "
                                 "the connector got the command; not sent",
                            now_us=now, error_code="expired", client_order_id=client_order_id)

    def _instrument(self, symbol: str) -> InstrumentInfo | None:
        if not symbol:
            return None
        try:
            normalized, _ = self.symbols.resolve(symbol)
        except UnknownSymbolError:
            return None
        return self.symbols.instruments.get(normalized)

    def _gateway(self) -> Gateway:
        assert self.gateway is not None, "a gateway is needed outside mode off"
        return self.gateway

    # ------------------------------------------------------------------ commands

    async def _create(self, cmd: CreateOrder, instrument: InstrumentInfo | None,
                      possibly_seen: bool) -> OrderAck:
        order = validate_create(cmd, instrument, exchange=self.exchange)
        cid, native = order.client_order_id, order.native_symbol
        if self.mode == "off":
            return not_sent_ack(cmd, now_us=now_us(), client_order_id=cid)
        gateway = self._gateway()
        if possibly_seen:
            found = await self._query(native, client_order_id=cid)
            if isinstance(found, ExchangeFailure):
                return rejected_ack(
                    cmd, "not sent: cannot tell whether this command was placed before a "
                    f"restart ({found.reason})", now_us=now_us(), error_code=found.code,
                    client_order_id=cid)
            if found is not None:
                self.stats.already_placed += 1
                return _already(cmd, found, "already placed (client order id found on the "
                                            "exchange): not sent again")
            expired = self._expired(cmd, cid)
            if expired is not None:
                return expired

        async def ask() -> OrderUpdate | None | ExchangeFailure:
            return await self._query(native, client_order_id=cid)

        result = await self._send(lambda: gateway.create(order), ask)
        if isinstance(result, ExchangeFailure):
            return rejected_ack(cmd, result.message or result.reason, now_us=now_us(),
                                error_code=result.code, client_order_id=cid)
        self.known.placed(order, result.order_id)
        crash_point("after_send")
        ack = accepted_ack(cmd, now_us=now_us(), exchange_ts=result.exchange_ts,
                           client_order_id=cid, order_id=result.order_id)
        ack.reason = result.note
        return ack

    async def _cancel(self, cmd: CancelOrder, instrument: InstrumentInfo | None,
                      possibly_seen: bool) -> OrderAck:
        cancel = validate_cancel(cmd, instrument)
        if self.mode == "off":
            return not_sent_ack(cmd, now_us=now_us())
        gateway = self._gateway()
        if possibly_seen:
            found = await self._query(cancel.native_symbol, client_order_id=cancel.client_order_id,
                                      order_id=cancel.order_id)
            if isinstance(found, OrderUpdate) and found.status is OrderStatus.CANCELED:
                return _already(cmd, found, "already canceled: not sent again")

        async def ask() -> OrderUpdate | None | ExchangeFailure:
            return await self._query(cancel.native_symbol,
                                     client_order_id=cancel.client_order_id,
                                     order_id=cancel.order_id)

        result = await self._send(lambda: gateway.cancel(cancel), ask, settled=_is_canceled)
        if isinstance(result, ExchangeFailure):
            return rejected_ack(cmd, result.message or result.reason, now_us=now_us(),
                                error_code=result.code)
        return accepted_ack(cmd, now_us=now_us(), exchange_ts=result.exchange_ts,
                            client_order_id=result.client_order_id or cancel.client_order_id,
                            order_id=result.order_id or cancel.order_id)

    async def _amend(self, cmd: AmendOrder, instrument: InstrumentInfo | None,
                     possibly_seen: bool = False) -> OrderAck:
        current = self.known.get(cmd.client_order_id, cmd.order_id)
        found: OrderUpdate | None | ExchangeFailure = None
        if (current is None or possibly_seen) and self.mode != "off" and (
                instrument is not None and (cmd.client_order_id or cmd.order_id)):
            found = await self._query(instrument.native_symbol,
                                      client_order_id=cmd.client_order_id, order_id=cmd.order_id)
            if isinstance(found, OrderUpdate) and found.status in (
                    OrderStatus.NEW, OrderStatus.PARTIALLY_FILLED):
                self.known.apply(found)
                current = known_from_update(found)
                if possibly_seen and _has(found, cmd):
                    return _already(cmd, found, "already amended: not sent again")
        amend = validate_amend(cmd, instrument, current=current)
        if current is None and self.mode == "live" and self._gateway().amend_needs_known_order:
            # the exchange needs the order's side, price and quantity to amend it: it must be open
            ref = cmd.client_order_id or cmd.order_id
            state = (f"is {found.status.value}" if isinstance(found, OrderUpdate)
                     else "is unknown to the exchange" if found is None
                     else f"could not be looked up ({found.reason})")
            return rejected_ack(cmd, f"cannot amend order {ref}: it {state}", now_us=now_us())
        if self.mode == "off":
            return not_sent_ack(cmd, now_us=now_us())
        gateway = self._gateway()
        result = await self._send(lambda: gateway.amend(amend, current))
        if isinstance(result, ExchangeFailure):
            return rejected_ack(cmd, result.message or result.reason, now_us=now_us(),
                                error_code=result.code)
        return accepted_ack(cmd, now_us=now_us(), exchange_ts=result.exchange_ts,
                            client_order_id=result.client_order_id or amend.client_order_id,
                            order_id=result.order_id or amend.order_id)

    async def _cancel_all(self, cmd: CancelAllOrders,
                          instrument: InstrumentInfo | None) -> OrderAck:
        if cmd.symbol and instrument is None:
            raise InvalidCommand(f"unknown symbol {cmd.symbol} on {self.venue}")
        cancel = validate_cancel_all(cmd, instrument)
        if self.mode == "off":
            return not_sent_ack(cmd, now_us=now_us())
        gateway = self._gateway()
        symbols = [cancel.native_symbol] if cancel.native_symbol else None
        if symbols is None:  # venue-wide: ask the exchange which symbols have open orders
            orders = await gateway.open_orders()
            if isinstance(orders, ExchangeFailure):
                return rejected_ack(cmd, f"cannot list the open orders: {orders.reason}",
                                    now_us=now_us(), error_code=orders.code)
            symbols = sorted({o.native_symbol for o in orders} | set(self.known.open_symbols()))
        result = await self._send(lambda: gateway.cancel_all(cancel, symbols or []))
        if isinstance(result, ExchangeFailure):
            return rejected_ack(cmd, result.message or result.reason, now_us=now_us(),
                                error_code=result.code)
        return accepted_ack(cmd, now_us=now_us(), exchange_ts=result.exchange_ts)

    # ------------------------------------------------------------------ sending

    async def _query(self, native: str, *, client_order_id: str | None = None,
                     order_id: str | None = None) -> OrderUpdate | None | ExchangeFailure:
        """The order on the exchange; transient failures retried like any request."""
        gateway = self._gateway()
        delay = self.retry_delay
        for attempt in range(self.max_retries + 1):
            self.stats.queries += 1
            found = await gateway.query(native, client_order_id=client_order_id,
                                        order_id=order_id)
            if not isinstance(found, ExchangeFailure):
                if found is not None:
                    self.known.apply(found)
                return found
            if not (found.retryable or found.kind is ErrorKind.UNKNOWN_OUTCOME) or (
                    attempt == self.max_retries):
                return found
            delay = await self._backoff(delay)
        raise AssertionError("unreachable")

    async def _send(self, call: Callable[[], Awaitable[Result]],
                    ask: Callable[[], Awaitable[OrderUpdate | None | ExchangeFailure]] | None
                    = None, settled: Callable[[OrderUpdate], bool] | None = None) -> Result:
        """Send with bounded retries. `ask` finds out what happened after an unknown outcome
        (the order exists: it was placed; `settled` says whether its state is the goal)."""
        delay = self.retry_delay
        unknown = False
        result: Result = Placed()
        for attempt in range(self.max_retries + 1):
            result = await call()
            if isinstance(result, Placed):
                return result
            if ask is not None and (unknown or result.kind is ErrorKind.UNKNOWN_OUTCOME):
                unknown = True  # from now on every failure is checked against the exchange
                found = await ask()
                if isinstance(found, OrderUpdate) and (settled is None or settled(found)):
                    return Placed(found.order_id, found.client_order_id, found.exchange_ts,
                                  note="confirmed by a query after an unknown outcome")
                if isinstance(found, ExchangeFailure):  # cannot tell: never send it twice
                    return ExchangeFailure(
                        result.code, f"outcome unknown ({result.message}) and the order could "
                        f"not be looked up ({found.reason}); its updates will tell",
                        ErrorKind.UNKNOWN_OUTCOME, result.http_status)
                if not result.retryable and result.kind is not ErrorKind.UNKNOWN_OUTCOME:
                    return result  # a plain refusal of the resend
            elif not result.retryable:
                return result
            if attempt == self.max_retries:
                return result
            delay = await self._backoff(delay)
        return result

    async def _backoff(self, delay: float) -> float:
        self.stats.retries += 1
        await asyncio.sleep(delay * (1 + random.random() * 0.25))
        return min(delay * 2, 10.0)


def _has(update: OrderUpdate, amend: AmendOrder) -> bool:
    """Does the order already have the amendment's new price and quantity?"""
    def same(have: str | None, want: str | None) -> bool:
        try:
            return want is None or (have is not None and Decimal(have) == Decimal(want))
        except ArithmeticError:
            return False
    return (same(update.price, amend.new_price) and same(update.qty, amend.new_qty)
            and (amend.new_price, amend.new_qty) != (None, None)
            and amend.new_take_profit is None and amend.new_stop_loss is None)


def _is_canceled(update: OrderUpdate) -> bool:
    return update.status is OrderStatus.CANCELED


def _already(cmd: Event, found: OrderUpdate, note: str) -> OrderAck:
    ack = accepted_ack(cmd, now_us=now_us(), client_order_id=found.client_order_id or None,
                       order_id=found.order_id or None)
    ack.reason = note
    return ack


def _utc(ts_us: int) -> str:
    return datetime.fromtimestamp(ts_us / 1e6, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."
