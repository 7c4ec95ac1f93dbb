"""`Strategy`: the class users write. Handler methods, a subscription, parameters, and `ctx`.

    class SpreadMonitor(Strategy):
        venues = ["binance"]
        symbols = ["BTC/USDT"]          # empty: every symbol on the venue's topics
        channels = ["book"]             # topics read: book, trades, klines, bbo, status,
                                        #   executions (its own orders), account
        threshold_bps = Decimal("5")    # a parameter: `--param threshold_bps=8` sets it

        def on_orderbook(self, event):
            book = self.ctx.book(event.symbol)
            ...

Handlers are the `IEventHandler` methods (`on_orderbook`, `on_trades`, `on_kline`, `on_bbo`,
`on_order_ack`, `on_order_update`, `on_fill`, `on_wallet`, `on_position`,
`on_connector_status`, ...) plus `on_start`, `on_stop` and `on_timer(now_us)`; each may be
plain or `async`. The runtime sets `self.ctx` (a `Context`) before `on_start`.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, ClassVar

from ttxt_kafka.handler import IEventHandler

if TYPE_CHECKING:
    from .context import Context


class ParamError(ValueError):
    """A strategy parameter that does not exist or does not convert to its type."""


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def coerce(name: str, value: Any, default: Any) -> Any:
    """A parameter value (often a CLI string) converted to the type of its default."""
    if not isinstance(value, str) or isinstance(default, str) or default is None:
        if isinstance(value, float) and isinstance(default, Decimal):
            raise ParamError(f"{name}: give a string or Decimal, not a float (exact prices)")
        return value
    try:
        if isinstance(default, bool):
            low = value.strip().lower()
            if low not in _TRUE | _FALSE:
                raise ValueError(value)
            return low in _TRUE
        if isinstance(default, Decimal):
            return Decimal(value)
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
        if isinstance(default, list | tuple):
            return type(default)(x.strip() for x in value.split(",") if x.strip())
    except (ValueError, InvalidOperation) as exc:
        raise ParamError(f"{name}={value!r}: not a {type(default).__name__}") from exc
    return value


class Strategy(IEventHandler):
    """Base class of strategies. Override handlers; declare venues, symbols, channels."""

    venues: Sequence[str] = ()
    symbols: Sequence[str] = ()  # empty: every symbol found on the topics
    channels: Sequence[str] = ("book",)
    timer_interval: float | None = None  # seconds of event time between on_timer calls
    book_depth: int | None = None  # keep at most this many levels per side (None: all)
    # Seconds of event time replayed through the handlers, output dropped, when this instance
    # gets a partition of a non-book topic: rebuilds state the strategy keeps itself.
    warmup: float = 0.0
    # Seconds (wall clock) an order command may wait for its connector: past them it is never
    # sent (acked REJECTED `expired`). None: the connector's trading.command_max_age.
    command_expiry: float | None = 30.0

    # Not parameters: the runtime's attributes and the handler methods.
    _NOT_PARAMS: ClassVar[frozenset[str]] = frozenset({"ctx", "name"})

    ctx: Context

    def __init__(self, **params: Any) -> None:
        known = self.params()
        for name, value in params.items():
            if name not in known:
                raise ParamError(f"{type(self).__name__} has no parameter {name!r} "
                                 f"(it has: {', '.join(sorted(known))})")
            setattr(self, name, coerce(name, value, known[name]))

    @property
    def name(self) -> str:
        return type(self).__name__

    @classmethod
    def params(cls) -> dict[str, Any]:
        """Parameter names and defaults: the public, non-callable class attributes."""
        found: dict[str, Any] = {}
        for klass in reversed(cls.__mro__):
            for key, value in vars(klass).items():
                if (key.startswith("_") or key in cls._NOT_PARAMS or callable(value)
                        or isinstance(value, property | classmethod | staticmethod)):
                    continue
                found[key] = value
        return found

    # Lifecycle hooks (plain or async), called by the runtime.

    def on_start(self) -> Any:
        """Before the first event; `self.ctx` is set."""

    def on_stop(self) -> Any:
        """When the runtime stops; commands sent here still go out (cancel quotes, say)."""

    def on_symbols_lost(self, symbols: list[tuple[str, str]]) -> Any:
        """The group gave these (venue, symbol)s' partitions to another instance: stop acting
        on them (cancel their quotes, forget partial state). Their books are gone already."""

    def on_timer(self, now_us: int) -> Any:
        """Every `timer_interval` seconds of event time (the exchange clock, also in backtests),
        per source partition: `now_us` is the time of the partition whose clock moved on."""
