"""What the executor asks of an exchange (or of the paper engine): the `Gateway` interface and
its answers.

Every call returns an answer instead of raising on an exchange refusal: `Placed` (the exchange
took the request; the order's ids as it reported them) or the phase-1 `ExchangeFailure` (its
code, message and kind: a rejection, or something worth retrying or querying). Transport
failures become `ExchangeFailure(kind=UNKNOWN_OUTCOME)`: the request may or may not have
arrived, so the executor asks by client order id before sending it again.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass

from ttxt_kafka.events import Event, OrderUpdate
from ttxt_kafka.orders.errors import ErrorKind, ExchangeFailure
from ttxt_kafka.orders.state import KnownOrder
from ttxt_kafka.orders.validation import ValidAmend, ValidCancel, ValidCancelAll, ValidCreate

from ..base.errors import ExchangeError, RateLimitedError


@dataclass(frozen=True, slots=True)
class Placed:
    order_id: str | None = None
    client_order_id: str | None = None
    exchange_ts: int | None = None  # microseconds
    note: str = ""  # e.g. why nothing was sent ("already placed")


Result = Placed | ExchangeFailure


def transport_failure(message: str) -> ExchangeFailure:
    """The request's fate is unknown (network error, timeout, 5xx without a code)."""
    return ExchangeFailure("NETWORK", message[:300], ErrorKind.UNKNOWN_OUTCOME, None)


def rest_failure(exc: ExchangeError,
                 failure: Callable[[str, str, int | None], ExchangeFailure]) -> ExchangeFailure:
    """A REST error as a failure: by the exchange's own code (`failure`, its classifier: Bitget,
    OKX) when the answer has one, else by what HTTP said."""
    if exc.code:
        return failure(exc.code, exc.message, exc.status)
    if isinstance(exc, RateLimitedError):
        return ExchangeFailure(str(exc.status), exc.message, ErrorKind.RATE_LIMIT, exc.status)
    if exc.status is None or exc.status >= 500:
        return transport_failure(str(exc))
    return ExchangeFailure(str(exc.status), exc.message, ErrorKind.OTHER, exc.status)


class Gateway(ABC):
    """One venue's trading calls. `exchange` names the client order id rules ("binance"...)."""

    exchange: str
    # The exchange amends only an order whose side, price and quantity the request repeats
    # (Binance): the order must be known to us, or found open on the exchange, first.
    amend_needs_known_order: bool = False

    async def start(self) -> None:  # noqa: B027 - optional hook
        """Open sessions / sockets."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Close them."""

    @abstractmethod
    async def create(self, order: ValidCreate) -> Result: ...

    @abstractmethod
    async def cancel(self, cancel: ValidCancel) -> Result: ...

    @abstractmethod
    async def amend(self, amend: ValidAmend, current: KnownOrder | None) -> Result: ...

    @abstractmethod
    async def cancel_all(self, cancel: ValidCancelAll, open_symbols: list[str]) -> Result:
        """Cancel a symbol's orders, or (symbol "") every open order of the venue."""

    @abstractmethod
    async def query(self, native_symbol: str, *, client_order_id: str | None = None,
                    order_id: str | None = None) -> OrderUpdate | None | ExchangeFailure:
        """The order as the exchange knows it (any status), None when it does not exist."""

    @abstractmethod
    async def open_orders(self) -> list[OrderUpdate] | ExchangeFailure: ...

    @abstractmethod
    async def account(self) -> list[Event] | ExchangeFailure:
        """Wallet snapshot(s), and positions on derivatives venues."""
