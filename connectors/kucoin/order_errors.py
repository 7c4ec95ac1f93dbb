"""KuCoin trading error codes: classification (connector side) and the codes the simulator
answers with for each matching-engine reason (exchange side).

Source: KuCoin "Request error codes" (4000xx authentication, 400100 parameter error, 200004
balance insufficient, 429000 too many requests, 5xxxxx server). Parameter errors share 400100:
their message tells an unknown order, a duplicated clientOid or a post-only refusal apart.
Success is code "200000".
"""

from __future__ import annotations

from ttxt_kafka.orders.errors import ErrorKind, ExchangeFailure

_BY_CODE: dict[str, ErrorKind] = {
    "400001": ErrorKind.AUTH,  # Any of KC-API-KEY, KC-API-SIGN, ... missing
    "400002": ErrorKind.TIMESTAMP,  # KC-API-TIMESTAMP Invalid
    "400003": ErrorKind.AUTH,  # KC-API-KEY not exists
    "400004": ErrorKind.AUTH,  # KC-API-PASSPHRASE error
    "400005": ErrorKind.AUTH,  # Signature error
    "400006": ErrorKind.AUTH,  # The requested ip address is not in the api whitelist
    "400007": ErrorKind.AUTH,  # Access Denied
    "200004": ErrorKind.INSUFFICIENT_BALANCE,  # Balance insufficient
    "400200": ErrorKind.INVALID_REQUEST,  # Forbidden to place an order
    "400600": ErrorKind.INVALID_REQUEST,  # validation.createOrder.symbolNotAvailable
    "900001": ErrorKind.INVALID_REQUEST,  # symbol not exists
    "429000": ErrorKind.RATE_LIMIT,  # Too Many Requests
    "500000": ErrorKind.SERVER_BUSY,  # Internal Server Error
    "503000": ErrorKind.SERVER_BUSY,  # Service unavailable
}


def classify(code: str, message: str = "", http_status: int | None = None) -> ErrorKind:
    if http_status == 429:
        return ErrorKind.RATE_LIMIT
    text = message.lower().replace("_", " ")
    if code in ("400100", "404000", "400400") and "order" in text and "not exist" in text:
        return ErrorKind.UNKNOWN_ORDER  # "order not exist.", "order_not_exist_or_not_allow..."
    if code == "400100":
        if "clientoid" in text and "duplicat" in text:
            return ErrorKind.DUPLICATE_ORDER
        if "post only" in text or "postonly" in text:
            return ErrorKind.POST_ONLY_REJECTED
        return ErrorKind.INVALID_REQUEST
    return _BY_CODE.get(code, ErrorKind.OTHER)


def failure(code: str, message: str, http_status: int | None = None) -> ExchangeFailure:
    return ExchangeFailure(code, message, classify(code, message, http_status), http_status)


# ---------------------------------------------------------------- simulator side

# Matching-engine reason (ttxt_kafka.matching.Reason value) -> (code, msg).
REJECTS: dict[str, tuple[str, str]] = {
    "UNKNOWN_SYMBOL": ("900001", "symbol not exists"),
    "INVALID_QUANTITY": ("400100", "Order size below the minimum requirement."),
    "INVALID_PRICE": ("400100", "Price increment invalid."),
    "MIN_NOTIONAL": ("400100", "Order funds below the minimum requirement."),
    "INVALID_ORDER": ("400100", "Parameter Error"),
    "DUPLICATE_CLIENT_ORDER_ID": ("400100", "The clientOid is duplicated"),
    "INSUFFICIENT_BALANCE": ("200004", "Balance insufficient!"),
    "UNKNOWN_ORDER": ("400100", "order_not_exist_or_not_allow_to_cancel"),
    "REDUCE_ONLY_REJECTED": ("400100", "Parameter Error: reduceOnly is not a spot field"),
    "AMEND_NO_CHANGE": ("400100", "Parameter Error: nothing to alter"),
    "AMEND_QTY_TOO_LOW": ("400100", "Parameter Error: newSize below the filled size"),
    "POST_ONLY_WOULD_TAKE": ("400100", "post only order would take liquidity"),
}
