"""OKX v5 trading error codes: classification (connector side) and the codes the simulator
answers with for each matching-engine reason (exchange side).

Source: OKX v5 "Error Code" (REST 50xxx general, 51xxx trade; an order call that fails per
item answers `code` "1" with `data[0].sCode`/`sMsg`). HTTP 429 / 50011 is the rate limit.
Success is code "0".
"""

from __future__ import annotations

from ttxt_kafka.orders.errors import ErrorKind, ExchangeFailure

_BY_CODE: dict[str, ErrorKind] = {
    "50001": ErrorKind.SERVER_BUSY,  # Service temporarily unavailable
    "50004": ErrorKind.UNKNOWN_OUTCOME,  # API endpoint request timeout
    "50011": ErrorKind.RATE_LIMIT,  # Rate limit reached
    "50013": ErrorKind.SERVER_BUSY,  # Systems are busy
    "50026": ErrorKind.SERVER_BUSY,  # System error, try again later
    "50102": ErrorKind.TIMESTAMP,  # Timestamp request expired
    "50104": ErrorKind.AUTH,  # Invalid access key
    "50105": ErrorKind.AUTH,  # Invalid OK-ACCESS-PASSPHRASE
    "50111": ErrorKind.AUTH,  # Invalid OK-ACCESS-KEY
    "50112": ErrorKind.TIMESTAMP,  # Invalid OK-ACCESS-TIMESTAMP
    "50113": ErrorKind.AUTH,  # Invalid Sign
    "50114": ErrorKind.AUTH,  # Invalid authorization
    "50120": ErrorKind.AUTH,  # API key doesn't have permission
    "51000": ErrorKind.INVALID_REQUEST,  # Parameter {param} error
    "51001": ErrorKind.INVALID_REQUEST,  # Instrument ID does not exist
    "51008": ErrorKind.INSUFFICIENT_BALANCE,  # Order failed: insufficient balance
    "51016": ErrorKind.DUPLICATE_ORDER,  # Duplicated clOrdId
    "51020": ErrorKind.INVALID_REQUEST,  # Order amount should be greater than the min
    "51169": ErrorKind.REDUCE_ONLY_REJECTED,  # no position in this direction to reduce
    "51400": ErrorKind.UNKNOWN_ORDER,  # Cancel failed: filled, canceled or does not exist
    "51503": ErrorKind.UNKNOWN_ORDER,  # Amend failed: filled, canceled or does not exist
    "51603": ErrorKind.UNKNOWN_ORDER,  # Order does not exist
    "51506": ErrorKind.INVALID_REQUEST,  # Order amendment: nothing to amend
    "429": ErrorKind.RATE_LIMIT,
}


def classify(code: str, http_status: int | None = None) -> ErrorKind:
    if http_status == 429:
        return ErrorKind.RATE_LIMIT
    if code in _BY_CODE:
        return _BY_CODE[code]
    if code.startswith("51"):
        return ErrorKind.INVALID_REQUEST  # order parameter / rule errors
    return ErrorKind.OTHER


def failure(code: str, message: str, http_status: int | None = None) -> ExchangeFailure:
    return ExchangeFailure(code, message, classify(code, http_status), http_status)


# ---------------------------------------------------------------- simulator side

# Matching-engine reason (ttxt_kafka.matching.Reason value) -> (sCode, sMsg).
REJECTS: dict[str, tuple[str, str]] = {
    "UNKNOWN_SYMBOL": ("51001", "Instrument ID does not exist"),
    "INVALID_QUANTITY": ("51020", "Order amount should be greater than the min available amount"),
    "INVALID_PRICE": ("51000", "Parameter px error"),
    "MIN_NOTIONAL": ("51020", "Order amount should be greater than the min available amount"),
    "INVALID_ORDER": ("51000", "Parameter error"),
    "DUPLICATE_CLIENT_ORDER_ID": ("51016", "Duplicated clOrdId"),
    "INSUFFICIENT_BALANCE": ("51008", "Order failed. Insufficient balance"),
    "UNKNOWN_ORDER": ("51603", "Order does not exist"),
    "REDUCE_ONLY_REJECTED": ("51169", "Order placement failed because you don't have any "
                                      "positions in this direction for this contract to reduce "
                                      "or close"),
    "AMEND_NO_CHANGE": ("51506", "Order amendment: nothing to amend"),
    "AMEND_QTY_TOO_LOW": ("51000", "Parameter newSz error"),
    "POST_ONLY_WOULD_TAKE": ("51000", "post_only order would take liquidity"),
}
