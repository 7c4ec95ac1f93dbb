"""Coinbase Advanced Trade trading errors: classification (connector side) and what the
simulator answers for each matching-engine reason (exchange side).

A refused order is HTTP 200 with `{"success": false, "failure_reason": ..., "error_response":
{"error": "INSUFFICIENT_FUND", "message": ..., "error_details": ..., "preview_failure_reason":
..., "new_order_failure_reason": ...}}`; a refused cancel is a `results` item with `success`
false and `failure_reason` (`UNKNOWN_CANCEL_ORDER`, ...); an edit answers `{"success": false,
"errors": [{"edit_failure_reason": ...}]}`; request-level errors are HTTP 4xx/5xx with
`{"error": "UNAUTHENTICATED" | "INVALID_ARGUMENT" | "NOT_FOUND" | ..., "message": ...}` (429
for the rate limit).
"""

from __future__ import annotations

from ttxt_kafka.orders.errors import ErrorKind, ExchangeFailure

_BY_CODE: dict[str, ErrorKind] = {
    "INSUFFICIENT_FUND": ErrorKind.INSUFFICIENT_BALANCE,
    "PREVIEW_INSUFFICIENT_FUND": ErrorKind.INSUFFICIENT_BALANCE,
    "UNKNOWN_CANCEL_ORDER": ErrorKind.UNKNOWN_ORDER,
    "ORDER_NOT_FOUND": ErrorKind.UNKNOWN_ORDER,
    "NOT_FOUND": ErrorKind.UNKNOWN_ORDER,
    "UNKNOWN_EDIT_ORDER": ErrorKind.UNKNOWN_ORDER,
    "DUPLICATE_CLIENT_ORDER_ID": ErrorKind.DUPLICATE_ORDER,
    "INVALID_LIMIT_PRICE_POST_ONLY": ErrorKind.POST_ONLY_REJECTED,
    "PREVIEW_INVALID_LIMIT_PRICE_POST_ONLY": ErrorKind.POST_ONLY_REJECTED,
    "UNAUTHENTICATED": ErrorKind.AUTH,
    "PERMISSION_DENIED": ErrorKind.AUTH,
    "RATE_LIMIT_EXCEEDED": ErrorKind.RATE_LIMIT,
    "INTERNAL": ErrorKind.UNKNOWN_OUTCOME,
    "UNAVAILABLE": ErrorKind.SERVER_BUSY,
}


def classify(code: str, http_status: int | None = None) -> ErrorKind:
    if http_status == 429:
        return ErrorKind.RATE_LIMIT
    if code in _BY_CODE:
        return _BY_CODE[code]
    if code.startswith(("INVALID_", "PREVIEW_INVALID", "UNSUPPORTED_", "ORDER_ENTRY_")) \
            or code == "INVALID_ARGUMENT":
        return ErrorKind.INVALID_REQUEST
    return ErrorKind.OTHER


def failure(code: str, message: str, http_status: int | None = None) -> ExchangeFailure:
    return ExchangeFailure(code, message, classify(code, http_status), http_status)


# ---------------------------------------------------------------- simulator side

# Matching-engine reason (ttxt_kafka.matching.Reason value) -> (error, message).
REJECTS: dict[str, tuple[str, str]] = {
    "UNKNOWN_SYMBOL": ("INVALID_PRODUCT_ID", "Invalid product_id"),
    "INVALID_QUANTITY": ("INVALID_SIZE_PRECISION", "Invalid order size"),
    "INVALID_PRICE": ("INVALID_PRICE_PRECISION", "Invalid limit price"),
    "MIN_NOTIONAL": ("INVALID_SIZE_PRECISION", "Order below the minimum size"),
    "INVALID_ORDER": ("INVALID_ARGUMENT", "Invalid order"),
    "DUPLICATE_CLIENT_ORDER_ID": ("DUPLICATE_CLIENT_ORDER_ID", "client_order_id already used"),
    "INSUFFICIENT_BALANCE": ("INSUFFICIENT_FUND", "Insufficient balance in source account"),
    "UNKNOWN_ORDER": ("UNKNOWN_CANCEL_ORDER", "Order not found"),
    "REDUCE_ONLY_REJECTED": ("INVALID_ARGUMENT", "reduce-only is not a spot order field"),
    "AMEND_NO_CHANGE": ("INVALID_ARGUMENT", "Edit changes nothing"),
    "AMEND_QTY_TOO_LOW": ("INVALID_ARGUMENT", "New size below the filled size"),
    "POST_ONLY_WOULD_TAKE": ("INVALID_LIMIT_PRICE_POST_ONLY", "Post-only order would cross"),
}
