"""Trading modes: paper (fills simulated from the connector's own books, no exchange call, the
same events out) and off (validated, acked NOT_SENT). Neither needs credentials."""

from __future__ import annotations

from decimal import Decimal

import pytest
from trading_support import VENUES, TradingRun, cid, create, simulator

from ttxt_kafka import venues
from ttxt_kafka.events import (
    AckStatus,
    CancelAllOrders,
    CancelOrder,
    Fill,
    OrderAck,
    OrderStatus,
    OrderUpdate,
    PositionSide,
    PositionUpdate,
    Side,
    Wallet,
    now_us,
)

pytestmark = pytest.mark.kafka

D = Decimal


@pytest.fixture(autouse=True)
def _no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for venue in VENUES:
        monkeypatch.delenv(f"TTXT_{venue.upper()}_API_KEY", raising=False)
        monkeypatch.delenv(f"TTXT_{venue.upper()}_API_SECRET", raising=False)


@pytest.mark.parametrize("venue", ["binance", "bybit_linear", "bitget_spot", "bitget_usdtm",
                                   "gateio_spot", "mexc_spot", "kucoin_spot",
                                   "coinbase_spot", "okx_spot", "okx_swap",
                                   "kraken_spot"])
async def test_paper_fills_from_the_connectors_own_book(kafka_bootstrap: str,
                                                       venue: str) -> None:
    spot = not venues.venue(venue).derivatives
    sim = simulator(venue, trading=False)  # no private side: any order request would fail
    await sim.start()
    run = await TradingRun.start(kafka_bootstrap, sim, mode="paper",
                                 paper={"balances": {"USDT": "100000", "BTC": "1"},
                                        "taker_fee": "0.001", "leverage": "5"})
    try:
        collector = run.collector
        start = await collector.wait(lambda: [w for w in collector.of(Wallet) if w.is_snapshot])
        assert {b.asset: b.total for b in start[0].balances} == (
            {"USDT": "100000", "BTC": "1"} if spot else {"USDT": "100000"})
        book = run.connector.books["BTC/USDT"]
        asks = [(D(p), D(q)) for p, q in book.asks(50)]

        ack = await run.place(create(venue, Side.BUY, "0.05"))
        assert ack.status is AckStatus.ACCEPTED and ack.order_id, ack
        fills = await collector.wait(lambda: [f for f in collector.of(Fill)
                                              if f.client_order_id == ack.client_order_id])
        done = await collector.wait(lambda: [u for u in collector.of(OrderUpdate)
                                             if u.client_order_id == ack.client_order_id
                                             and u.status is OrderStatus.FILLED])
        assert sum(D(f.qty) for f in fills) == D("0.05") == D(done[0].filled_qty)
        # taken from the book the connector had, best first: the synthetic market moves (20
        # steps/s) between reading the book and the fill, so its levels before or after count
        after = [(D(p), D(q)) for p, q in book.asks(50)]
        levels = dict(asks) | dict(after)
        assert D(fills[0].price) >= min(asks[0][0], after[0][0]) and all(
            D(f.price) in levels for f in fills), (fills, asks[:5], after[:5])
        fee_asset = "BTC" if spot else "USDT"
        assert {f.fee_currency for f in fills} == {fee_asset}
        cost = sum(D(f.price) * D(f.qty) for f in fills)
        fees = sum(D(f.fee) for f in fills)
        assert fees == (D("0.05") * D("0.001") if spot else cost * D("0.001"))
        wallets = await collector.wait(lambda: [w for w in collector.of(Wallet)
                                                if not w.is_snapshot])
        usdt = next(b for b in wallets[-1].balances if b.asset == "USDT")
        if spot:
            assert D(usdt.total) == D("100000") - cost
        else:
            assert D(usdt.total) == D("100000") - fees  # linear: only fees leave the wallet
            position = await collector.wait(lambda: [p for p in collector.of(PositionUpdate)
                                                     if p.symbol == "BTC/USDT"])
            assert position[-1].side is PositionSide.LONG and D(position[-1].size) == D("0.05")

        # a resting order and its cancel; then a rejection by the engine (balance)
        far = str((asks[0][0] * 2).quantize(D("0.1")))
        side = Side.SELL
        rest_id = cid(venue, "paper-rest")
        rest = await run.place(create(venue, side, "0.01", far, client_order_id=rest_id))
        assert rest.status is AckStatus.ACCEPTED
        cancel = CancelOrder(venue=venue, symbol="BTC/USDT", exchange_ts=now_us(),
                             receive_ts=now_us(), command_id="paper-cancel",
                             client_order_id=rest_id)
        await run.send(cancel)
        assert (await collector.ack("paper-cancel")).status is AckStatus.ACCEPTED
        await collector.wait(lambda: [u for u in collector.of(OrderUpdate)
                                      if u.client_order_id == rest_id
                                      and u.status is OrderStatus.CANCELED])
        broke = await run.place(create(venue, Side.BUY, "900", str(asks[0][0])))
        assert broke.status is AckStatus.REJECTED and broke.error_code == "INSUFFICIENT_BALANCE"
    finally:
        await run.stop()
        await sim.stop()
    assert sim.private is None and run.trader.stats.errors == 0


async def test_mode_off_validates_and_acks_not_sent(kafka_bootstrap: str) -> None:
    venue = "bybit_spot"
    sim = simulator(venue)  # the private side exists, and must see nothing
    await sim.start()
    run = await TradingRun.start(kafka_bootstrap, sim, mode="off")
    try:
        ts = now_us()
        header = {"venue": venue, "symbol": "BTC/USDT", "exchange_ts": ts, "receive_ts": ts}
        good = create(venue, Side.BUY, "0.01", "60000.0")
        bad = create(venue, Side.BUY, "0.01", "60000.05")
        cancel = CancelOrder(**header, command_id="off-cancel", client_order_id="x-1")  # type: ignore[arg-type]
        cancel_all = CancelAllOrders(**header, command_id="off-all")  # type: ignore[arg-type]
        await run.send(good, bad, cancel, cancel_all)
        acks = {c: await run.collector.ack(c) for c in
                (good.command_id, bad.command_id, "off-cancel", "off-all")}
        assert acks[good.command_id].status is AckStatus.NOT_SENT
        assert acks[good.command_id].client_order_id  # the id it would have had
        assert "trading mode off" in acks[good.command_id].reason
        assert acks[bad.command_id].status is AckStatus.REJECTED
        assert "not a multiple of tick" in acks[bad.command_id].reason
        assert acks["off-cancel"].status is acks["off-all"].status is AckStatus.NOT_SENT
    finally:
        await run.stop()
        await sim.stop()
    assert not sim.exchange.engine._orders  # noqa: SLF001
    assert not sim.exchange.requests, sim.exchange.requests  # not even a query or a snapshot
    assert len(run.collector.of(OrderAck)) == 4
