"""Order command validation: shape (pydantic) then the instrument's rules.

`validate_create / validate_amend / validate_cancel / validate_cancel_all` take a command as it
came off the topic and either return its validated form (exact `Decimal` values, the client order
id filled in, the native symbol set) or raise `InvalidCommand` whose text is the rejected ack's
reason, naming the problem and the values involved, e.g.
`price 60000.123 is not a multiple of tick 0.1`. They never raise anything else on bad input.

Rules (where the exchanges agree; per-exchange limits are the translators' job):
* numbers are plain decimal strings (`0.010`, `60000.1`): no sign, exponent, spaces,
  underscores, NaN or infinity; quantities and prices are positive;
* LIMIT needs a price; MARKET takes none, cannot be post-only, and is GTC (default) or IOC;
  post-only is GTC only; reduce-only is for derivatives;
* instrument: trading; price and take-profit/stop-loss multiples of the tick; quantity a
  multiple of the lot, within min/max; price x quantity >= min notional (a market order is
  checked against `reference_price` when given); take-profit above and stop-loss below the
  price for a buy (the other way round for a sell);
* client order id: the exchange's charset and length; generated from the command id if empty.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from decimal import Decimal, localcontext
from functools import wraps
from typing import Annotated, Any, ParamSpec, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, model_validator

from ttxt_kafka.events import (
    AmendOrder,
    CancelAllOrders,
    CancelOrder,
    CreateOrder,
    Event,
    InstrumentInfo,
    MarketType,
    OrderType,
    Side,
    TimeInForce,
)

from .client_ids import client_order_id_for, client_order_id_problem
from .filters import Filters, notional_problem, price_problem, qty_problem
from .state import KnownOrder

_PLAIN = re.compile(r"^[0-9]{1,40}(\.[0-9]{1,40})?$")


class InvalidCommand(ValueError):
    """A command that must not be sent; `str(exc)` is the reason for the rejected ack."""


def _positive(name: str) -> Any:
    def parse(value: Any) -> Decimal:
        if isinstance(value, Decimal):
            text = format(value, "f") if value.is_finite() else str(value)
        elif isinstance(value, str):
            text = value
        else:
            raise ValueError(f"{name} must be a decimal string, not {type(value).__name__}")
        if not _PLAIN.match(text):
            raise ValueError(f"{name} {text!r} is not a plain decimal number")
        number = Decimal(text)
        if number <= 0:
            raise ValueError(f"{name} {text} must be positive")
        return number

    return BeforeValidator(parse)


def _optional(name: str) -> Any:
    positive = _positive(name).func

    def parse(value: Any) -> Decimal | None:
        return None if value is None or value == "" else positive(value)

    return BeforeValidator(parse)


def _required_text(name: str) -> Any:
    def parse(value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{name} is missing")
        if len(value) > 200:
            raise ValueError(f"{name} is longer than 200 characters")
        return value

    return BeforeValidator(parse)


Quantity = Annotated[Decimal, _positive("quantity")]
Price = Annotated[Decimal | None, _optional("price")]
OptQuantity = Annotated[Decimal | None, _optional("new quantity")]
NewPrice = Annotated[Decimal | None, _optional("new price")]
TakeProfit = Annotated[Decimal | None, _optional("take-profit")]
StopLoss = Annotated[Decimal | None, _optional("stop-loss")]
CommandId = Annotated[str, _required_text("command id")]
Symbol = Annotated[str, _required_text("symbol")]


class _Command(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    venue: str
    symbol: Symbol
    native_symbol: str = ""
    command_id: CommandId


class ValidCreate(_Command):
    client_order_id: str = ""
    side: Side
    order_type: OrderType
    time_in_force: TimeInForce = TimeInForce.GTC
    post_only: bool = False
    reduce_only: bool = False
    qty: Quantity
    price: Price = None
    take_profit: TakeProfit = None
    stop_loss: StopLoss = None
    extras: dict[str, str] = {}

    @model_validator(mode="after")
    def _shape(self) -> ValidCreate:
        if self.side is Side.UNKNOWN:
            raise ValueError("side must be BUY or SELL")
        if self.order_type is OrderType.LIMIT and self.price is None:
            raise ValueError("a LIMIT order needs a price")
        if self.order_type is OrderType.MARKET:
            if self.price is not None:
                raise ValueError("a MARKET order takes no price")
            if self.post_only:
                raise ValueError("a MARKET order cannot be post-only")
            if self.time_in_force is TimeInForce.FOK:
                raise ValueError("a MARKET order is GTC or IOC, not FOK")
        if self.post_only and self.time_in_force is not TimeInForce.GTC:
            raise ValueError(f"a post-only order cannot be {self.time_in_force}")
        return self


class ValidCancel(_Command):
    client_order_id: str | None = None
    order_id: str | None = None

    @model_validator(mode="after")
    def _target(self) -> ValidCancel:
        if not self.client_order_id and not self.order_id:
            raise ValueError("name the order: client_order_id or order_id")
        return self


class ValidAmend(ValidCancel):
    new_qty: OptQuantity = None
    new_price: NewPrice = None
    new_take_profit: TakeProfit = None
    new_stop_loss: StopLoss = None

    @model_validator(mode="after")
    def _something(self) -> ValidAmend:
        if (self.new_qty, self.new_price, self.new_take_profit, self.new_stop_loss) == (
                None, None, None, None):
            raise ValueError("an amendment changes nothing: give a new quantity, price, "
                             "take-profit or stop-loss")
        return self


class ValidCancelAll(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    venue: str
    symbol: str = ""  # "" = every symbol of the venue
    native_symbol: str = ""
    command_id: CommandId


M = TypeVar("M", bound=BaseModel)


def _model(cls: type[M], command: Event) -> M:
    try:
        return cls.model_validate(dataclasses.asdict(command))
    except ValidationError as exc:
        raise InvalidCommand(_reason(exc)) from None


def _reason(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        message = str(err["msg"]).removeprefix("Value error, ")
        where = ".".join(str(p) for p in err["loc"])
        parts.append(message if err["type"] == "value_error" or not where
                     else f"{where}: {message}")
    return "; ".join(parts)


# ====================================================================== instrument rules


def _check_price(name: str, price: Decimal, instrument: InstrumentInfo) -> None:
    problem = price_problem(name, price, Filters.of(instrument))
    if problem is not None:
        raise InvalidCommand(problem)


def _check_qty(name: str, qty: Decimal, instrument: InstrumentInfo) -> None:
    problem = qty_problem(name, qty, Filters.of(instrument))
    if problem is not None:
        raise InvalidCommand(problem)


def _check_notional(qty: Decimal, price: Decimal, instrument: InstrumentInfo) -> None:
    problem = notional_problem(qty, price, Filters.of(instrument))
    if problem is not None:
        raise InvalidCommand(problem)


def _check_tp_sl(side: Side, price: Decimal | None, take_profit: Decimal | None,
                 stop_loss: Decimal | None, instrument: InstrumentInfo) -> None:
    for name, value in (("take-profit", take_profit), ("stop-loss", stop_loss)):
        if value is not None:
            _check_price(name, value, instrument)
    if price is None:
        return
    buy = side is Side.BUY
    if take_profit is not None and (take_profit <= price if buy else take_profit >= price):
        raise InvalidCommand(f"take-profit {take_profit} must be {'above' if buy else 'below'} "
                             f"the price {price} of a {side} order")
    if stop_loss is not None and (stop_loss >= price if buy else stop_loss <= price):
        raise InvalidCommand(f"stop-loss {stop_loss} must be {'below' if buy else 'above'} "
                             f"the price {price} of a {side} order")


def _instrument(command: Event, instrument: InstrumentInfo | None) -> InstrumentInfo:
    if instrument is None:
        raise InvalidCommand(f"unknown symbol {command.symbol} on {command.venue}")
    if command.venue and instrument.venue and command.venue != instrument.venue:
        raise InvalidCommand(f"command for {command.venue} given to {instrument.venue}")
    if not instrument.trading:
        raise InvalidCommand(f"{instrument.symbol} is not trading on {instrument.venue}")
    return instrument


def _client_order_id(cid: str, exchange: str | None) -> None:
    problem = client_order_id_problem(cid, exchange)
    if problem is not None:
        raise InvalidCommand(problem)


# ====================================================================== the commands

P = ParamSpec("P")
R = TypeVar("R")


def _wide(fn: Callable[P, R]) -> Callable[P, R]:
    """Decimal precision for numbers of up to 40+40 digits: `%` and `*` stay exact."""

    @wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with localcontext() as ctx:
            ctx.prec = 200
            return fn(*args, **kwargs)

    return run



@_wide
def validate_create(command: CreateOrder, instrument: InstrumentInfo | None, *,
                    exchange: str | None,
                    reference_price: Decimal | None = None) -> ValidCreate:
    """A CreateOrder checked against its instrument; `exchange` (a registered exchange) picks
    the client order id rule, None the portable one every exchange accepts."""
    order = _model(ValidCreate, command)
    info = _instrument(command, instrument)
    if order.reduce_only and info.market_type is MarketType.SPOT:
        raise InvalidCommand("reduce-only is not available on spot")
    if order.price is not None:
        _check_price("price", order.price, info)
    _check_qty("quantity", order.qty, info)
    notional_price = order.price if order.price is not None else reference_price
    if notional_price is not None:
        _check_notional(order.qty, notional_price, info)
    _check_tp_sl(order.side, order.price, order.take_profit, order.stop_loss, info)
    cid = order.client_order_id or client_order_id_for(order.command_id, exchange=exchange)
    _client_order_id(cid, exchange)
    return order.model_copy(update={"client_order_id": cid,
                                    "native_symbol": info.native_symbol})


@_wide
def validate_amend(command: AmendOrder, instrument: InstrumentInfo | None, *,
                   current: KnownOrder | None = None) -> ValidAmend:
    """An AmendOrder checked against its instrument and, when known, the order's state."""
    amend = _model(ValidAmend, command)
    info = _instrument(command, instrument)
    if amend.new_price is not None:
        _check_price("new price", amend.new_price, info)
    if amend.new_qty is not None:
        _check_qty("new quantity", amend.new_qty, info)
    if current is not None:
        qty = amend.new_qty if amend.new_qty is not None else current.qty
        price = amend.new_price if amend.new_price is not None else current.price
        if amend.new_qty is not None and amend.new_qty <= current.filled_qty:
            raise InvalidCommand(f"new quantity {amend.new_qty} is not above the filled "
                                 f"quantity {current.filled_qty}")
        if (amend.new_qty in (None, current.qty) and amend.new_price in (None, current.price)
                and amend.new_take_profit is None and amend.new_stop_loss is None):
            raise InvalidCommand("the amendment gives the order's current values")
        if price is not None:
            _check_notional(qty, price, info)
        _check_tp_sl(current.side, price, amend.new_take_profit, amend.new_stop_loss, info)
    else:
        for name, value in (("take-profit", amend.new_take_profit),
                            ("stop-loss", amend.new_stop_loss)):
            if value is not None:
                _check_price(name, value, info)
    return amend.model_copy(update={"native_symbol": info.native_symbol})


@_wide
def validate_cancel(command: CancelOrder, instrument: InstrumentInfo | None) -> ValidCancel:
    cancel = _model(ValidCancel, command)
    info = _instrument(command, instrument) if instrument is not None else None
    native = info.native_symbol if info is not None else command.native_symbol
    if info is None and not native:
        raise InvalidCommand(f"unknown symbol {command.symbol} on {command.venue}")
    return cancel.model_copy(update={"native_symbol": native})


@_wide
def validate_cancel_all(command: CancelAllOrders,
                        instrument: InstrumentInfo | None = None) -> ValidCancelAll:
    """`symbol` "" cancels on the whole venue; a named symbol must be known."""
    cancel_all = _model(ValidCancelAll, command)
    if not command.symbol:
        return cancel_all
    info = _instrument(command, instrument)
    return cancel_all.model_copy(update={"native_symbol": info.native_symbol})
