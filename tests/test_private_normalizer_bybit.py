"""Bybit v5 private-stream normalizer on the official docs examples (../shared/fixtures)."""

from __future__ import annotations

import copy
import json

import pytest
from fixtures_path import load_json

from ttxt_kafka.connectors.base.errors import ExchangeMessageError, MalformedMessage
from ttxt_kafka.connectors.bybit.normalizer_private import BybitPrivateNormalizer, wallet_from_rest
from ttxt_kafka.events import (
    Balance,
    Fill,
    OrderStatus,
    OrderType,
    OrderUpdate,
    PositionSide,
    PositionUpdate,
    Side,
    TimeInForce,
    Wallet,
)

RECV = 1_700_000_000_123_456
NORMALIZE = BybitPrivateNormalizer({"BTCUSDT": "BTC/USDT"}, account_venue="bybit_linear")


def test_order() -> None:
    msg = load_json("bybit/docs_v5_ws_private_order.json")
    (update,) = NORMALIZE(json.dumps(msg), RECV)
    assert update == OrderUpdate(
        venue="bybit_option", symbol="ETH-30DEC22-1400-C", native_symbol="ETH-30DEC22-1400-C",
        exchange_ts=1672364262457000, receive_ts=RECV, client_order_id="",
        order_id="5cf98598-39a7-459e-97bf-76ca765ee020", side=Side.SELL,
        order_type=OrderType.MARKET, time_in_force=TimeInForce.IOC, status=OrderStatus.FILLED,
        price=None, qty="1", filled_qty="1", avg_price="75", take_profit=None, stop_loss=None,
        reduce_only=False, created_ts=1672364262444000, reason="")


@pytest.mark.parametrize(("changes", "field", "value"), [
    ({"category": "linear", "symbol": "BTCUSDT"}, "venue", "bybit_linear"),
    ({"category": "spot", "symbol": "BTCUSDT"}, "symbol", "BTC/USDT"),
    ({"orderType": "Limit", "timeInForce": "PostOnly"}, "time_in_force", TimeInForce.GTC),
    ({"orderType": "Limit"}, "price", "72.5"),
    ({"orderStatus": "PartiallyFilledCanceled", "cancelType": "CancelByUser"}, "reason",
     "CancelByUser"),
    ({"orderStatus": "PartiallyFilledCanceled"}, "status", OrderStatus.CANCELED),
    ({"orderStatus": "Rejected", "rejectReason": "EC_PostOnlyWillTakeLiquidity"}, "reason",
     "EC_PostOnlyWillTakeLiquidity"),
    ({"orderStatus": "Untriggered"}, "status", OrderStatus.NEW),
    ({"takeProfit": "80", "stopLoss": "0"}, "take_profit", "80"),
    ({"orderLinkId": "ttxt-1"}, "client_order_id", "ttxt-1"),
    ({"avgPrice": ""}, "avg_price", None),
])
def test_order_mapping(changes: dict[str, object], field: str, value: object) -> None:
    msg = load_json("bybit/docs_v5_ws_private_order.json")
    msg["data"][0].update(changes)
    (update,) = NORMALIZE(msg, RECV)
    assert getattr(update, field) == value


def test_execution() -> None:
    msg = load_json("bybit/docs_v5_ws_private_execution.json")
    (fill,) = NORMALIZE(msg, RECV)
    assert fill == Fill(
        venue="bybit_linear", symbol="BTC/USDT", native_symbol="BTCUSDT",
        exchange_ts=1746270400353000, receive_ts=RECV, sequence=140612148849382,
        client_order_id="", order_id="9aac161b-8ed6-450d-9cab-c5cc67c21784",
        trade_id="0ab1bdf7-4219-438b-b30a-32ec863018f7", side=Side.SELL, price="95900.1",
        qty="0.5", fee="26.3725275", fee_currency="USDT", is_maker=False)


@pytest.mark.parametrize(("category", "side", "currency"), [
    ("linear", "Sell", "USDT"), ("spot", "Buy", "BTC"), ("spot", "Sell", "USDT"),
    ("inverse", "Buy", "BTC")])
def test_execution_fee_currency_when_the_message_has_none(category: str, side: str,
                                                          currency: str) -> None:
    msg = load_json("bybit/docs_v5_ws_private_execution.json")
    item = msg["data"][0]
    del item["feeCurrency"]
    item.update({"category": category, "side": side})
    (fill,) = NORMALIZE(msg, RECV)
    assert fill.fee_currency == currency  # type: ignore[attr-defined]


def test_non_trade_executions_and_fast_executions_are_not_fills() -> None:
    msg = load_json("bybit/docs_v5_ws_private_execution.json")
    funding = copy.deepcopy(msg)
    funding["data"][0]["execType"] = "Funding"
    assert NORMALIZE(funding, RECV) == []
    assert NORMALIZE({**msg, "topic": "execution.fast"}, RECV) == []
    assert len(NORMALIZE({**msg, "topic": "execution.linear"}, RECV)) == 1


def test_wallet() -> None:
    msg = load_json("bybit/docs_v5_ws_private_wallet.json")
    (wallet,) = NORMALIZE(msg, RECV)
    assert wallet == Wallet(
        venue="bybit_linear", symbol="", exchange_ts=1700034722104000, receive_ts=RECV,
        account_type="UNIFIED", is_snapshot=False,
        balances=[Balance(asset="BTC", total="0.00102964", available="0.00102964", locked="0")])


def test_wallet_available_when_bybit_leaves_it_empty() -> None:
    msg = load_json("bybit/docs_v5_ws_private_wallet.json")
    msg["data"][0]["coin"][0].update({"walletBalance": "100.5", "availableToWithdraw": "",
                                      "locked": "10.25", "totalOrderIM": "0.25",
                                      "totalPositionIM": ""})
    (wallet,) = NORMALIZE(msg, RECV)
    assert wallet.balances[0].available == "90.00"  # type: ignore[attr-defined]


def test_wallet_balance_rest() -> None:
    (wallet,) = wallet_from_rest(load_json("bybit/docs_v5_rest_wallet_balance.json"), RECV)
    assert wallet == Wallet(
        venue="bybit", symbol="", exchange_ts=1690872862481000, receive_ts=RECV,
        account_type="UNIFIED", is_snapshot=True,
        balances=[Balance(asset="BTC", total="0", available="0", locked="0")])
    with pytest.raises(ExchangeMessageError):
        wallet_from_rest({"retCode": 10003, "retMsg": "API key is invalid."}, RECV)


def test_position() -> None:
    msg = load_json("bybit/docs_v5_ws_private_position.json")
    (position,) = NORMALIZE(msg, RECV)
    assert position == PositionUpdate(
        venue="bybit_linear", symbol="BTC/USDT", native_symbol="BTCUSDT",
        exchange_ts=1697682317038000, receive_ts=RECV, sequence=8327597863,
        side=PositionSide.SHORT, size="0", entry_price=None, mark_price="28184.5",
        unrealized_pnl="0", realized_pnl="-25.06579337", leverage="10", liquidation_price=None)


@pytest.mark.parametrize(("idx", "side", "expected"), [
    (0, "Buy", PositionSide.LONG), (0, "Sell", PositionSide.SHORT), (0, "", PositionSide.FLAT),
    (1, "", PositionSide.LONG)])
def test_position_sides(idx: int, side: str, expected: PositionSide) -> None:
    msg = load_json("bybit/docs_v5_ws_private_position.json")
    msg["data"][0].update({"positionIdx": idx, "side": side})
    (position,) = NORMALIZE(msg, RECV)
    assert position.side is expected  # type: ignore[attr-defined]


def test_control_frames() -> None:
    assert NORMALIZE(load_json("bybit/docs_v5_ws_trade_auth_response.json"), RECV) == []
    assert NORMALIZE('{"success": true, "ret_msg": "", "op": "auth", "conn_id": "x"}', RECV) == []
    with pytest.raises(ExchangeMessageError) as err:
        NORMALIZE('{"success": false, "ret_msg": "Params Error", "op": "auth"}', RECV)
    assert err.value.message == "Params Error"


@pytest.mark.parametrize("raw", ["nope", '{"topic": "order", "data": [{"symbol": "X"}]}',
                                 '{"topic": "wallet", "data": 5}'])
def test_malformed(raw: str) -> None:
    with pytest.raises(MalformedMessage):
        NORMALIZE(raw, RECV)
