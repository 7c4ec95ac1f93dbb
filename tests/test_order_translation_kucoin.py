"""KuCoin HF order translation: REST calls as KuCoin documents them, answers and error codes
(every matching-engine refusal the simulator can give is classified as the connector expects)."""

from __future__ import annotations

from typing import Any

import pytest

from ttxt_kafka.connectors.kucoin import orders as ko
from ttxt_kafka.connectors.kucoin.order_errors import REJECTS, classify
from ttxt_kafka.events import OrderType, Side, TimeInForce
from ttxt_kafka.matching import Reason
from ttxt_kafka.orders.errors import ErrorKind, ExchangeFailure
from ttxt_kafka.orders.validation import (
    InvalidCommand,
    ValidAmend,
    ValidCancel,
    ValidCancelAll,
    ValidCreate,
)

BASE = {"venue": "kucoin_spot", "symbol": "BTC/USDT", "native_symbol": "BTC-USDT",
        "command_id": "test-005"}


def order(**kwargs: Any) -> ValidCreate:
    fields: dict[str, Any] = {**BASE, "client_order_id": "ttxt-1", "side": Side.BUY,
                              "order_type": OrderType.LIMIT, "qty": "0.2", "price": "28000.5"}
    return ValidCreate.model_validate({**fields, **kwargs})


def test_create_limit_market_tif_post_only() -> None:
    call = ko.create_call(order(time_in_force=TimeInForce.IOC))
    assert (call.method, call.path) == ("POST", "/api/v1/hf/orders")
    assert call.body == {"clientOid": "ttxt-1", "symbol": "BTC-USDT", "side": "buy",
                         "size": "0.2", "type": "limit", "price": "28000.5",
                         "timeInForce": "IOC"}
    assert ko.create_call(order(post_only=True)).body["postOnly"] is True  # type: ignore[index]
    market = ko.create_call(order(order_type=OrderType.MARKET, price=None, side=Side.SELL))
    assert market.body == {"clientOid": "ttxt-1", "symbol": "BTC-USDT", "side": "sell",
                           "size": "0.2", "type": "market"}
    with pytest.raises(InvalidCommand, match="derivatives"):
        ko.create_call(order(reduce_only=True))


def test_cancel_query_amend_cancel_all() -> None:
    by_cid = ko.cancel_call(ValidCancel.model_validate({**BASE, "client_order_id": "a#b"}))
    assert (by_cid.method, by_cid.path, by_cid.params) == (
        "DELETE", "/api/v1/hf/orders/client-order/a%23b", (("symbol", "BTC-USDT"),))
    by_id = ko.query_call("BTC-USDT", order_id="665f")
    assert (by_id.method, by_id.path) == ("GET", "/api/v1/hf/orders/665f")
    amend = ko.amend_call(ValidAmend.model_validate({**BASE, "client_order_id": "c1",
                                                     "new_price": "27000"}),
                          current_qty=ko.Decimal("0.2"))
    assert (amend.path, amend.body) == ("/api/v1/hf/orders/alter", {
        "symbol": "BTC-USDT", "clientOid": "c1", "newSize": "0.2", "newPrice": "27000"})
    calls = ko.cancel_all_calls(ValidCancelAll(venue="kucoin_spot", command_id="x"),
                                ["BTC-USDT", "ETH-USDT"])
    assert [(c.method, c.path, c.params) for c in calls] == [
        ("DELETE", "/api/v1/hf/orders", (("symbol", "BTC-USDT"),)),
        ("DELETE", "/api/v1/hf/orders", (("symbol", "ETH-USDT"),))]


def test_answers() -> None:
    ok = ko.parse_response({"code": "200000", "data": {"orderId": "1", "clientOid": "c"}})
    assert ok == ko.OrderResult("1", "c")
    altered = ko.parse_response({"code": "200000", "data": {"newOrderId": "2", "clientOid": "c"}})
    assert altered == ko.OrderResult("2", "c")  # alter: the replacement's id
    refused = ko.parse_response({"code": "200004", "msg": "Balance insufficient!"})
    assert isinstance(refused, ExchangeFailure)
    assert refused.kind is ErrorKind.INSUFFICIENT_BALANCE


@pytest.mark.parametrize("code, msg, kind", [
    ("400100", "order_not_exist_or_not_allow_to_cancel", ErrorKind.UNKNOWN_ORDER),
    ("404000", "order not exist.", ErrorKind.UNKNOWN_ORDER),
    ("400100", "The clientOid is duplicated", ErrorKind.DUPLICATE_ORDER),
    ("400100", "Parameter Error", ErrorKind.INVALID_REQUEST),
    ("400002", "Invalid KC-API-TIMESTAMP", ErrorKind.TIMESTAMP),
    ("400005", "Signature error", ErrorKind.AUTH),
    ("429000", "Too Many Requests", ErrorKind.RATE_LIMIT),
    ("500000", "Internal Server Error", ErrorKind.SERVER_BUSY),
])
def test_error_codes(code: str, msg: str, kind: ErrorKind) -> None:
    assert classify(code, msg) is kind


def test_every_engine_refusal_has_a_kucoin_answer() -> None:
    expected = {"DUPLICATE_CLIENT_ORDER_ID": ErrorKind.DUPLICATE_ORDER,
                "INSUFFICIENT_BALANCE": ErrorKind.INSUFFICIENT_BALANCE,
                "UNKNOWN_ORDER": ErrorKind.UNKNOWN_ORDER,
                "POST_ONLY_WOULD_TAKE": ErrorKind.POST_ONLY_REJECTED}
    refusals = list(Reason)[:list(Reason).index(Reason.AMEND_QTY_TOO_LOW) + 1]  # then: endings
    for reason in refusals:
        code, msg = REJECTS[reason.value]
        assert classify(code, msg) is expected.get(reason.value, ErrorKind.INVALID_REQUEST), reason
