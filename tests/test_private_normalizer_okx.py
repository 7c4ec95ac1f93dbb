"""OKX v5 private normalizer on the fixtures (orders, account, REST balance and positions;
the nautilus fixtures, provenance not stated: MANIFEST.md) and on shapes the simulator sends:
exact strings, contracts as base quantities for swaps, signed fees as fees paid."""

from __future__ import annotations

import json
from typing import Any

import pytest
from connector_support import fixture

from ttxt_kafka.connectors.base.errors import ExchangeMessageError, MalformedMessage
from ttxt_kafka.connectors.base.symbols import SymbolMap
from ttxt_kafka.connectors.okx.normalizer_private import (
    OkxPrivateNormalizer,
    orders_from_rest,
    positions_from_rest,
    wallet_from_rest,
)
from ttxt_kafka.connectors.okx.normalizer_swap import OkxSwapNormalizer
from ttxt_kafka.events import (
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

RECV = 1_700_000_000_000_000


def docs(name: str) -> Any:
    return json.loads(fixture(f"okx/{name}").read_text(encoding="utf-8"))


def swap_symbols() -> SymbolMap:
    body = {"code": "0", "msg": "", "data": [{
        "instType": "SWAP", "instId": "BTC-USDT-SWAP", "uly": "BTC-USDT", "ctVal": "0.01",
        "ctType": "linear", "tickSz": "0.1", "lotSz": "0.01", "minSz": "0.01", "state": "live"}]}
    symbols = SymbolMap("okx_swap")
    for info in OkxSwapNormalizer().instruments(body, RECV):
        symbols.add(info)
    return symbols


def test_orders_push_fixture_in_base_quantities() -> None:
    n = OkxPrivateNormalizer(swap_symbols(), account_venue="okx_swap")
    update, fill = n(json.dumps(docs("fixture_nautilus_ws_private_orders.json")), RECV)
    assert isinstance(update, OrderUpdate) and isinstance(fill, Fill)
    assert (update.venue, update.symbol, update.native_symbol) == ("okx_swap", "BTC/USDT",
                                                                   "BTC-USDT-SWAP")
    assert (update.status, update.order_type, update.side) == (OrderStatus.FILLED,
                                                               OrderType.MARKET, Side.BUY)
    assert (update.qty, update.filled_qty, update.avg_price, update.price) == (
        "0.0003", "0.0003", "103698.9", None)  # 0.03 contracts of 0.01 BTC
    assert update.client_order_id == "001BTCUSDT20250106001"
    assert update.order_id == "2497956918703120384" and update.exchange_ts == 1746947317402000
    assert (fill.trade_id, fill.price, fill.qty, fill.fee, fill.fee_currency, fill.is_maker) == (
        "1518905529", "103698.9", "0.0003", "0.021776769", "USDT", True)


def test_account_push_and_rest_balance() -> None:
    n = OkxPrivateNormalizer(account_venue="okx_spot")
    [wallet] = n(json.dumps(docs("fixture_nautilus_ws_private_account.json")), RECV)
    assert isinstance(wallet, Wallet) and not wallet.is_snapshot
    usdt = next(b for b in wallet.balances if b.asset == "USDT")
    assert (usdt.total, usdt.available, usdt.locked) == ("100.52768569797846",
                                                         "100.52768569797846", "0")
    [snap] = wallet_from_rest(docs("fixture_nautilus_rest_account_balance.json"), n, RECV)
    assert snap.is_snapshot and snap.exchange_ts == 1744499648556000
    [b] = snap.balances
    assert (b.asset, b.total, b.available, b.locked) == ("USDT", "94.42612990333333",
                                                         "94.42612990333333", "5.468566666666667")


def test_rest_positions_fixture() -> None:
    n = OkxPrivateNormalizer(swap_symbols(), account_venue="okx_swap")
    [p] = positions_from_rest(docs("fixture_nautilus_rest_account_positions.json"), n, RECV)
    assert isinstance(p, PositionUpdate)
    assert (p.side, p.size, p.entry_price, p.mark_price, p.leverage, p.liquidation_price) == (
        PositionSide.LONG, "0.005", "10000", "10000", "10.0", "9000")


def test_net_mode_position_sign_and_flat() -> None:
    n = OkxPrivateNormalizer(swap_symbols(), account_venue="okx_swap")
    push = {"arg": {"channel": "positions", "instType": "SWAP"}, "data": [
        {"instId": "BTC-USDT-SWAP", "posSide": "net", "pos": "-3", "avgPx": "50000",
         "uTime": "1"},
        {"instId": "BTC-USDT-SWAP", "posSide": "net", "pos": "0", "avgPx": "", "uTime": "2"}]}
    short, flat = n(json.dumps(push), RECV)
    assert (short.side, short.size) == (PositionSide.SHORT, "0.03")  # type: ignore[union-attr]
    assert (flat.side, flat.size) == (PositionSide.FLAT, "0")  # type: ignore[union-attr]


def test_spot_order_states_and_rest_order() -> None:
    n = OkxPrivateNormalizer(account_venue="okx_spot")
    item = {"instId": "BTC-USDT", "ordId": "1", "clOrdId": "c1", "px": "60000", "sz": "0.5",
            "ordType": "post_only", "side": "sell", "accFillSz": "0.1", "avgPx": "60000",
            "state": "partially_filled", "reduceOnly": "false", "cTime": "5", "uTime": "6",
            "tradeId": "", "fillSz": "0"}
    [u] = orders_from_rest({"code": "0", "msg": "", "data": [item]}, n, RECV)
    assert (u.status, u.time_in_force, u.qty, u.filled_qty, u.price) == (
        OrderStatus.PARTIALLY_FILLED, TimeInForce.GTC, "0.5", "0.1", "60000")
    for state, status in (("live", OrderStatus.NEW), ("canceled", OrderStatus.CANCELED),
                          ("mmp_canceled", OrderStatus.CANCELED)):
        [u] = orders_from_rest({"code": "0", "data": [dict(item, state=state)]}, n, RECV)
        assert u.status is status
    with pytest.raises(ExchangeMessageError, match="51603"):
        orders_from_rest({"code": "51603", "msg": "Order does not exist", "data": []}, n, RECV)


def test_control_frames_errors_and_malformed() -> None:
    n = OkxPrivateNormalizer()
    assert n("pong", RECV) == []
    assert n('{"event":"login","code":"0","msg":"","connId":"1"}', RECV) == []
    assert n('{"event":"subscribe","arg":{"channel":"orders","instType":"SPOT"}}', RECV) == []
    with pytest.raises(ExchangeMessageError, match="60009"):
        n('{"event":"error","code":"60009","msg":"Login failed","connId":"1"}', RECV)
    with pytest.raises(MalformedMessage):
        n('{"arg":{"channel":"orders"},"data":[{"instId":"BTC-USDT"}]}', RECV)
