"""Bybit v5 translation: trade-API arguments (checked against the docs example), REST calls,
answers and error codes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fixtures_path import load_json

from ttxt_kafka.connectors.bybit import auth
from ttxt_kafka.connectors.bybit import orders as yo
from ttxt_kafka.connectors.bybit.order_errors import (
    CANCEL_TYPES,
    END_REASONS,
    LINEAR_REJECTS,
    SPOT_REJECTS,
    classify,
)
from ttxt_kafka.credentials import Credentials
from ttxt_kafka.events import AckStatus, CreateOrder, OrderType, Side, TimeInForce
from ttxt_kafka.matching import Reason
from ttxt_kafka.orders.errors import ErrorKind, ExchangeFailure
from ttxt_kafka.orders.validation import (
    InvalidCommand,
    ValidAmend,
    ValidCancel,
    ValidCancelAll,
    ValidCreate,
)

BASE = {"venue": "bybit_linear", "symbol": "ETH/USDT", "native_symbol": "ETHUSDT",
        "command_id": "test-005"}


def order(**kwargs: Any) -> ValidCreate:
    fields: dict[str, Any] = {**BASE, "client_order_id": "ttxt-1", "side": Side.BUY,
                              "order_type": OrderType.LIMIT, "qty": "0.2", "price": "2800"}
    return ValidCreate.model_validate({**fields, **kwargs})


def test_create_matches_the_docs_trade_request() -> None:
    docs = load_json("bybit/docs_v5_ws_trade_order_create_request.json")
    call = yo.ws_call("order.create", yo.create_args(order(post_only=True), "linear"),
                      "test-005")
    message = yo.ws_message(call, timestamp_ms=1711001595207, recv_window_ms=8000)
    assert message["reqId"] == docs["reqId"] and message["op"] == docs["op"]
    assert message["header"] == {k: v for k, v in docs["header"].items() if k != "Referer"}
    (args,) = message["args"]
    assert {k: v for k, v in args.items() if k != "orderLinkId"} == docs["args"][0]
    assert args["orderLinkId"] == "ttxt-1"


def test_create_variants() -> None:
    spot_market = yo.create_args(order(order_type=OrderType.MARKET, price=None,
                                       venue="bybit_spot"), "spot")
    assert spot_market == {"category": "spot", "symbol": "ETHUSDT", "side": "Buy",
                           "orderType": "Market", "qty": "0.2", "marketUnit": "baseCoin",
                           "orderLinkId": "ttxt-1"}
    linear = yo.create_args(order(side=Side.SELL, time_in_force=TimeInForce.IOC,
                                  reduce_only=True, take_profit="2700.50",
                                  stop_loss="2900"), "linear")
    assert linear == {"category": "linear", "symbol": "ETHUSDT", "side": "Sell",
                      "orderType": "Limit", "qty": "0.2", "price": "2800",
                      "timeInForce": "IOC", "orderLinkId": "ttxt-1", "reduceOnly": True,
                      "takeProfit": "2700.50", "stopLoss": "2900"}
    assert yo.create_args(order(extras={"positionIdx": "0"}), "linear")["positionIdx"] == "0"
    with pytest.raises(InvalidCommand, match="extras may not set 'qty'"):
        yo.create_args(order(extras={"qty": "1"}), "linear")


def test_amend_cancel_and_cancel_all() -> None:
    amend = ValidAmend.model_validate({**BASE, "client_order_id": "ttxt-1", "new_qty": "0.30",
                                       "new_stop_loss": "2600"})
    assert yo.amend_args(amend, "linear") == {
        "category": "linear", "symbol": "ETHUSDT", "orderLinkId": "ttxt-1", "qty": "0.30",
        "stopLoss": "2600"}
    cancel = ValidCancel.model_validate({**BASE, "client_order_id": "ttxt-1", "order_id": "x"})
    assert yo.cancel_args(cancel, "linear") == {"category": "linear", "symbol": "ETHUSDT",
                                                "orderId": "x"}
    assert yo.rest_call("order.cancel", {"a": 1}).path == "/v5/order/cancel"
    venue = ValidCancelAll.model_validate({**BASE, "symbol": "", "native_symbol": ""})
    assert [c.body for c in yo.cancel_all_calls(venue, "linear")] == [
        {"category": "linear", "settleCoin": "USDT"}, {"category": "linear", "settleCoin": "USDC"}]
    assert yo.cancel_all_args(venue, "spot") == [{"category": "spot"}]
    one = ValidCancelAll.model_validate(BASE)
    assert yo.cancel_all_args(one, "linear") == [{"category": "linear", "symbol": "ETHUSDT"}]
    with pytest.raises(ValueError):
        yo.ws_call("order.explode", {}, "x")


def test_queries() -> None:
    query = yo.query_order("linear", client_order_id="ttxt-1", native_symbol="ETHUSDT")
    assert (query.method, query.path, query.params) == (
        "GET", "/v5/order/realtime", (("category", "linear"), ("symbol", "ETHUSDT"),
                                      ("orderLinkId", "ttxt-1"), ("openOnly", "0")))
    assert yo.open_orders("linear").params == (("category", "linear"), ("settleCoin", "USDT"),
                                               ("openOnly", "0"), ("limit", "50"))
    assert yo.wallet_balance().params == (("accountType", "UNIFIED"),)
    assert yo.positions("ETHUSDT").params == (("category", "linear"), ("symbol", "ETHUSDT"))
    assert yo.category_of("bybit_spot") == "spot"
    assert yo.req_id_for("x" * 40) != "x" * 40 and len(yo.req_id_for("x" * 40)) == 36


def test_rest_body_is_signed_as_sent() -> None:
    creds = Credentials("key", "secret")
    call = yo.rest_call("order.create", yo.create_args(order(), "linear"))
    assert call.body is not None
    body = auth.json_body(call.body)
    headers = auth.sign_rest(creds, body, timestamp_ms=1_700_000_000_000)
    auth.verify_rest(creds, headers, body, now_ms=1_700_000_000_000)
    assert json.loads(body) == call.body


# ---------------------------------------------------------------- answers

COMMAND = CreateOrder(venue="bybit_linear", symbol="ETH/USDT", native_symbol="ETHUSDT",
                      exchange_ts=1, receive_ts=2, command_id="test-005",
                      client_order_id="ttxt-1", side=Side.BUY, order_type=OrderType.LIMIT,
                      qty="0.2", price="2800")


def test_ws_create_response_gives_an_accepted_ack() -> None:
    ack = yo.ack_for(COMMAND, load_json("bybit/docs_v5_ws_trade_order_create_response.json"),
                     now_us=5)
    assert (ack.status, ack.order_id, ack.exchange_ts, ack.client_order_id) == (
        AckStatus.ACCEPTED, "a4c1718e-fe53-4659-a118-1f6ecce04ad9", 1711001595209000, "ttxt-1")


def test_batch_response_error_codes_classify() -> None:
    batch = load_json("bybit/docs_v5_ws_trade_order_create_batch_response.json")
    kinds = {classify(item["code"]) for item in batch["retExtInfo"]["list"]}
    assert kinds == {ErrorKind.INVALID_REQUEST}


def test_rest_error_gives_a_rejected_ack() -> None:
    body = {"retCode": 110007, "retMsg": "ab not enough for new order", "result": {},
            "retExtInfo": {}, "time": 1700000000000}
    ack = yo.ack_for(COMMAND, body, now_us=5)
    assert (ack.status, ack.error_code, ack.reason) == (
        AckStatus.REJECTED, "110007", "ab not enough for new order")
    result = yo.parse_response(body)
    assert isinstance(result, ExchangeFailure) and result.kind is ErrorKind.INSUFFICIENT_BALANCE


@pytest.mark.parametrize(("code", "kind"), [
    (10006, ErrorKind.RATE_LIMIT), (10018, ErrorKind.RATE_LIMIT), (10002, ErrorKind.TIMESTAMP),
    (10003, ErrorKind.AUTH), (10004, ErrorKind.AUTH), (110001, ErrorKind.UNKNOWN_ORDER),
    (170213, ErrorKind.UNKNOWN_ORDER), (110072, ErrorKind.DUPLICATE_ORDER),
    (170131, ErrorKind.INSUFFICIENT_BALANCE), (110017, ErrorKind.REDUCE_ONLY_REJECTED),
    (10016, ErrorKind.SERVER_BUSY), (110094, ErrorKind.INVALID_REQUEST), (99, ErrorKind.OTHER)])
def test_classification(code: int, kind: ErrorKind) -> None:
    assert classify(code) is kind


def test_rate_limits_are_retryable_and_non_json_answers_are_failures() -> None:
    limited = yo.parse_response({"retCode": 10006, "retMsg": "Too many visits!"})
    assert isinstance(limited, ExchangeFailure) and limited.retryable
    blocked = yo.parse_response("<html>403</html>", http_status=403)
    assert isinstance(blocked, ExchangeFailure) and blocked.kind is ErrorKind.RATE_LIMIT


def test_every_engine_reason_has_a_bybit_rendering() -> None:
    ends = {"FOK_NOT_FILLED", "IOC_REMAINDER", "NO_LIQUIDITY", "SELF_TRADE_PREVENTED",
            "REDUCE_ONLY_CANCELED"}
    rejections = {r.value for r in Reason} - ends - {"POST_ONLY_WOULD_TAKE"}
    assert rejections <= set(LINEAR_REJECTS) and rejections <= set(SPOT_REJECTS)
    assert (ends | {"POST_ONLY_WOULD_TAKE"}) <= set(END_REASONS) | set(CANCEL_TYPES)
