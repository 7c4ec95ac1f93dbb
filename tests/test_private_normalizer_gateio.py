"""Gate.io v4 spot private side: every docs example of the private channels (spot.orders,
spot.usertrades, spot.balances) -> exact events; order translation into the v4 REST calls;
answers and error labels; the client id rule (`t-` prefix)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fixtures_path import fixture

from ttxt_kafka.connectors.base.errors import ExchangeMessageError, MalformedMessage
from ttxt_kafka.connectors.gateio import orders as go
from ttxt_kafka.connectors.gateio.normalizer_private import (
    GatePrivateNormalizer,
    orders_from_rest,
    wallet_from_rest,
)
from ttxt_kafka.connectors.gateio.order_errors import REJECTS, classify
from ttxt_kafka.events import (
    Balance,
    Fill,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Side,
    TimeInForce,
    Wallet,
)
from ttxt_kafka.matching import Reason
from ttxt_kafka.orders.client_ids import client_order_id_for, client_order_id_problem
from ttxt_kafka.orders.errors import ErrorKind, ExchangeFailure
from ttxt_kafka.orders.validation import (
    InvalidCommand,
    ValidAmend,
    ValidCancel,
    ValidCancelAll,
    ValidCreate,
)

RECV = 1_700_000_000_123_000
NAMES = {"BTC_USDT": "BTC/USDT", "ETH_USDT": "ETH/USDT"}


def docs(name: str) -> str:
    return fixture(f"gateio/{name}").read_text(encoding="utf-8")


def test_docs_spot_orders_push() -> None:
    [update] = GatePrivateNormalizer(NAMES)(docs("docs_ws_spot_orders_private.json"), RECV)
    # filled = amount - left = 0 (the example's filled_amount 812.8 contradicts both)
    assert update == OrderUpdate(
        venue="gateio_spot", symbol="BTC/USDT", native_symbol="BTC_USDT",
        exchange_ts=1694655225315_000, receive_ts=RECV, client_order_id="t-testtext",
        order_id="399123456", side=Side.SELL, order_type=OrderType.LIMIT,
        time_in_force=TimeInForce.GTC, status=OrderStatus.NEW, price="26253.3", qty="0.0001",
        filled_qty="0.0000", avg_price=None, created_ts=1694655225315_000, reason="open")


def test_docs_spot_usertrades_push() -> None:
    [fill] = GatePrivateNormalizer(NAMES)(docs("docs_ws_spot_usertrades_private.json"), RECV)
    # no fee_currency in the example: a sell pays its fee in the quote currency
    assert fill == Fill(
        venue="gateio_spot", symbol="BTC/USDT", native_symbol="BTC_USDT",
        exchange_ts=1605176741123_456, receive_ts=RECV, client_order_id="",  # "apiv4": origin
        order_id="30784428", trade_id="5736713", side=Side.SELL, price="10000.00000000",
        qty="1.00000000", fee="0.00200000000000", fee_currency="USDT", is_maker=False)


def test_docs_spot_balances_push() -> None:
    [wallet] = GatePrivateNormalizer(NAMES)(docs("docs_ws_spot_balances_private.json"), RECV)
    assert wallet == Wallet(
        venue="gateio_spot", symbol="", exchange_ts=1605248616763_000, receive_ts=RECV,
        account_type="spot", is_snapshot=False,
        balances=[Balance(asset="USDT", total="222244.3827652", available="222244.3827",
                          locked="5")])


def _push(channel: str, item: dict[str, Any]) -> str:
    return json.dumps({"time": 1700000000, "time_ms": 1700000000000, "channel": channel,
                       "event": "update", "result": [item]})


ORDER = {"id": "9", "text": "t-abc", "create_time_ms": "1700000000000",
         "update_time_ms": "1700000000500", "currency_pair": "BTC_USDT", "type": "limit",
         "side": "buy", "amount": "0.5", "price": "65000", "time_in_force": "ioc",
         "left": "0.2", "filled_total": "19500", "avg_deal_price": "", "finish_as": "open"}


@pytest.mark.parametrize(("fields", "status"), [
    ({"event": "update"}, OrderStatus.PARTIALLY_FILLED),
    ({"event": "put", "left": "0.5"}, OrderStatus.NEW),
    ({"event": "finish", "left": "0", "finish_as": "filled"}, OrderStatus.FILLED),
    ({"event": "finish", "finish_as": "ioc"}, OrderStatus.EXPIRED),
    ({"event": "finish", "finish_as": "poc"}, OrderStatus.EXPIRED),
    ({"event": "finish", "finish_as": "cancelled"}, OrderStatus.CANCELED),
    ({"status": "closed", "left": "0", "finish_as": "filled"}, OrderStatus.FILLED),
    ({"status": "cancelled", "finish_as": "stp"}, OrderStatus.CANCELED),
])
def test_order_status(fields: dict[str, Any], status: OrderStatus) -> None:
    [u] = GatePrivateNormalizer(NAMES)(_push("spot.orders", {**ORDER, **fields}), RECV)
    assert u.status is status and u.time_in_force is TimeInForce.IOC


def test_partial_fill_average_and_a_quote_sized_market_buy() -> None:
    [u] = GatePrivateNormalizer(NAMES)(_push("spot.orders", ORDER), RECV)
    assert (u.filled_qty, u.avg_price) == ("0.3", "65000")
    web_buy = {**ORDER, "type": "market", "amount": "100", "left": "0", "price": "0",
               "filled_amount": "0.0015", "finish_as": "filled", "event": "finish"}
    [m] = GatePrivateNormalizer(NAMES)(_push("spot.orders", web_buy), RECV)
    assert (m.qty, m.filled_qty, m.price, m.status) == ("0.0015", "0.0015", None,
                                                        OrderStatus.FILLED)


def test_control_frames_errors_and_malformed() -> None:
    n = GatePrivateNormalizer(NAMES)
    assert n(docs("docs_ws_server_response_subscribe.json"), RECV) == []
    assert n('{"time":1,"channel":"spot.pong","event":"","result":null}', RECV) == []
    with pytest.raises(ExchangeMessageError, match="4"):
        n('{"time":1,"channel":"spot.orders","event":"subscribe","error":{"code":4,'
          '"message":"signature mismatch"},"result":{"status":"fail"}}', RECV)
    with pytest.raises(MalformedMessage):
        n(_push("spot.orders", {"id": "1"}), RECV)
    with pytest.raises(MalformedMessage):
        n("{not json", RECV)


def test_rest_bodies() -> None:
    n = GatePrivateNormalizer(NAMES)
    rest = {**ORDER, "status": "open", "create_time_ms": 1700000000000,
            "update_time_ms": 1700000000500}
    [o] = orders_from_rest(rest, n, RECV)
    assert (o.status, o.exchange_ts, o.client_order_id) == (
        OrderStatus.PARTIALLY_FILLED, 1700000000500_000, "t-abc")
    grouped = [{"currency_pair": "BTC_USDT", "total": 2, "orders": [rest, {**rest, "id": "10"}]}]
    assert [o.order_id for o in orders_from_rest(grouped, n, RECV)] == ["9", "10"]
    [w] = wallet_from_rest([{"currency": "BTC", "available": "1.5", "locked": "0.25",
                             "update_id": 7}], RECV, "gateio_spot")
    assert w.is_snapshot and w.balances == [
        Balance(asset="BTC", total="1.75", available="1.5", locked="0.25")]
    with pytest.raises(MalformedMessage):
        wallet_from_rest({"label": "INVALID_KEY"}, RECV, "gateio_spot")


# ---------------------------------------------------------------------- translation

BASE = {"venue": "gateio_spot", "symbol": "BTC/USDT", "native_symbol": "BTC_USDT",
        "command_id": "c-1"}


def order(**kwargs: Any) -> ValidCreate:
    fields: dict[str, Any] = {**BASE, "client_order_id": "t-abc", "side": Side.BUY,
                              "order_type": OrderType.LIMIT, "qty": "0.5", "price": "26000"}
    return ValidCreate.model_validate({**fields, **kwargs})


def test_create_calls() -> None:
    call = go.create_call(order())
    assert (call.method, call.path) == ("POST", "/api/v4/spot/orders")
    assert call.body == {"text": "t-abc", "currency_pair": "BTC_USDT", "type": "limit",
                         "account": "spot", "side": "buy", "amount": "0.5", "price": "26000",
                         "time_in_force": "gtc"}
    assert go.create_call(order(post_only=True)).body["time_in_force"] == "poc"  # type: ignore[index]
    assert go.create_call(order(time_in_force=TimeInForce.FOK)).body[  # type: ignore[index]
        "time_in_force"] == "fok"
    sell = go.create_call(order(side=Side.SELL, order_type=OrderType.MARKET, price=None))
    assert sell.body is not None and "price" not in sell.body
    assert (sell.body["type"], sell.body["time_in_force"]) == ("market", "ioc")
    with pytest.raises(InvalidCommand, match="quote currency"):
        go.create_call(order(order_type=OrderType.MARKET, price=None))
    with pytest.raises(InvalidCommand, match="text"):
        go.create_call(order(extras={"text": "t-other"}))


def test_amend_cancel_query_and_cancel_all_calls() -> None:
    amend = go.amend_call(ValidAmend.model_validate({**BASE, "client_order_id": "t-abc",
                                                      "new_price": "25000"}))
    assert (amend.method, amend.path, amend.params, amend.body) == (
        "PATCH", "/api/v4/spot/orders/t-abc", (("currency_pair", "BTC_USDT"),),
        {"price": "25000"})
    cancel = go.cancel_call(ValidCancel.model_validate({**BASE, "order_id": "77",
                                                        "client_order_id": "t-abc"}))
    assert (cancel.method, cancel.path) == ("DELETE", "/api/v4/spot/orders/77")  # the id wins
    every = ValidCancelAll.model_validate({**BASE, "symbol": "", "native_symbol": ""})
    assert [c.params for c in go.cancel_all_calls(every, ["BTC_USDT", "ETH_USDT"])] == [
        (("currency_pair", "BTC_USDT"), ("account", "spot")),
        (("currency_pair", "ETH_USDT"), ("account", "spot"))]
    query = go.query_call("BTC_USDT", client_order_id="t-abc")
    assert (query.path, query.params) == ("/api/v4/spot/orders/t-abc",
                                          (("currency_pair", "BTC_USDT"),))
    assert go.finished_call("BTC_USDT").params == (
        ("currency_pair", "BTC_USDT"), ("status", "finished"), ("limit", "100"))


def test_answers_and_error_labels() -> None:
    ok = go.parse_response({"id": "12332324", "text": "t-123456", "update_time_ms":
                            1548000000123, "status": "open"})
    assert ok == go.OrderResult("12332324", "t-123456", 1548000000123_000)
    odd = go.parse_response({"label": "?"})
    assert isinstance(odd, ExchangeFailure) and odd.kind is ErrorKind.UNKNOWN_OUTCOME
    assert classify("BALANCE_NOT_ENOUGH", 400) is ErrorKind.INSUFFICIENT_BALANCE
    assert classify("ORDER_NOT_FOUND", 404) is ErrorKind.UNKNOWN_ORDER
    assert classify("TOO_MANY_REQUESTS", 429) is ErrorKind.RATE_LIMIT
    assert classify("REQUEST_EXPIRED", 401) is ErrorKind.TIMESTAMP
    assert classify("INVALID_SIGNATURE", 401) is ErrorKind.AUTH
    assert classify("SERVER_ERROR", 500) is ErrorKind.UNKNOWN_OUTCOME
    assert classify("AMOUNT_TOO_LITTLE", 400) is ErrorKind.INVALID_REQUEST
    assert {r.value for r in Reason if r.value in REJECTS} <= set(REJECTS)
    for label, _ in REJECTS.values():
        assert classify(label, 400) is not ErrorKind.OTHER


def test_client_ids_carry_gates_prefix() -> None:
    made = client_order_id_for("cmd-1", exchange="gateio")
    assert made.startswith("t-ttxt-") and len(made) == 30
    assert client_order_id_problem(made, "gateio") is None
    assert made[7:] == client_order_id_for("cmd-1")[5:28]  # the same digest, shorter
    assert client_order_id_for("cmd-1", exchange="binance") == client_order_id_for("cmd-1")
    assert "t- followed by" in (client_order_id_problem("rest-1", "gateio") or "")
    assert client_order_id_problem("t-" + "a" * 29, "gateio") is not None
