"""The whole trading path, per venue: a command on `ttxt.<venue>.orders` -> connector ->
simulator (signed requests, matching engine) -> ack, order updates, fills, balances and
positions on the topics, checked against the simulator's engine. Real broker, no mocks."""

from __future__ import annotations

from decimal import Decimal

import pytest
from trading_support import (
    QUOTE_SIZED_MARKET_BUYS,
    VENUES,
    TradingRun,
    cid,
    create,
    set_credentials,
    simulator,
)

from ttxt_kafka.events import (
    AckStatus,
    AmendOrder,
    CancelAllOrders,
    CancelOrder,
    Fill,
    OrderAck,
    OrderStatus,
    OrderUpdate,
    PositionSide,
    PositionUpdate,
    Side,
    TimeInForce,
    Wallet,
    now_us,
)
from ttxt_kafka.matching import MarketKind, OrderState, TradeFill

pytestmark = pytest.mark.kafka


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    set_credentials(monkeypatch)

D = Decimal
INSUFFICIENT = {"binance": "-2010", "binance_usdm": "-2019", "bybit_spot": "170131",
                "bybit_linear": "110007", "bitget_spot": "43012", "bitget_usdtm": "40762",
                "gateio_spot": "BALANCE_NOT_ENOUGH", "mexc_spot": "10101",
                "kucoin_spot": "200004",
                "coinbase_spot": "INSUFFICIENT_FUND",
                "okx_spot": "51008", "okx_swap": "51008",
                "kraken_spot": "EOrder:Insufficient funds"}
# Bybit reports what the engine expires (IOC remainder, FOK) as Cancelled
SAME_STATUS = {OrderStatus.EXPIRED: {OrderStatus.EXPIRED, OrderStatus.CANCELED}}


def _cmd_header(venue: str) -> dict[str, object]:
    ts = now_us()
    return {"venue": venue, "symbol": "BTC/USDT", "exchange_ts": ts, "receive_ts": ts}


@pytest.mark.parametrize("venue", VENUES)
async def test_orders_round_trip_and_match_the_engine(kafka_bootstrap: str, venue: str) -> None:
    sim = simulator(venue)
    await sim.start()
    run = await TradingRun.start(kafka_bootstrap, sim)
    try:
        collector = run.collector
        await collector.wait(lambda: [w for w in collector.of(Wallet) if w.is_snapshot],
                             what="the wallet snapshot at start")
        best_bid = D(run.connector.books["BTC/USDT"].best_bid()[0])  # type: ignore[index]
        low = str((best_bid - D("50")).quantize(D("0.1")))

        # a resting limit order, then a market order that fills against the market's book
        rest_id = cid(venue, f"rest-{venue}")
        rest = create(venue, Side.BUY, "0.02", low, client_order_id=rest_id)
        ack = await run.place(rest)
        assert (ack.status, ack.client_order_id) == (AckStatus.ACCEPTED, rest_id), ack
        assert ack.order_id and ack.symbol == "BTC/USDT"
        assert ack.native_symbol == run.connector.symbols.to_native["BTC/USDT"]
        market = create(venue, Side.BUY, "0.05")
        if venue in QUOTE_SIZED_MARKET_BUYS:  # market buys sized in quote: a limit IOC
            best_ask = D(run.connector.books["BTC/USDT"].best_ask()[0])  # type: ignore[index]
            market = create(venue, Side.BUY, "0.05", str(best_ask + 100),
                            time_in_force=TimeInForce.IOC)
        ack_m = await run.place(market)
        assert ack_m.status is AckStatus.ACCEPTED, ack_m
        filled = await collector.wait(lambda: [u for u in collector.of(OrderUpdate)
                                               if u.client_order_id == ack_m.client_order_id
                                               and u.status is OrderStatus.FILLED])
        assert D(filled[0].filled_qty) == D("0.05")

        # amend the resting order (Binance spot: cancel-replace), then cancel it by client id
        amend = AmendOrder(**_cmd_header(venue), command_id=f"amend-{venue}",  # type: ignore[arg-type]
                           client_order_id=rest_id, new_price=str(D(low) - 1))
        await run.send(amend)
        ack_a = await collector.ack(amend.command_id)
        assert ack_a.status is AckStatus.ACCEPTED, ack_a
        await collector.wait(lambda: [u for u in collector.of(OrderUpdate)
                                      if u.client_order_id == rest_id
                                      and u.price and D(u.price) == D(low) - 1])
        cancel = CancelOrder(**_cmd_header(venue), command_id=f"cancel-{venue}",  # type: ignore[arg-type]
                             client_order_id=rest_id)
        await run.send(cancel)
        assert (await collector.ack(cancel.command_id)).status is AckStatus.ACCEPTED
        await collector.wait(lambda: [u for u in collector.of(OrderUpdate)
                                      if u.client_order_id == rest_id
                                      and u.status is OrderStatus.CANCELED])

        # the exchange refuses: its code and message come back on a rejected ack
        too_big = create(venue, Side.BUY, "400", low)  # 400 x ~65000 / leverage 10 > 1M USDT
        rejected = await run.place(too_big)
        assert rejected.status is AckStatus.REJECTED
        assert rejected.error_code == INSUFFICIENT[venue], rejected
        assert rejected.reason and "not a multiple" not in rejected.reason

        # a rate-limit answer is backed off and retried within the bound
        sim.inject("rate_limit", count=2)
        retried = await run.place(create(venue, Side.SELL, "0.01"))
        assert retried.status is AckStatus.ACCEPTED, retried
        # (Coinbase's wallet re-read after an order may draw one of the two limited answers)
        assert run.trader.stats.retries >= (1 if venue == "coinbase_spot" else 2)

        # two resting orders, one cancel-all of the symbol
        for i in range(2):
            resting = create(venue, Side.BUY, "0.01", low, client_order_id=cid(venue, f"ca{i}"))
            assert (await run.place(resting)).status is AckStatus.ACCEPTED
        cancel_all = CancelAllOrders(**_cmd_header(venue), command_id=f"all-{venue}")  # type: ignore[arg-type]
        await run.send(cancel_all)
        assert (await collector.ack(cancel_all.command_id)).status is AckStatus.ACCEPTED
        await collector.wait(lambda: not sim.exchange.open_orders())
        await _consistent_with_engine(run)
    finally:
        await run.stop()
        await sim.stop()
    assert run.trader.stats.errors == 0


async def _consistent_with_engine(run: TradingRun) -> None:
    sim, collector = run.sim, run.collector
    engine = sim.exchange.engine
    orders: list[OrderState] = [o.snapshot() for o in engine._orders.values()]  # noqa: SLF001
    engine_fills = [e for e in run.engine_events if isinstance(e, TradeFill)
                    and e.account == sim.exchange.account]

    # every fill the engine made is on the executions topic, exactly, once
    def fills_in() -> bool:
        return len(collector.of(Fill)) >= len(engine_fills)

    await collector.wait(fills_in, what="every fill")
    if sim.venue == "coinbase_spot":
        # Coinbase's user channel has no trades, only each order's cumulative figures: a fill
        # is a step of them (trade id "<order id>-<count>", fees in the quote asset)
        topic_fills = sorted((f.order_id, D(f.price), D(f.qty), D(f.fee), f.side)
                             for f in collector.of(Fill))
        assert topic_fills == sorted(
            (str(f.order_id), f.price, f.qty, f.fee if f.fee_asset == "USDT" else
             f.fee * f.price, f.side) for f in engine_fills)
        assert all(f.fee_currency == "USDT" for f in collector.of(Fill))
    else:
        # KuCoin's order push carries no fee: its fills say fee 0 (the fee is in the balances)
        no_fee = sim.venue == "kucoin_spot"
        topic_fills = sorted((f.trade_id, D(f.price), D(f.qty), D(f.fee), f.fee_currency,
                              f.side) for f in collector.of(Fill))
        assert topic_fills == sorted((str(f.trade_id), f.price, f.qty,
                                      D(0) if no_fee else f.fee,
                                      "" if no_fee else f.fee_asset, f.side)
                                     for f in engine_fills)

    # every order's last update says what the engine says
    def last_updates() -> dict[str, OrderUpdate]:
        latest: dict[str, OrderUpdate] = {}
        for u in collector.of(OrderUpdate):
            latest[u.order_id] = u
        return latest

    def settled() -> bool:
        latest = last_updates()
        return all(str(o.order_id) in latest and latest[str(o.order_id)].status in
                   SAME_STATUS.get(o.status, {o.status}) for o in orders)

    await collector.wait(settled, what="every order's final update")
    latest = last_updates()
    for o in orders:
        u = latest[str(o.order_id)]
        assert (u.client_order_id, D(u.filled_qty), D(u.qty), u.side) == (
            o.client_order_id, o.filled_qty, o.qty, o.side), (u, o)

    # the balances on the account topic (snapshot + deltas) are the engine's
    def balances() -> dict[str, tuple[Decimal, Decimal]]:
        out: dict[str, tuple[Decimal, Decimal]] = {}
        for w in collector.of(Wallet):
            if w.is_snapshot:
                out = {}
            out.update({b.asset: (D(b.total), D(b.available)) for b in w.balances})
        return out

    expected = sim.exchange.balances()
    usdm = sim.venue == "binance_usdm"  # its stream's "available" is the cross wallet

    def balances_match() -> bool:
        have = balances()
        return all(a in have and have[a][0] == total and (usdm or have[a][1] == avail)
                   for a, (total, avail, _) in expected.items())

    await collector.wait(balances_match, what=f"balances {expected} vs {balances()}")

    # derivatives: the position on the account topic is the engine's
    if engine.market is MarketKind.LINEAR:
        (position,) = sim.exchange.positions()
        updates = [p for p in collector.of(PositionUpdate) if p.symbol == "BTC/USDT"]
        assert updates, "no position update"
        last = updates[-1]
        assert D(last.size) == abs(position.size) > 0
        assert last.side is (PositionSide.LONG if position.size > 0 else PositionSide.SHORT)
        assert last.entry_price is not None and D(last.entry_price) == position.entry_price
    acks = collector.of(OrderAck)
    assert len(acks) == len({a.command_id for a in acks}), "an ack was published twice"
