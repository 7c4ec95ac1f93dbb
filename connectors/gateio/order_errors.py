"""Gate.io v4 trading errors: classification (connector side) and the labels the simulator
answers with for each matching-engine reason (exchange side).

Gate answers an error with an HTTP 4xx/5xx status and `{"label": "BALANCE_NOT_ENOUGH",
"message": "..."}` (APIv4 docs "Error handling"): labels, not numbers, so the `error_code` on a
rejected ack is the label. HTTP 429 / TOO_MANY_REQUESTS is the rate limit.
"""

from __future__ import annotations

from ttxt_kafka.orders.errors import ErrorKind, ExchangeFailure

_BY_LABEL: dict[str, ErrorKind] = {
    "INVALID_KEY": ErrorKind.AUTH,
    "INVALID_SIGNATURE": ErrorKind.AUTH,
    "MISSING_REQUIRED_HEADER": ErrorKind.AUTH,
    "FORBIDDEN": ErrorKind.AUTH,
    "READ_ONLY": ErrorKind.AUTH,
    "IP_FORBIDDEN": ErrorKind.AUTH,
    "REQUEST_EXPIRED": ErrorKind.TIMESTAMP,
    "TOO_MANY_REQUESTS": ErrorKind.RATE_LIMIT,
    "TOO_BUSY": ErrorKind.SERVER_BUSY,
    "SERVER_ERROR": ErrorKind.UNKNOWN_OUTCOME,
    "INTERNAL": ErrorKind.UNKNOWN_OUTCOME,
    "BALANCE_NOT_ENOUGH": ErrorKind.INSUFFICIENT_BALANCE,
    "ORDER_NOT_FOUND": ErrorKind.UNKNOWN_ORDER,
    "ORDER_CLOSED": ErrorKind.UNKNOWN_ORDER,
    "ORDER_CANCELLED": ErrorKind.UNKNOWN_ORDER,
    "POC_FILL_IMMEDIATELY": ErrorKind.POST_ONLY_REJECTED,
}


def classify(label: str, http_status: int | None = None) -> ErrorKind:
    if http_status == 429:
        return ErrorKind.RATE_LIMIT
    if label in _BY_LABEL:
        return _BY_LABEL[label]
    if http_status is not None and 400 <= http_status < 500:
        return ErrorKind.INVALID_REQUEST  # INVALID_PARAM_VALUE, AMOUNT_TOO_LITTLE, ...
    return ErrorKind.OTHER


def failure(label: str, message: str, http_status: int | None = None) -> ExchangeFailure:
    return ExchangeFailure(label, message, classify(label, http_status), http_status)


# ---------------------------------------------------------------- simulator side

# Matching-engine reason (ttxt_kafka.matching.Reason value) -> (label, message).
REJECTS: dict[str, tuple[str, str]] = {
    "UNKNOWN_SYMBOL": ("INVALID_CURRENCY_PAIR", "Invalid currency pair"),
    "INVALID_QUANTITY": ("INVALID_PRECISION", "Invalid amount precision"),
    "INVALID_PRICE": ("INVALID_PRECISION", "Invalid price precision"),
    "MIN_NOTIONAL": ("AMOUNT_TOO_LITTLE", "Order amount is too little"),
    "INVALID_ORDER": ("INVALID_PARAM_VALUE", "Invalid parameter value"),
    "DUPLICATE_CLIENT_ORDER_ID": ("INVALID_PARAM_VALUE", "Duplicate text"),
    "INSUFFICIENT_BALANCE": ("BALANCE_NOT_ENOUGH", "Not enough balance"),
    "UNKNOWN_ORDER": ("ORDER_NOT_FOUND", "Order not found"),
    "AMEND_NO_CHANGE": ("INVALID_PARAM_VALUE", "Nothing to amend"),
    "AMEND_QTY_TOO_LOW": ("INVALID_PARAM_VALUE", "Amount below the filled amount"),
    "POST_ONLY_WOULD_TAKE": ("POC_FILL_IMMEDIATELY", "Order would match immediately"),
}
