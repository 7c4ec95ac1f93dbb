"""KuCoin private normalizer on every private docs example in the fixtures (tradeOrdersV2,
tradeOrders orderChange of each type, account.balance) and on REST bodies as the gateway reads
them: exact strings, statuses by KuCoin's order lifecycle."""

from __future__ import annotations

import json

import pytest
from connector_support import load_jsonc

from ttxt_kafka.connectors.base.errors import ExchangeMessageError, MalformedMessage
from ttxt_kafka.connectors.kucoin.normalizer_private import (
    KucoinPrivateNormalizer,
    orders_from_rest,
    to_us,
    wallet_from_rest,
)
from ttxt_kafka.events import Fill, OrderStatus, OrderType, OrderUpdate, Side, Wallet

RECV = 1_700_000_000_000_000


def run(name: str) -> list[object]:
    return KucoinPrivateNormalizer()(json.dumps(load_jsonc(f"kucoin/{name}.jsonc")), RECV)


def test_v2_received() -> None:
    [o] = run("docs_ws_private_tradeOrdersV2_received")
    assert isinstance(o, OrderUpdate)
    assert (o.symbol, o.native_symbol, o.order_id, o.client_order_id) == (
        "KCS/USDT", "KCS-USDT", "5efab07953bdea00089965d2", "1593487481000906")
    assert (o.status, o.side, o.order_type, o.price, o.qty, o.filled_qty) == (
        OrderStatus.NEW, Side.BUY, OrderType.LIMIT, "0.937", "0.1", "0")
    assert o.exchange_ts == 1593487481683297 and o.created_ts == 1593487481683297  # ns -> µs


@pytest.mark.parametrize("name, status, filled", [
    ("docs_ws_private_tradeOrders_orderChange_open", OrderStatus.NEW, "0"),
    ("docs_ws_private_tradeOrders_orderChange_update", OrderStatus.NEW, "0"),
    ("docs_ws_private_tradeOrders_orderChange_filled", OrderStatus.FILLED, "0.1"),
    ("docs_ws_private_tradeOrders_orderChange_canceled", OrderStatus.CANCELED, "0"),
])
def test_order_changes(name: str, status: OrderStatus, filled: str) -> None:
    doc = load_jsonc(f"kucoin/{name}.jsonc")["data"]
    [o] = run(name)
    assert isinstance(o, OrderUpdate)
    assert (o.status, o.filled_qty, o.qty, o.price) == (status, filled, doc["size"], doc["price"])
    assert o.created_ts == 1670329987026 * 1000  # the older channel's orderTime is ms
    assert o.exchange_ts == 1670329987311000


def test_match_gives_an_update_and_a_fill() -> None:
    o, f = run("docs_ws_private_tradeOrders_orderChange_match")
    assert isinstance(o, OrderUpdate) and isinstance(f, Fill)
    assert o.status is OrderStatus.FILLED  # remainSize 0
    assert (f.trade_id, f.price, f.qty, f.side, f.is_maker) == (
        "5efab07a4ee4c7000a82d6d9", "0.96738", "0.1", Side.SELL, False)
    assert (f.fee, f.fee_currency) == ("0", "")  # the push carries no fee
    assert f.order_id == o.order_id == "5efab07953bdea00089965fa"


def test_balance() -> None:
    [w] = run("docs_ws_private_account_balance")
    assert isinstance(w, Wallet) and not w.is_snapshot
    [b] = w.balances
    assert (b.asset, b.total, b.available, b.locked) == ("KCS", "88", "88", "0")
    assert w.exchange_ts == 1545743136994000


def test_control_and_error_frames() -> None:
    n = KucoinPrivateNormalizer()
    assert n('{"id":"x","type":"welcome"}', RECV) == [] and n('{"id":"1","type":"ack"}', RECV) == []
    with pytest.raises(ExchangeMessageError):
        n('{"id":"1","type":"error","code":401,"data":"token is invalid"}', RECV)
    with pytest.raises(MalformedMessage):
        n('{"type":"message","topic":"/spotMarket/tradeOrdersV2","data":{"symbol":"A-B"}}', RECV)


def test_rest_orders_and_accounts() -> None:
    order = {"id": "5c35c02703aa673ceec2a168", "clientOid": "c1", "symbol": "BTC-USDT",
             "type": "limit", "side": "buy", "price": "10000", "size": "0.2", "dealSize": "0.1",
             "dealFunds": "999.9", "timeInForce": "IOC", "postOnly": False, "active": False,
             "createdAt": 1547026471000, "lastUpdatedAt": 1547026471001}
    [o] = orders_from_rest({"code": "200000", "data": order}, KucoinPrivateNormalizer(), RECV)
    assert (o.status, o.filled_qty, o.avg_price, o.exchange_ts) == (
        OrderStatus.CANCELED, "0.1", "9999", 1547026471001000)
    [o] = orders_from_rest({"code": "200000", "data": [{**order, "active": True}]},
                           KucoinPrivateNormalizer(), RECV)
    assert o.status is OrderStatus.PARTIALLY_FILLED
    [w] = wallet_from_rest({"code": "200000", "data": [
        {"id": "1", "currency": "USDT", "type": "trade", "balance": "10", "available": "7",
         "holds": "3"}]}, RECV, "kucoin_spot")
    assert w.is_snapshot and (w.balances[0].total, w.balances[0].locked) == ("10", "3")
    with pytest.raises(ExchangeMessageError):
        wallet_from_rest({"code": "400003", "msg": "KC-API-KEY not exists"}, RECV, "kucoin_spot")


def test_time_units() -> None:
    assert to_us(1593487481683297666) == to_us(1593487481683297) == 1593487481683297
    assert to_us("1545743136994") == 1545743136994000
