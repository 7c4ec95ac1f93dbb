"""Bitget v2 trading error codes: classification (connector side) and the codes the simulator
answers with for each matching-engine reason (exchange side).

Source: Bitget v2 "Error codes" (common 4xxxx; spot 43xxx; mix 40xxx/45xxx). HTTP 429 is the
rate limit (code "429"). Success is code "00000".
"""

from __future__ import annotations

from ttxt_kafka.orders.errors import ErrorKind, ExchangeFailure

_BY_CODE: dict[str, ErrorKind] = {
    "40006": ErrorKind.AUTH,  # Invalid ACCESS_KEY
    "40008": ErrorKind.TIMESTAMP,  # Request timestamp expired
    "40009": ErrorKind.AUTH,  # sign signature error
    "40012": ErrorKind.AUTH,  # apikey/password is incorrect
    "40014": ErrorKind.AUTH,  # Incorrect permissions
    "40017": ErrorKind.INVALID_REQUEST,  # Parameter verification exception
    "40034": ErrorKind.INVALID_REQUEST,  # Parameter does not exist
    "40725": ErrorKind.SERVER_BUSY,  # service return an error
    "40757": ErrorKind.REDUCE_ONLY_REJECTED,  # Not enough position is available
    "40762": ErrorKind.INSUFFICIENT_BALANCE,  # The order amount exceeds the balance
    "40768": ErrorKind.UNKNOWN_ORDER,  # Order does not exist
    "40786": ErrorKind.DUPLICATE_ORDER,  # Duplicate clientOid
    "43001": ErrorKind.UNKNOWN_ORDER,  # The order does not exist
    "43012": ErrorKind.INSUFFICIENT_BALANCE,  # Insufficient balance
    "45110": ErrorKind.INVALID_REQUEST,  # less than the minimum order quantity
    "429": ErrorKind.RATE_LIMIT,  # Too Many Requests
}


def classify(code: str, http_status: int | None = None) -> ErrorKind:
    if http_status == 429:
        return ErrorKind.RATE_LIMIT
    if code in _BY_CODE:
        return _BY_CODE[code]
    if code.startswith(("43", "45")) or code.startswith("407"):
        return ErrorKind.INVALID_REQUEST  # order parameter / rule errors
    return ErrorKind.OTHER


def failure(code: str, message: str, http_status: int | None = None) -> ExchangeFailure:
    return ExchangeFailure(code, message, classify(code, http_status), http_status)


# ---------------------------------------------------------------- simulator side

# Matching-engine reason (ttxt_kafka.matching.Reason value) -> (code, msg), USDT-M.
MIX_REJECTS: dict[str, tuple[str, str]] = {
    "UNKNOWN_SYMBOL": ("40034", "Parameter does not exist"),
    "INVALID_QUANTITY": ("45110", "less than the minimum order quantity"),
    "INVALID_PRICE": ("40017", "Parameter verification exception price"),
    "MIN_NOTIONAL": ("45110", "less than the minimum order amount"),
    "INVALID_ORDER": ("40017", "Parameter verification exception"),
    "DUPLICATE_CLIENT_ORDER_ID": ("40786", "Duplicate clientOid"),
    "INSUFFICIENT_BALANCE": ("40762", "The order amount exceeds the balance"),
    "UNKNOWN_ORDER": ("40768", "Order does not exist"),
    "REDUCE_ONLY_REJECTED": ("40757", "Not enough position is available"),
    "AMEND_NO_CHANGE": ("40017", "Parameter verification exception: nothing to modify"),
    "AMEND_QTY_TOO_LOW": ("40017", "Parameter verification exception newSize"),
    "POST_ONLY_WOULD_TAKE": ("40017", "post_only order would take liquidity"),
}
# Spot where it differs.
SPOT_REJECTS: dict[str, tuple[str, str]] = {
    **MIX_REJECTS,
    "INSUFFICIENT_BALANCE": ("43012", "Insufficient balance"),
    "UNKNOWN_ORDER": ("43001", "The order does not exist"),
}
