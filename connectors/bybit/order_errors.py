"""Bybit v5 trading error codes: classification (connector side) and the codes the simulator
answers with for each matching-engine reason (exchange side).

Source: Bybit v5 "Error Codes" (general 10xxx, UTA/derivatives 110xxx, spot 170xxx). A post-only
order that would take is not refused by Bybit: it is accepted and then cancelled with
`rejectReason` EC_PostOnlyWillTakeLiquidity (the simulator's protocol renders it that way).
"""

from __future__ import annotations

from ttxt_kafka.orders.errors import ErrorKind, ExchangeFailure

_BY_CODE: dict[int, ErrorKind] = {
    10000: ErrorKind.UNKNOWN_OUTCOME,  # server timeout
    10001: ErrorKind.INVALID_REQUEST,  # request parameter error
    10002: ErrorKind.TIMESTAMP,  # request time exceeds the recv window
    10003: ErrorKind.AUTH,  # API key is invalid
    10004: ErrorKind.AUTH,  # error sign
    10005: ErrorKind.AUTH,  # permission denied
    10006: ErrorKind.RATE_LIMIT,  # too many visits
    10010: ErrorKind.AUTH,  # unmatched IP
    10016: ErrorKind.SERVER_BUSY,  # server error / service restarting
    10018: ErrorKind.RATE_LIMIT,  # exceeded the IP rate limit
    10429: ErrorKind.RATE_LIMIT,  # system-level frequency protection
    110001: ErrorKind.UNKNOWN_ORDER,  # order does not exist
    110004: ErrorKind.INSUFFICIENT_BALANCE,  # wallet balance is insufficient
    110007: ErrorKind.INSUFFICIENT_BALANCE,  # available balance is insufficient
    110012: ErrorKind.INSUFFICIENT_BALANCE,  # insufficient available balance
    110017: ErrorKind.REDUCE_ONLY_REJECTED,  # reduce-only rule not satisfied
    110072: ErrorKind.DUPLICATE_ORDER,  # OrderLinkedID is duplicate
    110079: ErrorKind.SERVER_BUSY,  # order is being processed, try again later
    170131: ErrorKind.INSUFFICIENT_BALANCE,  # spot: insufficient balance
    170141: ErrorKind.DUPLICATE_ORDER,  # spot: duplicate clientOrderId
    170213: ErrorKind.UNKNOWN_ORDER,  # spot: order does not exist
}


def classify(code: int, http_status: int | None = None) -> ErrorKind:
    if http_status in (403, 429):
        return ErrorKind.RATE_LIMIT
    if code in _BY_CODE:
        return _BY_CODE[code]
    if 110000 <= code < 200000:
        return ErrorKind.INVALID_REQUEST  # order parameter / rule errors
    return ErrorKind.OTHER


def failure(code: int, message: str, http_status: int | None = None) -> ExchangeFailure:
    return ExchangeFailure(str(code), message, classify(code, http_status), http_status)


# ---------------------------------------------------------------- simulator side

# Matching-engine reason (ttxt_kafka.matching.Reason value) -> (retCode, retMsg), linear.
LINEAR_REJECTS: dict[str, tuple[int, str]] = {
    "UNKNOWN_SYMBOL": (10001, "params error: symbol invalid"),
    "INVALID_QUANTITY": (10001, "The number of contracts exceeds minimum limit allowed"),
    "INVALID_PRICE": (10001, "params error: price invalid"),
    "MIN_NOTIONAL": (110094, "Order does not meet minimum order value"),
    "INVALID_ORDER": (10001, "params error"),
    "DUPLICATE_CLIENT_ORDER_ID": (110072, "OrderLinkedID is duplicate"),
    "INSUFFICIENT_BALANCE": (110007, "ab not enough for new order"),
    "UNKNOWN_ORDER": (110001, "order not exists or too late to cancel"),
    "REDUCE_ONLY_REJECTED": (110017, "current position is zero, cannot fix reduce-only order qty"),
    "AMEND_NO_CHANGE": (10001, "The order remains unchanged as the parameters entered match "
                               "the existing ones."),
    "AMEND_QTY_TOO_LOW": (10001, "params error: qty invalid"),
}
# Spot where it differs.
SPOT_REJECTS: dict[str, tuple[int, str]] = {
    **LINEAR_REJECTS,
    "INSUFFICIENT_BALANCE": (170131, "Insufficient balance."),
    "UNKNOWN_ORDER": (170213, "Order does not exist."),
    "DUPLICATE_CLIENT_ORDER_ID": (170141, "Duplicate clientOrderId."),
}
# Engine reasons for an order accepted and then ended, as Bybit's rejectReason ...
END_REASONS: dict[str, str] = {
    "POST_ONLY_WOULD_TAKE": "EC_PostOnlyWillTakeLiquidity",
    "FOK_NOT_FILLED": "EC_CancelForNoFullFill",
    "IOC_REMAINDER": "EC_NoImmediateQtyToFill",
    "NO_LIQUIDITY": "EC_NoImmediateQtyToFill",
    "SELF_TRADE_PREVENTED": "EC_BySelfMatch",
}
# ... and cancelType where Bybit names the canceller
CANCEL_TYPES: dict[str, str] = {
    "REDUCE_ONLY_CANCELED": "CancelByReduceOnly",
    "SELF_TRADE_PREVENTED": "CancelBySmp",
}
