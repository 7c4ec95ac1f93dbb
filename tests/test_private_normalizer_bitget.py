"""Bitget v2 private side: the docs examples of the private `orders` and `account` pushes ->
exact events; order translation into the v2 REST calls; answers and error codes."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from fixtures_path import fixture

from ttxt_kafka.connectors.base.errors import ExchangeMessageError
from ttxt_kafka.connectors.bitget import orders as go
from ttxt_kafka.connectors.bitget.normalizer_private import (
    BitgetPrivateNormalizer,
    orders_from_rest,
    wallet_from_rest,
)
from ttxt_kafka.connectors.bitget.order_errors import MIX_REJECTS, SPOT_REJECTS, classify
from ttxt_kafka.events import (
    Balance,
    Fill,
    OrderStatus,
    OrderType,
    OrderUpdate,
    PositionSide,
    Side,
    TimeInForce,
    Wallet,
)
from ttxt_kafka.matching import Reason
from ttxt_kafka.orders.errors import ErrorKind, ExchangeFailure
from ttxt_kafka.orders.validation import (
    InvalidCommand,
    ValidAmend,
    ValidCancel,
    ValidCancelAll,
    ValidCreate,
)

RECV = 1_695_797_773_999_000
NAMES = {"BTCUSDT": "BTC/USDT", "ETHUSDT": "ETH/USDT"}


def docs(name: str) -> str:
    return fixture(f"bitget/{name}").read_text(encoding="utf-8")


def test_docs_spot_orders_push_gives_the_update_and_its_fill() -> None:
    update, fill = BitgetPrivateNormalizer(NAMES)(docs("docs_v2_ws_spot_private_orders.json"),
                                                  RECV)
    assert update == OrderUpdate(
        venue="bitget_spot", symbol="BTC/USDT", native_symbol="BTCUSDT",
        exchange_ts=1695797773326_000, receive_ts=RECV, client_order_id="1", order_id="1",
        side=Side.BUY, order_type=OrderType.MARKET, time_in_force=TimeInForce.GTC,
        status=OrderStatus.PARTIALLY_FILLED, price=None, qty="8.0000", filled_qty="0.0003",
        avg_price="26256.0", created_ts=1695797773257_000)
    assert fill == Fill(
        venue="bitget_spot", symbol="BTC/USDT", native_symbol="BTCUSDT",
        exchange_ts=1695797773286_000, receive_ts=RECV, client_order_id="1", order_id="1",
        trade_id="1", side=Side.BUY, price="26256.0", qty="0.0003", fee="0.00000018",
        fee_currency="BTC", is_maker=False)


def test_docs_spot_account_push() -> None:
    [wallet] = BitgetPrivateNormalizer(NAMES)(docs("docs_v2_ws_spot_private_account.json"), RECV)
    assert wallet == Wallet(
        venue="bitget_spot", symbol="", exchange_ts=1695713887792_000, receive_ts=RECV,
        account_type="spot", is_snapshot=False,
        balances=[Balance(asset="USDT", total="100000", available="100000", locked="0")])


def test_usdtm_pushes_positions_and_account() -> None:
    n = BitgetPrivateNormalizer(NAMES, account_venue="bitget_usdtm")
    position = {"action": "snapshot", "arg": {"instType": "USDT-FUTURES",
                                              "channel": "positions", "instId": "default"},
                "data": [{"posId": "1", "instId": "BTCUSDT", "marginCoin": "USDT",
                          "holdSide": "short", "total": "0.05", "openPriceAvg": "65000.1",
                          "markPrice": "64990", "unrealizedPL": "0.5", "achievedProfits": "0",
                          "leverage": "10", "liquidationPrice": "0", "uTime": "1700000000000"}],
                "ts": 1700000000001}
    [p] = n(json.dumps(position), RECV)
    assert (p.venue, p.side, p.size, p.entry_price, p.liquidation_price) == (
        "bitget_usdtm", PositionSide.SHORT, "0.05", "65000.1", None)
    account = {"action": "snapshot", "arg": {"instType": "USDT-FUTURES", "channel": "account",
                                             "coin": "default"},
               "data": [{"marginCoin": "USDT", "frozen": "10", "available": "990",
                         "equity": "1000"}], "ts": 1700000000001}
    [w] = n(json.dumps(account), RECV)
    assert w.balances == [Balance(asset="USDT", total="1000", available="990", locked="10")]
    assert n("pong", RECV) == [] and n('{"event":"login","code":0,"msg":""}', RECV) == []
    with pytest.raises(ExchangeMessageError, match="30015"):
        n('{"event":"error","code":30015,"msg":"Invalid sign"}', RECV)


def test_rest_bodies() -> None:
    n = BitgetPrivateNormalizer(NAMES, account_venue="bitget_usdtm")
    detail = {"code": "00000", "msg": "success", "requestTime": 1, "data": {
        "symbol": "BTCUSDT", "size": "0.01", "orderId": "9", "clientOid": "c1",
        "baseVolume": "0.01", "fee": "-0.39", "price": "", "priceAvg": "65000", "state":
        "filled", "side": "buy", "force": "gtc", "orderType": "market", "reduceOnly": "NO",
        "cTime": "1700000000000", "uTime": "1700000000100"}}
    [o] = orders_from_rest(detail, n, RECV)
    assert (o.status, o.filled_qty, o.price, o.client_order_id) == (
        OrderStatus.FILLED, "0.01", None, "c1")
    assert orders_from_rest({"code": "00000", "data": {"entrustedList": None}}, n, RECV) == []
    [w] = wallet_from_rest({"code": "00000", "requestTime": 5, "data": [
        {"coin": "BTC", "available": "1", "frozen": "0.5", "locked": "0.25"}]}, RECV,
        "bitget_spot")
    assert w.is_snapshot and w.balances == [
        Balance(asset="BTC", total="1.75", available="1", locked="0.75")]
    with pytest.raises(ExchangeMessageError, match="40009"):
        wallet_from_rest({"code": "40009", "msg": "sign signature error"}, RECV, "bitget_spot")


# ---------------------------------------------------------------------- translation

BASE = {"venue": "bitget_usdtm", "symbol": "BTC/USDT", "native_symbol": "BTCUSDT",
        "command_id": "c-1"}


def order(**kwargs: Any) -> ValidCreate:
    fields: dict[str, Any] = {**BASE, "client_order_id": "channel#123456", "side": Side.BUY,
                              "order_type": OrderType.LIMIT, "qty": "8", "price": "26000"}
    return ValidCreate.model_validate({**fields, **kwargs})


def test_create_calls() -> None:
    call = go.create_call(order(), spot=False)
    assert (call.method, call.path) == ("POST", "/api/v2/mix/order/place-order")
    assert call.body == {"symbol": "BTCUSDT", "side": "buy", "orderType": "limit", "size": "8",
                         "price": "26000", "force": "gtc", "clientOid": "channel#123456",
                         "marginMode": "crossed", "reduceOnly": "NO",
                         "productType": "USDT-FUTURES", "marginCoin": "USDT"}
    post_only = go.create_call(order(post_only=True, reduce_only=True), spot=False)
    assert post_only.body and (post_only.body["force"], post_only.body["reduceOnly"]) == (
        "post_only", "YES")
    spot = go.create_call(order(venue="bitget_spot", time_in_force=TimeInForce.IOC), spot=True)
    assert spot.path == "/api/v2/spot/trade/place-order" and spot.body and \
        spot.body["force"] == "ioc" and "productType" not in spot.body
    sell = go.create_call(order(venue="bitget_spot", side=Side.SELL, order_type=OrderType.MARKET,
                                price=None), spot=True)
    assert sell.body and sell.body["orderType"] == "market" and "price" not in sell.body
    with pytest.raises(InvalidCommand, match="quote coin"):  # Bitget sizes these in quote
        go.create_call(order(venue="bitget_spot", order_type=OrderType.MARKET, price=None),
                       spot=True)
    with pytest.raises(InvalidCommand, match="derivatives"):
        go.create_call(order(venue="bitget_spot", reduce_only=True), spot=True)


def test_amend_cancel_and_cancel_all_calls() -> None:
    amend = ValidAmend.model_validate({**BASE, "client_order_id": "x", "new_price": "25000"})
    call = go.amend_call(amend, spot=False)
    assert call.path == "/api/v2/mix/order/modify-order" and call.body == {
        "symbol": "BTCUSDT", "clientOid": "x", "newPrice": "25000",
        "productType": "USDT-FUTURES", "marginCoin": "USDT"}
    spot = go.amend_call(amend, spot=True, current_qty=Decimal("0.5"))
    assert spot.path == "/api/v2/spot/trade/cancel-replace-order" and spot.body == {
        "symbol": "BTCUSDT", "clientOid": "x", "price": "25000", "size": "0.5"}
    cancel = go.cancel_call(ValidCancel.model_validate({**BASE, "order_id": "77",
                                                        "client_order_id": "x"}), spot=True)
    assert cancel.body == {"symbol": "BTCUSDT", "orderId": "77"}  # the id wins
    every = ValidCancelAll.model_validate({**BASE, "symbol": "", "native_symbol": ""})
    assert [c.body for c in go.cancel_all_calls(every, True, ["BTCUSDT", "ETHUSDT"])] == [
        {"symbol": "BTCUSDT"}, {"symbol": "ETHUSDT"}]
    [mix] = go.cancel_all_calls(every, False, [])
    assert mix.path == "/api/v2/mix/order/cancel-all-orders"
    query = go.query_call("BTCUSDT", False, client_order_id="x")
    assert query.params == (("symbol", "BTCUSDT"), ("productType", "USDT-FUTURES"),
                            ("clientOid", "x"))


def test_answers_and_error_codes() -> None:
    ok = go.parse_response({"code": "00000", "msg": "success", "requestTime": 1695806875837,
                            "data": {"orderId": "121211212122", "clientOid": "121211212122"}})
    assert ok == go.OrderResult("121211212122", "121211212122", 1695806875837_000)
    refused = go.parse_response({"code": "43012", "msg": "Insufficient balance"}, 400)
    assert isinstance(refused, ExchangeFailure)
    assert (refused.code, refused.kind) == ("43012", ErrorKind.INSUFFICIENT_BALANCE)
    assert classify("40768") is ErrorKind.UNKNOWN_ORDER
    assert classify("40786") is ErrorKind.DUPLICATE_ORDER
    assert classify("429", 429) is ErrorKind.RATE_LIMIT
    assert classify("40008") is ErrorKind.TIMESTAMP
    busy = go.parse_response("<html>", 502)
    assert isinstance(busy, ExchangeFailure) and busy.kind is ErrorKind.UNKNOWN_OUTCOME
    for table in (SPOT_REJECTS, MIX_REJECTS):
        assert {r.value for r in Reason if r.value in table} <= set(table)
        for code, _ in table.values():
            assert classify(code) is not ErrorKind.OTHER
