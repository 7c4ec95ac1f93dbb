"""Binance spot / USD-M translation: exact request parameters, responses and error codes."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from ttxt_kafka.connectors.binance import auth
from ttxt_kafka.connectors.binance import orders as bo
from ttxt_kafka.connectors.binance.order_errors import SPOT_REJECTS, USDM_REJECTS, classify
from ttxt_kafka.credentials import Credentials
from ttxt_kafka.events import AckStatus, CreateOrder, OrderType, Side, TimeInForce
from ttxt_kafka.matching import Reason
from ttxt_kafka.orders.errors import ErrorKind, ExchangeFailure
from ttxt_kafka.orders.state import KnownOrder
from ttxt_kafka.orders.validation import (
    InvalidCommand,
    ValidAmend,
    ValidCancel,
    ValidCancelAll,
    ValidCreate,
)

D = Decimal
BASE = {"venue": "binance", "symbol": "BTC/USDT", "native_symbol": "BTCUSDT", "command_id": "c"}


def order(**kwargs: Any) -> ValidCreate:
    fields: dict[str, Any] = {**BASE, "client_order_id": "cid-1", "side": Side.BUY,
                              "order_type": OrderType.LIMIT, "qty": "0.010", "price": "60000.10"}
    return ValidCreate.model_validate({**fields, **kwargs})


def test_spot_limit_order() -> None:
    call = bo.new_order(order(), "spot")
    assert (call.method, call.path, call.signed) == ("POST", "/api/v3/order", True)
    assert call.params == (
        ("symbol", "BTCUSDT"), ("side", "BUY"), ("type", "LIMIT"), ("timeInForce", "GTC"),
        ("quantity", "0.010"), ("price", "60000.10"), ("newClientOrderId", "cid-1"),
        ("newOrderRespType", "RESULT"))


def test_spot_post_only_is_limit_maker_and_market_has_no_price() -> None:
    maker = bo.new_order(order(post_only=True), "spot")
    assert ("type", "LIMIT_MAKER") in maker.params
    assert maker.param("timeInForce") is None
    market = bo.new_order(order(order_type=OrderType.MARKET, price=None,
                                time_in_force=TimeInForce.IOC), "spot")
    assert market.params[:4] == (("symbol", "BTCUSDT"), ("side", "BUY"), ("type", "MARKET"),
                                 ("quantity", "0.010"))
    assert market.param("price") is None and market.param("timeInForce") is None


def test_usdm_order() -> None:
    call = bo.new_order(order(post_only=True, reduce_only=True, side=Side.SELL), "usdm")
    assert call.path == "/fapi/v1/order"
    assert call.params == (
        ("symbol", "BTCUSDT"), ("side", "SELL"), ("type", "LIMIT"), ("timeInForce", "GTX"),
        ("quantity", "0.010"), ("price", "60000.10"), ("reduceOnly", "true"),
        ("newClientOrderId", "cid-1"), ("newOrderRespType", "RESULT"))


def test_tp_sl_and_extras() -> None:
    with pytest.raises(InvalidCommand, match="take-profit/stop-loss is not supported"):
        bo.new_order(order(take_profit="70000"), "usdm")
    call = bo.new_order(order(extras={"selfTradePreventionMode": "EXPIRE_MAKER"}), "spot")
    assert call.params[-1] == ("selfTradePreventionMode", "EXPIRE_MAKER")
    with pytest.raises(InvalidCommand, match="extras may not set 'price'"):
        bo.new_order(order(extras={"price": "1"}), "spot")
    with pytest.raises(InvalidCommand, match="extras may not set 'timestamp'"):
        bo.new_order(order(extras={"timestamp": "1"}), "spot")


def test_signed_request_is_exactly_what_is_sent() -> None:
    creds = Credentials("key", "secret")
    call = bo.new_order(order(client_order_id="a:b/c"), "spot")
    signed = auth.sign_rest(creds, call.params, timestamp_ms=1_700_000_000_000)
    assert signed.query.startswith("symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&"
                                   "quantity=0.010&price=60000.10&newClientOrderId=a%3Ab%2Fc&")
    params = auth.verify_rest(creds, "key", signed.query, "", now_ms=1_700_000_000_001)
    assert params["newClientOrderId"] == "a:b/c"


def test_cancel() -> None:
    cancel = ValidCancel.model_validate({**BASE, "client_order_id": "cid-1", "order_id": "42"})
    call = bo.cancel_order(cancel, "usdm")
    assert (call.method, call.path, call.params) == (
        "DELETE", "/fapi/v1/order",
        (("symbol", "BTCUSDT"), ("orderId", "42"), ("origClientOrderId", "cid-1")))


KNOWN = KnownOrder(client_order_id="cid-1", order_id="42", side=Side.BUY,
                   order_type=OrderType.LIMIT, price=D("60000.10"), qty=D("1.000"),
                   filled_qty=D("0.250"))


def amend(**kwargs: Any) -> ValidAmend:
    return ValidAmend.model_validate({**BASE, "client_order_id": "cid-1", **kwargs})


def test_spot_amend_down_keeps_priority() -> None:
    call = bo.amend_order(amend(new_qty="0.800"), "spot", KNOWN)
    assert (call.method, call.path) == ("PUT", "/api/v3/order/amend/keepPriority")
    assert call.params == (("symbol", "BTCUSDT"), ("orderId", "42"), ("newQty", "0.800"),
                           ("newClientOrderId", "cid-1"))


def test_spot_amend_price_is_cancel_replace_of_the_remaining() -> None:
    call = bo.amend_order(amend(new_price="60100.00", new_qty="1.500"), "spot", KNOWN)
    assert (call.method, call.path) == ("POST", "/api/v3/order/cancelReplace")
    assert call.params == (
        ("symbol", "BTCUSDT"), ("side", "BUY"), ("type", "LIMIT"), ("timeInForce", "GTC"),
        ("cancelReplaceMode", "STOP_ON_FAILURE"), ("quantity", "1.250"), ("price", "60100.00"),
        ("cancelOrderId", "42"), ("cancelOrigClientOrderId", "cid-1"),
        ("newClientOrderId", "cid-1"), ("newOrderRespType", "RESULT"))
    maker = bo.amend_order(amend(new_price="60000.00"), "spot", replace(KNOWN, post_only=True))
    assert ("type", "LIMIT_MAKER") in maker.params


def test_usdm_amend_needs_side_price_and_quantity() -> None:
    call = bo.amend_order(amend(new_price="60100.00"), "usdm", KNOWN)
    assert (call.method, call.path, call.params) == (
        "PUT", "/fapi/v1/order",
        (("symbol", "BTCUSDT"), ("orderId", "42"), ("side", "BUY"), ("quantity", "1.000"),
         ("price", "60100.00")))
    with pytest.raises(InvalidCommand, match="not known to the connector"):
        bo.amend_order(amend(new_price="60100.00"), "usdm", None)
    with pytest.raises(InvalidCommand, match="take-profit/stop-loss"):
        bo.amend_order(amend(new_take_profit="70000"), "spot", KNOWN)


def test_cancel_all_queries_and_account() -> None:
    one = ValidCancelAll.model_validate({**BASE})
    assert [c.params for c in bo.cancel_all(one, "usdm")] == [(("symbol", "BTCUSDT"),)]
    assert bo.cancel_all(one, "usdm")[0].path == "/fapi/v1/allOpenOrders"
    venue = ValidCancelAll.model_validate({**BASE, "symbol": "", "native_symbol": ""})
    calls = bo.cancel_all(venue, "spot", ["ETHUSDT", "BTCUSDT", "ETHUSDT"])
    assert [(c.method, c.path, c.params) for c in calls] == [
        ("DELETE", "/api/v3/openOrders", (("symbol", "BTCUSDT"),)),
        ("DELETE", "/api/v3/openOrders", (("symbol", "ETHUSDT"),))]
    query = bo.query_order("BTCUSDT", "spot", client_order_id="cid-1")
    assert (query.method, query.path, query.params) == (
        "GET", "/api/v3/order", (("symbol", "BTCUSDT"), ("origClientOrderId", "cid-1")))
    assert bo.open_orders("usdm").path == "/fapi/v1/openOrders"
    assert bo.account("spot").params == (("omitZeroBalances", "true"),)
    assert bo.account("usdm").path == "/fapi/v3/account"
    assert bo.listen_key("keepalive").method == "PUT" and not bo.listen_key("create").signed
    assert bo.market_of("binance_usdm") == "usdm"
    with pytest.raises(ValueError):
        bo.market_of("bybit_spot")


def test_spot_user_data_subscription_is_signed() -> None:
    creds = Credentials("key", "secret")
    message = bo.user_data_subscribe(creds, timestamp_ms=1_700_000_000_000, request_id="r1")
    assert message["method"] == "userDataStream.subscribe.signature"
    auth.verify_ws_params(creds, message["params"], now_ms=1_700_000_000_000)


# ---------------------------------------------------------------- responses


COMMAND = CreateOrder(venue="binance", symbol="BTC/USDT", native_symbol="BTCUSDT",
                      exchange_ts=1, receive_ts=2, command_id="c", client_order_id="cid-1",
                      side=Side.BUY, order_type=OrderType.LIMIT, qty="1", price="0.1")


def test_new_order_result_gives_an_accepted_ack() -> None:
    body = {"symbol": "BTCUSDT", "orderId": 28, "orderListId": -1,
            "clientOrderId": "cid-1", "transactTime": 1507725176595, "price": "0.10000000",
            "origQty": "1.00000000", "executedQty": "0.00000000", "status": "NEW",
            "timeInForce": "GTC", "type": "LIMIT", "side": "BUY"}
    ack = bo.ack_for(COMMAND, 200, body, now_us=9)
    assert (ack.status, ack.order_id, ack.client_order_id, ack.exchange_ts, ack.receive_ts) == (
        AckStatus.ACCEPTED, "28", "cid-1", 1507725176595000, 9)


def test_errors_give_rejected_acks_with_code_and_message() -> None:
    body = {"code": -2010, "msg": "Account has insufficient balance for requested action."}
    ack = bo.ack_for(COMMAND, 400, body, now_us=9)
    assert (ack.status, ack.error_code, ack.reason, ack.client_order_id) == (
        AckStatus.REJECTED, "-2010", "Account has insufficient balance for requested action.",
        "cid-1")
    result = bo.parse_response(400, body)
    assert isinstance(result, ExchangeFailure)
    assert result.kind is ErrorKind.INSUFFICIENT_BALANCE and not result.retryable


def test_cancel_replace_failure_reports_the_failing_half() -> None:
    body = {"code": -2022, "msg": "Order cancel-replace failed.",
            "data": {"cancelResult": "FAILURE", "newOrderResult": "NOT_ATTEMPTED",
                     "cancelResponse": {"code": -2011, "msg": "Unknown order sent."},
                     "newOrderResponse": None}}
    result = bo.parse_response(400, body)
    assert isinstance(result, ExchangeFailure)
    assert (result.code, result.kind) == ("-2011", ErrorKind.UNKNOWN_ORDER)


def test_cancel_replace_success_concerns_the_new_order() -> None:
    body = {"cancelResult": "SUCCESS", "newOrderResult": "SUCCESS",
            "cancelResponse": {"orderId": 41, "origClientOrderId": "cid-1"},
            "newOrderResponse": {"orderId": 43, "clientOrderId": "cid-1",
                                 "transactTime": 1669277163808, "status": "NEW"}}
    result = bo.parse_response(200, body)
    assert isinstance(result, bo.OrderResult) and result.order_id == "43"


@pytest.mark.parametrize(("code", "message", "status", "kind"), [
    (-1003, "Too many requests.", 429, ErrorKind.RATE_LIMIT),
    (-1015, "Too many new orders.", 400, ErrorKind.RATE_LIMIT),
    (-1007, "Timeout waiting for response from backend server.", 408,
     ErrorKind.UNKNOWN_OUTCOME),
    (-1021, "Timestamp for this request is outside of the recvWindow.", 400,
     ErrorKind.TIMESTAMP),
    (-1022, "Signature for this request is not valid.", 400, ErrorKind.AUTH),
    (-2010, "Duplicate order sent.", 400, ErrorKind.DUPLICATE_ORDER),
    (-2010, "Order would immediately match and take.", 400, ErrorKind.POST_ONLY_REJECTED),
    (-2011, "Unknown order sent.", 400, ErrorKind.UNKNOWN_ORDER),
    (-2013, "Order does not exist.", 400, ErrorKind.UNKNOWN_ORDER),
    (-2019, "Margin is insufficient.", 400, ErrorKind.INSUFFICIENT_BALANCE),
    (-1013, "Filter failure: PRICE_FILTER", 400, ErrorKind.INVALID_REQUEST),
    (-4164, "Order's notional must be no smaller than 5", 400, ErrorKind.INVALID_REQUEST),
])
def test_classification(code: int, message: str, status: int, kind: ErrorKind) -> None:
    assert classify(code, message, status) is kind


def test_http_errors_without_a_body() -> None:
    limited = bo.parse_response(429, None)
    assert isinstance(limited, ExchangeFailure) and limited.retryable
    unknown = bo.parse_response(503, "<html>")
    assert isinstance(unknown, ExchangeFailure) and unknown.kind is ErrorKind.UNKNOWN_OUTCOME


def test_every_engine_rejection_has_a_binance_code() -> None:
    rejections = {r.value for r in Reason} - {
        "FOK_NOT_FILLED", "IOC_REMAINDER", "NO_LIQUIDITY", "SELF_TRADE_PREVENTED",
        "REDUCE_ONLY_CANCELED"}
    assert rejections <= set(SPOT_REJECTS) and rejections <= set(USDM_REJECTS)
