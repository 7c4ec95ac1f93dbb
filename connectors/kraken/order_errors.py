"""Kraken spot trading errors: classification (connector side) and the errors the simulator
answers with for each matching-engine reason (exchange side).

Kraken's errors are strings `<severity><category>:<message>` (REST `{"error": [...]}`, WS v2
`{"success": false, "error": "..."}`); the whole string is the code on a rejected ack
(`EOrder:Insufficient funds`). From Kraken's spot error list: EAPI:Invalid key / signature /
nonce, EAPI:Rate limit exceeded, EOrder:Rate limit exceeded, EOrder:Insufficient funds,
EOrder:Unknown order, EOrder:Order minimum not met, EOrder:Cost minimum not met,
EOrder:Post only order, EGeneral:Invalid arguments, EQuery:Unknown asset pair,
EService:Unavailable / Busy, EGeneral:Internal error. Kraken documents no message of its own
for a cl_ord_id used twice; the simulator answers `EOrder:Duplicate cl_ord_id` and the connector
reads that.
"""

from __future__ import annotations

from ttxt_kafka.orders.errors import ErrorKind, ExchangeFailure

DUPLICATE = "EOrder:Duplicate cl_ord_id"
_BY_ERROR: dict[str, ErrorKind] = {
    "EOrder:Insufficient funds": ErrorKind.INSUFFICIENT_BALANCE,
    "EOrder:Unknown order": ErrorKind.UNKNOWN_ORDER,
    "EOrder:Post only order": ErrorKind.POST_ONLY_REJECTED,
    "EAPI:Invalid key": ErrorKind.AUTH,
    "EAPI:Invalid signature": ErrorKind.AUTH,
    "EAPI:Invalid token": ErrorKind.AUTH,
    "EAPI:Invalid nonce": ErrorKind.TIMESTAMP,  # a nonce not above the last: sign again
    "EGeneral:Permission denied": ErrorKind.AUTH,
    "EAPI:Rate limit exceeded": ErrorKind.RATE_LIMIT,
    "EOrder:Rate limit exceeded": ErrorKind.RATE_LIMIT,
    "EGeneral:Too many requests": ErrorKind.RATE_LIMIT,
    "EService:Unavailable": ErrorKind.SERVER_BUSY,
    "EService:Busy": ErrorKind.SERVER_BUSY,
    "EGeneral:Internal error": ErrorKind.UNKNOWN_OUTCOME,
    "EService:Deadline elapsed": ErrorKind.UNKNOWN_OUTCOME,
    DUPLICATE: ErrorKind.DUPLICATE_ORDER,
}
_INVALID_PREFIXES = ("EGeneral:Invalid arguments", "EOrder:Order minimum not met",
                     "EOrder:Cost minimum not met", "EOrder:Invalid price", "EOrder:Invalid",
                     "EQuery:Unknown asset pair")


def classify(error: str, http_status: int | None = None) -> ErrorKind:
    if http_status == 429:
        return ErrorKind.RATE_LIMIT
    kind = _BY_ERROR.get(error)
    if kind is not None:
        return kind
    if error.startswith(_INVALID_PREFIXES):
        return ErrorKind.INVALID_REQUEST
    if http_status is not None and http_status >= 500:
        return ErrorKind.UNKNOWN_OUTCOME
    return ErrorKind.OTHER


def failure(error: str, http_status: int | None = None) -> ExchangeFailure:
    return ExchangeFailure(error, error, classify(error, http_status), http_status)


def rest_failure(code: str, message: str, http_status: int | None = None) -> ExchangeFailure:
    """The REST client's (prefix, whole error) pair: the whole string is what counts."""
    return failure(message or code, http_status)


# ---------------------------------------------------------------- simulator side

# Matching-engine reason (ttxt_kafka.matching.Reason value) -> Kraken's error string.
REJECTS: dict[str, str] = {
    "UNKNOWN_SYMBOL": "EQuery:Unknown asset pair",
    "INVALID_QUANTITY": "EGeneral:Invalid arguments:order_qty",
    "INVALID_PRICE": "EGeneral:Invalid arguments:limit_price",
    "MIN_NOTIONAL": "EOrder:Cost minimum not met",
    "INVALID_ORDER": "EGeneral:Invalid arguments",
    "DUPLICATE_CLIENT_ORDER_ID": DUPLICATE,
    "INSUFFICIENT_BALANCE": "EOrder:Insufficient funds",
    "UNKNOWN_ORDER": "EOrder:Unknown order",
    "REDUCE_ONLY_REJECTED": "EGeneral:Invalid arguments:reduce_only",
    "AMEND_NO_CHANGE": "EGeneral:Invalid arguments:nothing to amend",
    "AMEND_QTY_TOO_LOW": "EGeneral:Invalid arguments:order_qty",
    "POST_ONLY_WOULD_TAKE": "EOrder:Post only order",
}
