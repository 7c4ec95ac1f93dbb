"""Binance user-data normalizers on the official docs examples (../shared/fixtures)."""

from __future__ import annotations

import copy
import json

import pytest
from fixtures_path import load_json

from ttxt_kafka.connectors.base.errors import MalformedMessage
from ttxt_kafka.connectors.binance.normalizer_private import (
    BinanceSpotPrivateNormalizer,
    BinanceUsdmPrivateNormalizer,
    balance_delta,
    event_type,
    spot_account_wallet,
)
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
SPOT = BinanceSpotPrivateNormalizer({"ETHBTC": "ETH/BTC"})
USDM = BinanceUsdmPrivateNormalizer({"BTCUSDT": "BTC/USDT"})


def test_execution_report_new() -> None:
    msg = load_json("binance/docs_spot_userdata_executionReport.jsonc")
    (update,) = SPOT(json.dumps(msg), RECV)
    assert update == OrderUpdate(
        venue="binance", symbol="ETH/BTC", native_symbol="ETHBTC", exchange_ts=1499405658657000,
        receive_ts=RECV, client_order_id="mUvoqJxFIILMdfAW5iGSOW", order_id="4293153",
        side=Side.BUY, order_type=OrderType.LIMIT, time_in_force=TimeInForce.GTC,
        status=OrderStatus.NEW, price="0.10264410", qty="1.00000000", filled_qty="0.00000000",
        avg_price=None, created_ts=1499405658657000, reason="")


def test_execution_report_trade_gives_a_fill_with_commission() -> None:
    msg = load_json("binance/docs_spot_userdata_executionReport.jsonc")
    event = msg["event"]
    event.update({"x": "TRADE", "X": "PARTIALLY_FILLED", "l": "0.40000000", "z": "0.40000000",
                  "L": "0.10264410", "n": "0.00040000", "N": "ETH", "t": 12345, "m": True,
                  "Z": "0.04105764", "T": 1499405658700})
    update, fill = SPOT(msg, RECV)
    assert isinstance(update, OrderUpdate) and isinstance(fill, Fill)
    assert (update.status, update.filled_qty, update.avg_price) == (
        OrderStatus.PARTIALLY_FILLED, "0.40000000", "0.1026441")
    assert fill == Fill(
        venue="binance", symbol="ETH/BTC", native_symbol="ETHBTC", exchange_ts=1499405658700000,
        receive_ts=RECV, client_order_id="mUvoqJxFIILMdfAW5iGSOW", order_id="4293153",
        trade_id="12345", side=Side.BUY, price="0.10264410", qty="0.40000000",
        fee="0.00040000", fee_currency="ETH", is_maker=True)


def test_execution_report_cancel_uses_the_original_client_order_id() -> None:
    msg = load_json("binance/docs_spot_userdata_executionReport.jsonc")
    msg["event"].update({"x": "CANCELED", "X": "CANCELED", "c": "cancelRequest1",
                         "C": "mUvoqJxFIILMdfAW5iGSOW"})
    (update,) = SPOT(msg, RECV)
    assert update.client_order_id == "mUvoqJxFIILMdfAW5iGSOW"  # type: ignore[attr-defined]
    assert update.status is OrderStatus.CANCELED  # type: ignore[attr-defined]


@pytest.mark.parametrize(("changes", "field", "value"), [
    ({"o": "MARKET", "p": "0.00000000"}, "price", None),
    ({"o": "MARKET"}, "order_type", OrderType.MARKET),
    ({"o": "LIMIT_MAKER"}, "order_type", OrderType.LIMIT),
    ({"X": "EXPIRED_IN_MATCH"}, "status", OrderStatus.EXPIRED),
    ({"X": "REJECTED", "r": "INSUFFICIENT_BALANCES"}, "reason", "INSUFFICIENT_BALANCES"),
    ({"f": "IOC"}, "time_in_force", TimeInForce.IOC),
])
def test_execution_report_mapping(changes: dict[str, object], field: str, value: object) -> None:
    msg = load_json("binance/docs_spot_userdata_executionReport.jsonc")
    msg["event"].update(changes)
    (update,) = SPOT(msg, RECV)
    assert getattr(update, field) == value


def test_outbound_account_position_is_a_wallet() -> None:
    msg = load_json("binance/docs_spot_userdata_outboundAccountPosition.jsonc")
    (wallet,) = SPOT(msg, RECV)
    assert wallet == Wallet(
        venue="binance", symbol="", exchange_ts=1564034571073000, receive_ts=RECV,
        account_type="SPOT", is_snapshot=False,
        balances=[Balance(asset="ETH", total="10000.000000", available="10000.000000",
                          locked="0.000000")])
    msg["event"]["B"][0]["l"] = "0.500000"
    assert SPOT(msg, RECV)[0].balances[0].total == "10000.500000"  # type: ignore[attr-defined]


def test_balance_update_and_list_status_publish_nothing() -> None:
    msg = load_json("binance/docs_spot_userdata_balanceUpdate.jsonc")
    assert SPOT(msg, RECV) == []
    delta = balance_delta(msg)
    assert (delta.asset, delta.delta, delta.clear_ts) == ("BTC", "100.00000000", 1573200697068000)
    assert SPOT(load_json("binance/docs_spot_userdata_listStatus.jsonc"), RECV) == []
    assert event_type(json.dumps(load_json("binance/docs_spot_userdata_listStatus.jsonc"))) == (
        "listStatus")
    assert event_type('{"e": "listenKeyExpired", "E": 1}') == "listenKeyExpired"
    assert event_type("not json") is None


def test_frames_bare_wrapped_and_combined_give_the_same_events() -> None:
    msg = load_json("binance/docs_spot_userdata_executionReport.jsonc")
    bare = msg["event"]
    combined = {"stream": "listenkey", "data": bare}
    assert SPOT(msg, RECV) == SPOT(bare, RECV) == SPOT(combined, RECV)


@pytest.mark.parametrize("raw", ["{not json", '{"e": "executionReport", "s": "ETHBTC"}', "[1, 2]",
                                 '{"e": "outboundAccountPosition", "E": 1, "B": [{"a": "X"}]}'])
def test_malformed_frames_raise_a_clear_error(raw: str) -> None:
    with pytest.raises(MalformedMessage):
        SPOT(raw, RECV)


def test_unknown_symbols_are_guessed() -> None:
    msg = load_json("binance/docs_spot_userdata_executionReport.jsonc")
    (update,) = BinanceSpotPrivateNormalizer()(msg, RECV)
    assert update.symbol == "ETH/BTC"


# ---------------------------------------------------------------- USD-M


def test_order_trade_update_new() -> None:
    msg = load_json("binance/docs_usdm_userdata_ORDER_TRADE_UPDATE.jsonc")
    (update,) = USDM(msg, RECV)
    assert update == OrderUpdate(
        venue="binance_usdm", symbol="BTC/USDT", native_symbol="BTCUSDT",
        exchange_ts=1568879465650000, receive_ts=RECV, client_order_id="TEST",
        order_id="8886774", side=Side.SELL, order_type=OrderType.MARKET,
        time_in_force=TimeInForce.GTC, status=OrderStatus.NEW, price=None, qty="0.001",
        filled_qty="0", avg_price=None, reduce_only=False, created_ts=1568879465650000,
        reason="")


def test_order_trade_update_trade_gives_a_fill() -> None:
    msg = load_json("binance/docs_usdm_userdata_ORDER_TRADE_UPDATE.jsonc")
    msg["o"].update({"o": "LIMIT", "f": "GTX", "p": "7100.5", "x": "TRADE", "X": "FILLED",
                     "l": "0.001", "z": "0.001", "L": "7100.5", "ap": "7100.5", "n": "0.00142",
                     "t": 777, "m": True, "R": True})
    update, fill = USDM(msg, RECV)
    assert isinstance(update, OrderUpdate) and isinstance(fill, Fill)
    assert (update.order_type, update.time_in_force, update.avg_price, update.reduce_only,
            update.created_ts) == (OrderType.LIMIT, TimeInForce.GTC, "7100.5", True, 0)
    assert (fill.trade_id, fill.price, fill.qty, fill.fee, fill.fee_currency, fill.is_maker) == (
        "777", "7100.5", "0.001", "0.00142", "USDT", True)


def test_order_trade_update_expired_names_the_expire_reason() -> None:
    msg = load_json("binance/docs_usdm_userdata_ORDER_TRADE_UPDATE.jsonc")
    msg["o"].update({"x": "EXPIRED", "X": "EXPIRED", "er": "6"})
    (update,) = USDM(msg, RECV)
    assert (update.status, update.reason) == (OrderStatus.EXPIRED, "expire reason 6")  # type: ignore[attr-defined]


def test_account_update_gives_wallet_and_positions() -> None:
    msg = load_json("binance/docs_usdm_userdata_ACCOUNT_UPDATE.jsonc")
    wallet, *positions = USDM(msg, RECV)
    assert wallet == Wallet(
        venue="binance_usdm", symbol="", exchange_ts=1564745798938000, receive_ts=RECV,
        account_type="USDM", is_snapshot=False,
        balances=[Balance(asset="USDT", total="122624.12345678", available="100.12345678"),
                  Balance(asset="BUSD", total="1.00000000", available="0.00000000")])
    assert [(p.side, p.size, p.entry_price, p.unrealized_pnl, p.realized_pnl)  # type: ignore[attr-defined]
            for p in positions] == [
        (PositionSide.FLAT, "0", None, "0", "200"),
        (PositionSide.LONG, "20", "6563.66500", "2850.21200", "0"),
        (PositionSide.SHORT, "10", "6563.86000", "-1423.15600", "-45.04000000"),
    ]
    assert all(isinstance(p, PositionUpdate) and p.symbol == "BTC/USDT" for p in positions)


def test_one_way_positions_take_their_side_from_the_sign() -> None:
    msg = load_json("binance/docs_usdm_userdata_ACCOUNT_UPDATE.jsonc")
    short = copy.deepcopy(msg)
    short["a"]["P"] = [{**msg["a"]["P"][2], "ps": "BOTH"}]
    (_, position) = USDM(short, RECV)
    assert (position.side, position.size) == (PositionSide.SHORT, "10")  # type: ignore[attr-defined]


def test_trade_lite_publishes_nothing() -> None:
    assert USDM(load_json("binance/docs_usdm_userdata_TRADE_LITE.jsonc"), RECV) == []


def test_spot_account_rest_snapshot() -> None:
    # the documented GET /api/v3/account shape (fields not used here left out)
    body = {"updateTime": 123456789, "accountType": "SPOT", "balances": [
        {"asset": "BTC", "free": "4723846.89208129", "locked": "0.00000000"},
        {"asset": "LTC", "free": "4763368.68006011", "locked": "0.50000000"},
        {"asset": "BNB", "free": "0.00000000", "locked": "0.00000000"}]}
    wallet = spot_account_wallet(body, RECV)
    assert wallet.is_snapshot and wallet.exchange_ts == 123456789000
    assert [(b.asset, b.total, b.available, b.locked) for b in wallet.balances] == [
        ("BTC", "4723846.89208129", "4723846.89208129", "0.00000000"),
        ("LTC", "4763369.18006011", "4763368.68006011", "0.50000000")]


def test_fixture_loader_skips_outside_ci_and_fails_under_ci(
        monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    from fixtures_path import fixture, strip_jsonc

    monkeypatch.setenv("TTXT_FIXTURES", str(tmp_path))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="TTXT_FIXTURES"):
        fixture("binance/nothing.jsonc")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception):
        fixture("binance/nothing.jsonc")
    assert json.loads(strip_jsonc('{"a": "x // y", // c\n "b": [1，2]}')) == {"a": "x // y",
                                                                             "b": [1, 2]}
