"""Exchange answers to trading requests, classified once so the connector acts on a kind, not
on each exchange's codes: reject with the exchange's code and message, back off and retry
(rate limit, overload), or find out (the outcome is unknown: ask by client order id)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ErrorKind(StrEnum):
    INSUFFICIENT_BALANCE = "INSUFFICIENT_BALANCE"
    UNKNOWN_ORDER = "UNKNOWN_ORDER"
    DUPLICATE_ORDER = "DUPLICATE_ORDER"  # the client order id is already used: placed before?
    POST_ONLY_REJECTED = "POST_ONLY_REJECTED"
    REDUCE_ONLY_REJECTED = "REDUCE_ONLY_REJECTED"
    INVALID_REQUEST = "INVALID_REQUEST"  # the exchange refused a parameter or a filter
    RATE_LIMIT = "RATE_LIMIT"  # not processed: back off, then retry within a bound
    SERVER_BUSY = "SERVER_BUSY"  # not processed (overload, maintenance): retry later
    UNKNOWN_OUTCOME = "UNKNOWN_OUTCOME"  # may or may not have happened: query before retrying
    TIMESTAMP = "TIMESTAMP"  # outside the receive window: clock drift; re-sign and retry
    AUTH = "AUTH"  # key, signature or permission: not retryable
    OTHER = "OTHER"


RETRYABLE = frozenset({ErrorKind.RATE_LIMIT, ErrorKind.SERVER_BUSY, ErrorKind.TIMESTAMP})


@dataclass(frozen=True, slots=True)
class ExchangeFailure:
    """An exchange's refusal: its own code and message, and what kind of refusal it is."""

    code: str
    message: str
    kind: ErrorKind
    http_status: int | None = None

    @property
    def retryable(self) -> bool:
        """The request was not processed and may be sent again as is (re-signed)."""
        return self.kind in RETRYABLE

    @property
    def reason(self) -> str:
        return f"{self.message} (code {self.code})" if self.message else f"code {self.code}"
