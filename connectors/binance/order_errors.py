"""Binance trading error codes: classification (connector side) and the codes the simulator
answers with for each matching-engine reason (exchange side), in one table.

Sources: spot `errors.md` and USD-M "Error Codes" (error -2010 NEW_ORDER_REJECTED is one code
for several causes, told apart by its message).
"""

from __future__ import annotations

from ttxt_kafka.orders.errors import ErrorKind, ExchangeFailure

# spot -2010 messages (as Binance writes them)
MSG_INSUFFICIENT = "Account has insufficient balance for requested action."
MSG_DUPLICATE = "Duplicate order sent."
MSG_WOULD_TAKE = "Order would immediately match and take."
MSG_UNKNOWN_ORDER = "Unknown order sent."
MSG_NO_SUCH_ORDER = "Order does not exist."

_BY_CODE: dict[int, ErrorKind] = {
    -1000: ErrorKind.UNKNOWN_OUTCOME,  # UNKNOWN: an unknown error occurred
    -1003: ErrorKind.RATE_LIMIT,  # TOO_MANY_REQUESTS
    -1006: ErrorKind.UNKNOWN_OUTCOME,  # UNEXPECTED_RESP: execution status unknown
    -1007: ErrorKind.UNKNOWN_OUTCOME,  # TIMEOUT: send status unknown
    -1008: ErrorKind.SERVER_BUSY,  # SERVER_BUSY / request throttled by system
    -1015: ErrorKind.RATE_LIMIT,  # TOO_MANY_ORDERS
    -1021: ErrorKind.TIMESTAMP,  # INVALID_TIMESTAMP
    -1022: ErrorKind.AUTH,  # INVALID_SIGNATURE
    -2011: ErrorKind.UNKNOWN_ORDER,  # CANCEL_REJECTED: Unknown order sent.
    -2013: ErrorKind.UNKNOWN_ORDER,  # NO_SUCH_ORDER
    -2014: ErrorKind.AUTH,  # BAD_API_KEY_FMT
    -2015: ErrorKind.AUTH,  # REJECTED_MBX_KEY
    -2018: ErrorKind.INSUFFICIENT_BALANCE,  # USD-M: balance is insufficient
    -2019: ErrorKind.INSUFFICIENT_BALANCE,  # USD-M: margin is insufficient
    -2022: ErrorKind.REDUCE_ONLY_REJECTED,  # USD-M: ReduceOnly Order is rejected
    -4116: ErrorKind.DUPLICATE_ORDER,  # USD-M: ClientOrderId is duplicated
    -5022: ErrorKind.POST_ONLY_REJECTED,  # USD-M: post-only order would not be maker
}
_BY_MESSAGE: dict[str, ErrorKind] = {
    MSG_INSUFFICIENT: ErrorKind.INSUFFICIENT_BALANCE,
    MSG_DUPLICATE: ErrorKind.DUPLICATE_ORDER,
    MSG_WOULD_TAKE: ErrorKind.POST_ONLY_REJECTED,
    MSG_UNKNOWN_ORDER: ErrorKind.UNKNOWN_ORDER,
    MSG_NO_SUCH_ORDER: ErrorKind.UNKNOWN_ORDER,
}


def classify(code: int, message: str, http_status: int | None = None) -> ErrorKind:
    if http_status in (418, 429):
        return ErrorKind.RATE_LIMIT
    if message in _BY_MESSAGE and code in (-2010, -2011, -2013):
        return _BY_MESSAGE[message]
    if code in _BY_CODE:
        return _BY_CODE[code]
    if -1199 <= code <= -1100 or code == -1013 or -4999 <= code <= -4000:
        return ErrorKind.INVALID_REQUEST  # parameter errors, filter failures
    if http_status is not None and http_status >= 500:
        return ErrorKind.UNKNOWN_OUTCOME
    return ErrorKind.OTHER


def failure(code: int, message: str, http_status: int | None = None) -> ExchangeFailure:
    return ExchangeFailure(str(code), message, classify(code, message, http_status), http_status)


# ---------------------------------------------------------------- simulator side

# Matching-engine reason (ttxt_kafka.matching.Reason value) -> (code, message), spot.
SPOT_REJECTS: dict[str, tuple[int, str]] = {
    "UNKNOWN_SYMBOL": (-1121, "Invalid symbol."),
    "INVALID_QUANTITY": (-1013, "Filter failure: LOT_SIZE"),
    "INVALID_PRICE": (-1013, "Filter failure: PRICE_FILTER"),
    "MIN_NOTIONAL": (-1013, "Filter failure: NOTIONAL"),
    "INVALID_ORDER": (-1106, "Parameter sent when not required."),
    "POST_ONLY_WOULD_TAKE": (-2010, MSG_WOULD_TAKE),
    "DUPLICATE_CLIENT_ORDER_ID": (-2010, MSG_DUPLICATE),
    "INSUFFICIENT_BALANCE": (-2010, MSG_INSUFFICIENT),
    "UNKNOWN_ORDER": (-2011, MSG_UNKNOWN_ORDER),
    # keepPriority amend: the new quantity must be below the order's (approximation)
    "AMEND_NO_CHANGE": (-1013, "Invalid quantity."),
    "AMEND_QTY_TOO_LOW": (-1013, "Invalid quantity."),
    "REDUCE_ONLY_REJECTED": (-1106, "Parameter 'reduceOnly' sent when not required."),
}
# USD-M where it differs from spot.
USDM_REJECTS: dict[str, tuple[int, str]] = {
    **SPOT_REJECTS,
    "MIN_NOTIONAL": (-4164, "Order's notional must be no smaller than 5 (unless you choose "
                            "reduce only)."),
    "POST_ONLY_WOULD_TAKE": (-5022, "Due to the order could not be executed as maker, the Post "
                                    "Only order will be rejected. The order will not be "
                                    "recorded in the order history"),
    "DUPLICATE_CLIENT_ORDER_ID": (-4116, "ClientOrderId is duplicated."),
    "INSUFFICIENT_BALANCE": (-2019, "Margin is insufficient."),
    "REDUCE_ONLY_REJECTED": (-2022, "ReduceOnly Order is rejected."),
    "AMEND_NO_CHANGE": (-5027, "No need to modify the order."),
    "AMEND_QTY_TOO_LOW": (-4003, "Quantity less than or equal to zero."),
}
