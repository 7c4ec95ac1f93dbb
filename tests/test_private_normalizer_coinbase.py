"""Coinbase Advanced Trade `user` channel and trading REST bodies: the docs example (scrape
artifacts stripped, see test_normalizer_coinbase), and the fills derived from the cumulative
figures Coinbase pushes (the channel has no per-trade fields)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from test_normalizer_coinbase import docs_example

from ttxt_kafka.connectors.base.errors import ExchangeMessageError, MalformedMessage
from ttxt_kafka.connectors.coinbase.normalizer_private import (
    CoinbasePrivateNormalizer,
    orders_from_rest,
    wallet_from_rest,
)
from ttxt_kafka.connectors.coinbase.normalizer_spot import iso_us
from ttxt_kafka.events import Fill, OrderStatus, OrderType, OrderUpdate, Side, TimeInForce

RECV = 1_800_000_000_000_000


def push(kind: str, **order: Any) -> str:
    base = {"order_id": "o-1", "client_order_id": "c-1", "product_id": "BTC-USD",
            "order_side": "BUY", "order_type": "Limit", "limit_price": "50000",
            "time_in_force": "GOOD_UNTIL_CANCELLED", "post_only": "false", "status": "OPEN",
            "cumulative_quantity": "0", "leaves_quantity": "0.3", "avg_price": "0",
            "filled_value": "0", "total_fees": "0", "number_of_fills": "0",
            "creation_time": "2026-08-09T21:05:48.228568Z"}
    return json.dumps({"channel": "user", "client_id": "", "timestamp":
                       "2026-08-09T21:05:49.5Z", "sequence_num": 3,
                       "events": [{"type": kind, "orders": [base | order]}]})


def test_docs_example() -> None:
    [u] = CoinbasePrivateNormalizer()(docs_example("docs_ws_user_channel.txt"), RECV)
    assert isinstance(u, OrderUpdate)  # a snapshot: the order, no fill (that trade is history)
    assert (u.symbol, u.native_symbol, u.client_order_id, u.order_id) == (
        "BTC/USD", "BTC-USD", "XXX", "YYY")
    assert (u.side, u.order_type, u.time_in_force, u.status) == (
        Side.BUY, OrderType.LIMIT, TimeInForce.GTC, OrderStatus.FILLED)
    assert (u.price, u.qty, u.filled_qty, u.avg_price) == ("50000", "0.01", "0.01", "50000")
    assert u.exchange_ts == iso_us("2023-02-09T20:33:57.609931463Z")
    assert u.created_ts == iso_us("2024-06-21T18:29:13.909347Z")
    # its `positions` are INTX perpetuals and dated futures: not this spot venue's


def test_fills_are_the_steps_of_the_cumulative_figures() -> None:
    n = CoinbasePrivateNormalizer()
    [opened] = n(push("snapshot"), RECV)
    assert opened.status is OrderStatus.NEW and opened.qty == "0.3"
    first = n(push("update", cumulative_quantity="0.1", leaves_quantity="0.2",
                   avg_price="50000", filled_value="5000", total_fees="30",
                   number_of_fills="1"), RECV)
    assert [type(e) for e in first] == [OrderUpdate, Fill]
    u, f = first
    assert u.status is OrderStatus.PARTIALLY_FILLED and u.filled_qty == "0.1"
    assert isinstance(f, Fill)
    assert (f.trade_id, f.price, f.qty, f.fee, f.fee_currency, f.side) == (
        "o-1-1", "50000", "0.1", "30", "USD", Side.BUY)
    # two trades in one push (0.1 at 49990, 0.1 at 49980): one fill at their average
    _, f2 = n(push("update", status="OPEN", cumulative_quantity="0.3", leaves_quantity="0",
                   avg_price="49990", filled_value="14997", total_fees="89.982",
                   number_of_fills="3"), RECV)
    assert isinstance(f2, Fill)
    assert (f2.trade_id, f2.price, f2.qty, f2.fee) == ("o-1-3", "49985", "0.2", "59.982")
    # the final state repeats the figures: no new fill
    [done] = n(push("update", status="FILLED", cumulative_quantity="0.3",
                    leaves_quantity="0", filled_value="14997", total_fees="89.982",
                    number_of_fills="3"), RECV)
    assert done.status is OrderStatus.FILLED and done.qty == "0.3"


def test_a_canceled_order_keeps_its_size() -> None:
    n = CoinbasePrivateNormalizer()
    n(push("update"), RECV)
    [canceled] = n(push("update", status="CANCELLED", leaves_quantity="0"), RECV)
    assert (canceled.status, canceled.qty, canceled.filled_qty) == (
        OrderStatus.CANCELED, "0.3", "0")


def test_rest_order_and_accounts() -> None:
    body = {"order": {
        "order_id": "o-9", "product_id": "ETH-USD", "side": "SELL", "client_order_id": "c-9",
        "status": "OPEN", "time_in_force": "IMMEDIATE_OR_CANCEL",
        "created_time": "2026-08-09T21:05:48Z", "filled_size": "0.5",
        "average_filled_price": "1919.41", "order_type": "LIMIT", "last_fill_time": None,
        "order_configuration": {"sor_limit_ioc": {"base_size": "2", "limit_price": "1919"}}}}
    [o] = orders_from_rest(body, CoinbasePrivateNormalizer(), RECV)
    assert (o.symbol, o.side, o.time_in_force, o.status, o.price, o.qty, o.filled_qty) == (
        "ETH/USD", Side.SELL, TimeInForce.IOC, OrderStatus.PARTIALLY_FILLED, "1919", "2", "0.5")
    market = {"orders": [body["order"] | {"order_type": "MARKET", "order_configuration": {
        "market_market_ioc": {"base_size": "1"}}, "status": "FILLED", "filled_size": "1"}]}
    [m] = orders_from_rest(market, CoinbasePrivateNormalizer(), RECV)
    assert (m.order_type, m.price, m.qty, m.status) == (OrderType.MARKET, None, "1",
                                                        OrderStatus.FILLED)
    wallet = wallet_from_rest([
        {"currency": "BTC", "available_balance": {"value": "1.5", "currency": "BTC"},
         "hold": {"value": "0.25", "currency": "BTC"}},
        {"currency": "USD", "available_balance": {"value": "100", "currency": "USD"}}],
        RECV, "coinbase_spot")
    assert wallet.is_snapshot and [(b.asset, b.total, b.available, b.locked)
                                   for b in wallet.balances] == [
        ("BTC", "1.75", "1.5", "0.25"), ("USD", "100", "100", "0")]


def test_control_error_and_bad_frames() -> None:
    n = CoinbasePrivateNormalizer()
    assert n('{"channel":"subscriptions","sequence_num":1,"events":[]}', RECV) == []
    assert n('{"channel":"heartbeats","sequence_num":2,"events":[]}', RECV) == []
    with pytest.raises(ExchangeMessageError, match="authentication failure"):
        n('{"type":"error","message":"authentication failure"}', RECV)
    for bad in ("}{", '{"channel":"user","events":[{"orders":[{"order_id":"x"}]}]}'):
        with pytest.raises(MalformedMessage):
            n(bad, RECV)


async def test_a_gap_in_the_user_channel_reads_the_account_again() -> None:
    """The private stream checks the connection's `sequence_num` too: a lost push means a lost
    order update, so the trader's sync (open orders and wallet over REST) runs."""
    from trading_support import COINBASE_CREDENTIALS

    from ttxt_kafka.connectors.coinbase.private_stream import CoinbasePrivateStream

    published: list[Any] = []
    syncs: list[str] = []

    async def publish(event: Any) -> None:
        published.append(event)

    async def status(*args: Any) -> None:
        pass

    async def sync() -> None:
        syncs.append("sync")

    stream = CoinbasePrivateStream(url="ws://unused", credentials=COINBASE_CREDENTIALS,
                                   venue="coinbase_spot", normalizer=CoinbasePrivateNormalizer(),
                                   publish=publish, status=status, on_reconnect=sync)

    def frame(seq: int) -> str:
        return push("update").replace('"sequence_num": 3', f'"sequence_num": {seq}')

    for seq in (5, 6, 7, 6):  # in order; a repeat is not a gap
        await stream._frame(frame(seq))  # noqa: SLF001
    await asyncio.sleep(0)
    assert (stream.gaps, syncs) == (0, [])
    await stream._frame(frame(9))  # noqa: SLF001 - 8 was lost
    await asyncio.sleep(0.01)
    assert (stream.gaps, syncs, stream.last_sequence) == (1, ["sync"], 9)
    assert len(published) == 5
    await stream.close()
