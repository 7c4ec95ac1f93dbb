"""MEXC spot v3 trading error codes: classification (connector side) and the codes the simulator
answers with for each matching-engine reason (exchange side).

Answers are `{"code": n, "msg": "..."}` with an HTTP 4xx (5xx: MEXC's side, outcome unknown).
Codes from MEXC's spot v3 error list: -2011 unknown order, 10007 bad symbol, 10072 invalid API
key, 10073 / 700003 request time outside the window, 10101 insufficient balance, 30002 below the
minimum transaction volume, 602 / 700002 signature, 429 rate limit, 33333 parameter error.
MEXC documents no code of its own for a client order id used twice; the simulator answers
33333 with the message "clientOrderId is duplicated", and the connector reads that message.
"""

from __future__ import annotations

from ttxt_kafka.orders.errors import ErrorKind, ExchangeFailure

_BY_CODE: dict[str, ErrorKind] = {
    "-2011": ErrorKind.UNKNOWN_ORDER,  # Unknown order sent.
    "-2013": ErrorKind.UNKNOWN_ORDER,  # Order does not exist.
    "10007": ErrorKind.INVALID_REQUEST,  # bad symbol
    "10072": ErrorKind.AUTH,  # Api key info invalid
    "10073": ErrorKind.TIMESTAMP,  # invalid request time
    "10101": ErrorKind.INSUFFICIENT_BALANCE,  # Insufficient balance
    "30002": ErrorKind.INVALID_REQUEST,  # Minimum transaction volume cannot be less than
    "30000": ErrorKind.INVALID_REQUEST,  # Suspended transaction for the symbol
    "429": ErrorKind.RATE_LIMIT,  # Too many requests
    "602": ErrorKind.AUTH,  # Signature verification failed
    "700002": ErrorKind.AUTH,  # Signature for this request is not valid.
    "700003": ErrorKind.TIMESTAMP,  # Timestamp for this request is outside of the recvWindow.
    "33333": ErrorKind.INVALID_REQUEST,  # Parameter error
}
DUPLICATE = "clientOrderId is duplicated"


def classify(code: str, message: str = "", http_status: int | None = None) -> ErrorKind:
    if http_status == 429:
        return ErrorKind.RATE_LIMIT
    if DUPLICATE in message:
        return ErrorKind.DUPLICATE_ORDER
    if code in _BY_CODE:
        return _BY_CODE[code]
    if http_status is not None and http_status >= 500:
        return ErrorKind.UNKNOWN_OUTCOME
    return ErrorKind.OTHER


def failure(code: str, message: str, http_status: int | None = None) -> ExchangeFailure:
    return ExchangeFailure(code, message, classify(code, message, http_status), http_status)


# ---------------------------------------------------------------- simulator side

# Matching-engine reason (ttxt_kafka.matching.Reason value) -> (code, msg).
REJECTS: dict[str, tuple[str, str]] = {
    "UNKNOWN_SYMBOL": ("10007", "symbol not support api"),
    "INVALID_QUANTITY": ("30002", "Minimum transaction volume cannot be less than"),
    "INVALID_PRICE": ("33333", "Parameter error: price"),
    "MIN_NOTIONAL": ("30002", "Minimum transaction volume cannot be less than"),
    "INVALID_ORDER": ("33333", "Parameter error"),
    "DUPLICATE_CLIENT_ORDER_ID": ("33333", DUPLICATE),
    "INSUFFICIENT_BALANCE": ("10101", "Insufficient balance"),
    "UNKNOWN_ORDER": ("-2011", "Unknown order sent."),
    "REDUCE_ONLY_REJECTED": ("33333", "Parameter error: reduce-only on spot"),
    "AMEND_NO_CHANGE": ("33333", "Parameter error: nothing to change"),
    "AMEND_QTY_TOO_LOW": ("33333", "Parameter error: quantity"),
    "POST_ONLY_WOULD_TAKE": ("33333", "LIMIT_MAKER order would immediately match"),
}
