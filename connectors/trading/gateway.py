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
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from ttxt_kafka.credentials import Credentials
from ttxt_kafka.events import Event, OrderUpdate
from ttxt_kafka.orders.errors import ErrorKind, ExchangeFailure
from ttxt_kafka.orders.normalize import PARSE_ERRORS
from ttxt_kafka.orders.requests import RestCall
from ttxt_kafka.orders.state import KnownOrder
from ttxt_kafka.orders.validation import ValidAmend, ValidCancel, ValidCancelAll, ValidCreate

from ..base.errors import ExchangeError, ExchangeMessageError, MalformedMessage, RateLimitedError
from ..base.ratelimit import WeightLimiter
from ..base.rest import ErrorParser, RestClient, RestRequest
from ..base.wire import encode_query, json_body


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


T = TypeVar("T")

# An exchange's classification of its own error code: (code, message, HTTP status) -> failure.
Classify = Callable[[str, str, "int | None"], ExchangeFailure]


def failure_from(exc: ExchangeError, classify: Classify) -> ExchangeFailure:
    """A REST error as the executor sees it: the exchange's coded refusal (by `classify`), a
    rate limit, an unknown outcome (no answer, 5xx without a code) or another HTTP error."""
    if exc.code:
        return classify(exc.code, exc.message, exc.status)
    if isinstance(exc, RateLimitedError):
        return ExchangeFailure(str(exc.status), exc.message, ErrorKind.RATE_LIMIT, exc.status)
    if exc.status is None or exc.status >= 500:
        return transport_failure(str(exc))
    return ExchangeFailure(str(exc.status), exc.message, ErrorKind.OTHER, exc.status)


class RestGateway(Gateway, ABC):
    """A gateway whose every call is one signed REST request with a JSON body (Bitget,
    KuCoin): `_call` answers the parsed body, or the exchange's failure."""

    rest: RestClient

    @abstractmethod
    def classify(self, code: str, message: str, http_status: int | None) -> ExchangeFailure:
        """The exchange's failure for its error code."""

    async def close(self) -> None:
        await self.rest.close()

    async def _call(self, call: RestCall) -> Any:
        return await send_signed(self.rest, call, self.classify)

    async def _each(self, calls: Iterable[RestCall]) -> Result:
        """Calls in turn (cancel-all per symbol): the first failure, or Placed."""
        for call in calls:
            body = await self._call(call)
            if isinstance(body, ExchangeFailure):
                return body
        return Placed()

    async def _read(self, call: RestCall, read: Callable[[Any], T], what: str
                    ) -> T | ExchangeFailure:
        """One call's body read by `read`; a body that does not read is an unknown outcome."""
        body = await self._call(call)
        if isinstance(body, ExchangeFailure):
            return body
        try:
            return read(body)
        except (*PARSE_ERRORS, MalformedMessage, ExchangeMessageError) as exc:
            return transport_failure(f"unreadable {what}: {exc}")

    async def _query_one(self, call: RestCall, read: Callable[[Any], list[OrderUpdate]]
                         ) -> OrderUpdate | None | ExchangeFailure:
        """The order an order query finds; None when the exchange says it does not exist."""
        found = await self._read(call, read, "order")
        if isinstance(found, ExchangeFailure):
            return None if found.kind is ErrorKind.UNKNOWN_ORDER else found
        return found[0] if found else None


async def send_signed(rest: RestClient, call: RestCall, classify: Classify) -> Any:
    """One signed JSON-body REST call outside a `RestGateway` (the client's signing hook signs
    what is sent): the parsed body, or the ExchangeFailure."""
    body = json_body(call.body) if call.body is not None else None
    try:
        return await rest.request(call.method, call.path, dict(call.params), body=body,
                                  weight=call.weight, signed=True)
    except ExchangeError as exc:
        return failure_from(exc, classify)


class PrehashRestGateway(Gateway):
    """A gateway over REST signed per request by the exchange's `sign_rest(credentials, method,
    path, query, body, timestamp_ms=...)` -> headers, over exactly what is sent: the encoded
    query of a GET, the JSON body of a POST (OKX; Bitget hashes the same timestamp + METHOD +
    path + query + body, and its gateway could stand on this too). The exchange module supplies
    `sign_rest`, `parse_response` (its order answer -> a result with `order_id`,
    `client_order_id`, `exchange_ts`, or an ExchangeFailure) and `failure` (its `Classify`
    table); order requests are never retried blindly."""

    sign_rest: ClassVar[Callable[..., dict[str, str]]]
    parse_response: ClassVar[Callable[..., Any]]  # (body) -> result | ExchangeFailure
    failure: ClassVar[Callable[..., ExchangeFailure]]  # its Classify table
    credentials: Credentials
    clock_ms: Callable[[], int]
    rest: RestClient

    def _rest_client(self, name: str, rest_base: str, error_parser: ErrorParser, timeout: float,
                     limiter: WeightLimiter | None) -> RestClient:
        return RestClient(name, rest_base, limiter=limiter, sign=self._sign,
                          error_parser=error_parser, timeout=timeout, retries=0)

    async def close(self) -> None:
        await self.rest.close()

    def _sign(self, req: RestRequest) -> RestRequest:
        query = encode_query(list(req.params.items())) if req.params else ""
        headers = type(self).sign_rest(self.credentials, req.method, req.path, query,
                                       req.body or "", timestamp_ms=self.clock_ms())
        return req.with_(params={}, query=query, headers={**req.headers, **headers})

    async def _call(self, call: RestCall) -> Any:
        """The parsed body, or an ExchangeFailure."""
        return await send_signed(self.rest, call, type(self).failure)

    async def _order_call(self, call: RestCall) -> Result:
        answer = await self._call(call)
        if isinstance(answer, ExchangeFailure):
            return answer
        result = type(self).parse_response(answer)
        if isinstance(result, ExchangeFailure):
            return result
        return Placed(result.order_id, result.client_order_id, result.exchange_ts)
