"""Matching engine, spot: priority, order types, amend/cancel, fees and balances, exactness."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from ttxt_kafka.events import OrderStatus, OrderType, Side, TimeInForce
from ttxt_kafka.matching import (
    BalanceChanged,
    EngineEvent,
    ExecType,
    FeeSchedule,
    Instrument,
    MarketKind,
    MatchingEngine,
    OrderAccepted,
    OrderRejected,
    OrderRequest,
    OrderUpdated,
    Reason,
    StpMode,
    TradeFill,
)

D = Decimal
SYM = "BTCUSDT"
BUY, SELL = Side.BUY, Side.SELL


def make_engine(**kwargs: object) -> MatchingEngine:
    engine = MatchingEngine(MarketKind.SPOT, fees=FeeSchedule(maker=D("0.001"), taker=D("0.002")),
                            **kwargs)  # type: ignore[arg-type]
    engine.add_instrument(Instrument(SYM, "BTC", "USDT", tick_size=D("0.1"), lot_size=D("0.001"),
                                     min_qty=D("0.001"), max_qty=D("100"), min_notional=D("5")))
    for account in ("alice", "bob", "carol"):
        engine.deposit(account, "USDT", D("1000000"))
        engine.deposit(account, "BTC", D("10"))
    return engine


def limit(side: Side, qty: str, price: str, tif: TimeInForce = TimeInForce.GTC,
          **kwargs: object) -> OrderRequest:
    return OrderRequest(symbol=SYM, side=side, order_type=OrderType.LIMIT, qty=D(qty),
                        price=D(price), time_in_force=tif, **kwargs)  # type: ignore[arg-type]


def market(side: Side, qty: str, **kwargs: object) -> OrderRequest:
    return OrderRequest(symbol=SYM, side=side, order_type=OrderType.MARKET, qty=D(qty),
                        **kwargs)  # type: ignore[arg-type]


def of(events: list[EngineEvent], cls: type) -> list[Any]:
    return [e for e in events if isinstance(e, cls)]


def rejected(events: list[EngineEvent]) -> OrderRejected:
    assert len(events) == 1 and isinstance(events[0], OrderRejected), events
    return events[0]


def order_id(events: list[EngineEvent]) -> int:
    return of(events, OrderAccepted)[0].order.order_id


def bal(engine: MatchingEngine, account: str, asset: str) -> tuple[Decimal, Decimal]:
    _, free, locked = engine.balance(account, asset)
    return free, locked


# ---------------------------------------------------------------- resting and priority


def test_limit_order_rests_and_locks_its_cost() -> None:
    e = make_engine()
    events = e.submit("alice", limit(BUY, "0.5", "60000.0", client_order_id="a1"))
    accepted = of(events, OrderAccepted)[0].order
    assert accepted.status is OrderStatus.NEW and accepted.client_order_id == "a1"
    assert bal(e, "alice", "USDT") == (D("970000.0"), D("30000.0"))
    assert e.depth(SYM) == ([(D("60000.0"), D("0.5"))], [])
    (change,) = of(events, BalanceChanged)
    assert (change.asset, change.total, change.available, change.locked) == (
        "USDT", D("1000000.0"), D("970000.0"), D("30000.0"))


def test_price_then_time_priority() -> None:
    e = make_engine()
    first = order_id(e.submit("alice", limit(SELL, "1", "60001.0")))
    second = order_id(e.submit("bob", limit(SELL, "1", "60001.0")))
    better = order_id(e.submit("carol", limit(SELL, "1", "60000.5")))
    events = e.submit("alice", market(BUY, "2.5"))
    fills = [f for f in of(events, TradeFill) if f.is_maker]
    assert [(f.order_id, f.price, f.qty) for f in fills] == [
        (better, D("60000.5"), D("1")), (first, D("60001.0"), D("1")),
        (second, D("60001.0"), D("0.5"))]
    assert [o.order_id for o in e.resting(SYM, SELL)] == [second]
    assert e.resting(SYM, SELL)[0].remaining == D("0.5")


def test_fill_events_in_exchange_order_with_fees_in_the_received_asset() -> None:
    e = make_engine()
    maker = order_id(e.submit("alice", limit(SELL, "0.5", "60000.0")))
    events = e.submit("bob", limit(BUY, "0.2", "60000.0"))
    kinds = [type(x).__name__ for x in events]
    assert kinds[:6] == ["OrderAccepted", "TradeFill", "OrderUpdated", "TradeFill",
                         "OrderUpdated", "BalanceChanged"]
    maker_fill, taker_fill = of(events, TradeFill)
    assert maker_fill.trade_id == taker_fill.trade_id == 1
    assert (maker_fill.order_id, maker_fill.is_maker, maker_fill.counterparty) == (
        maker, True, "bob")
    # seller (maker 0.1%) pays in quote, buyer (taker 0.2%) pays in base
    assert (maker_fill.fee, maker_fill.fee_asset) == (D("12.0000"), "USDT")
    assert (taker_fill.fee, taker_fill.fee_asset) == (D("0.0004"), "BTC")
    assert bal(e, "alice", "BTC") == (D("9.5"), D("0.3"))
    assert bal(e, "alice", "USDT") == (D("1000000") + D("12000.0") - D("12.0000"), D("0"))
    assert bal(e, "bob", "BTC") == (D("10.2") - D("0.0004"), D("0"))
    assert bal(e, "bob", "USDT") == (D("988000.0"), D("0.0"))
    assert e.fees_collected == {"USDT": D("12.0000"), "BTC": D("0.0004")}
    updates = of(events, OrderUpdated)
    assert updates[0].order.status is OrderStatus.PARTIALLY_FILLED
    assert updates[1].order.status is OrderStatus.FILLED
    assert updates[1].order.cum_quote == D("12000.0")


def test_taker_buy_gets_price_improvement_back() -> None:
    e = make_engine()
    e.submit("alice", limit(SELL, "1", "59000.0"))
    e.submit("bob", limit(BUY, "1", "60000.0"))
    # locked 60000 at acceptance, paid 59000: the 1000 difference is free again
    assert bal(e, "bob", "USDT") == (D("941000.0"), D("0.0"))


def test_events_are_sequenced_and_deterministic() -> None:
    def run() -> list[EngineEvent]:
        e = make_engine()
        out: list[EngineEvent] = []
        out += e.submit("alice", limit(SELL, "1", "60000.0"))
        out += e.submit("bob", limit(BUY, "2", "60000.0"))
        out += e.cancel("bob", SYM, order_id=2)
        return out

    first, second = run(), run()
    assert first == second
    seqs = [x.seq for x in first]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


# ---------------------------------------------------------------- order types


def test_market_order_walks_the_book_and_expires_the_rest() -> None:
    e = make_engine()
    e.submit("alice", limit(SELL, "0.3", "60000.0"))
    e.submit("alice", limit(SELL, "0.3", "60010.0"))
    events = e.submit("bob", market(BUY, "1"))
    taker = [f for f in of(events, TradeFill) if not f.is_maker]
    assert [(f.price, f.qty) for f in taker] == [(D("60000.0"), D("0.3")),
                                                  (D("60010.0"), D("0.3"))]
    final = of(events, OrderUpdated)[-1]
    assert final.order.status is OrderStatus.EXPIRED and final.reason is Reason.IOC_REMAINDER
    assert final.order.filled_qty == D("0.6")
    assert e.depth(SYM) == ([], [])


def test_market_order_into_an_empty_book_expires_with_no_liquidity() -> None:
    e = make_engine()
    events = e.submit("bob", market(SELL, "1"))
    assert of(events, OrderAccepted)
    assert of(events, OrderUpdated)[-1].reason is Reason.NO_LIQUIDITY
    assert bal(e, "bob", "BTC") == (D("10"), D("0"))


def test_market_buy_is_checked_against_its_real_cost() -> None:
    e = make_engine()
    e.deposit("dave", "USDT", D("100"))
    e.submit("alice", limit(SELL, "1", "60000.0"))
    problem = rejected(e.submit("dave", market(BUY, "0.002")))
    assert problem.reason is Reason.INSUFFICIENT_BALANCE
    assert "needs 120.0000 USDT" in problem.message
    events = e.submit("dave", market(BUY, "0.001"))
    assert of(events, OrderUpdated)[-1].order.status is OrderStatus.FILLED
    assert bal(e, "dave", "USDT") == (D("40.0000"), D("0"))


def test_ioc_trades_what_it_can_and_never_rests() -> None:
    e = make_engine()
    e.submit("alice", limit(SELL, "0.4", "60000.0"))
    events = e.submit("bob", limit(BUY, "1", "60000.0", TimeInForce.IOC))
    last = of(events, OrderUpdated)[-1]
    assert last.exec_type is ExecType.EXPIRED and last.order.filled_qty == D("0.4")
    assert e.depth(SYM) == ([], [])
    assert bal(e, "bob", "USDT")[1] == 0


def test_fok_is_all_or_nothing() -> None:
    e = make_engine()
    e.submit("alice", limit(SELL, "0.4", "60000.0"))
    e.submit("alice", limit(SELL, "0.4", "60001.0"))
    events = e.submit("bob", limit(BUY, "1", "60001.0", TimeInForce.FOK))
    assert not of(events, TradeFill)
    last = of(events, OrderUpdated)[-1]
    assert last.order.status is OrderStatus.EXPIRED and last.reason is Reason.FOK_NOT_FILLED
    assert e.depth(SYM)[1] == [(D("60000.0"), D("0.4")), (D("60001.0"), D("0.4"))]
    assert bal(e, "bob", "USDT") == (D("1000000"), D("0"))
    events = e.submit("bob", limit(BUY, "0.8", "60001.0", TimeInForce.FOK))
    assert sum(f.qty for f in of(events, TradeFill) if not f.is_maker) == D("0.8")
    assert of(events, OrderUpdated)[-1].order.status is OrderStatus.FILLED


def test_market_fok_is_all_or_nothing_too() -> None:
    e = make_engine()
    e.submit("alice", limit(SELL, "0.4", "60000.0"))
    events = e.submit("bob", market(BUY, "0.5", time_in_force=TimeInForce.FOK))
    assert not of(events, TradeFill)
    assert of(events, OrderUpdated)[-1].reason is Reason.FOK_NOT_FILLED


def test_post_only() -> None:
    e = make_engine()
    e.submit("alice", limit(SELL, "1", "60000.0"))
    problem = rejected(e.submit("bob", limit(BUY, "1", "60000.0", post_only=True)))
    assert problem.reason is Reason.POST_ONLY_WOULD_TAKE
    events = e.submit("bob", limit(BUY, "1", "59999.9", post_only=True))
    assert of(events, OrderAccepted) and not of(events, TradeFill)
    assert rejected(e.submit("bob", market(BUY, "1", post_only=True))).reason is (
        Reason.INVALID_ORDER)
    assert rejected(e.submit("bob", limit(BUY, "1", "10.0", TimeInForce.IOC, post_only=True))
                    ).reason is Reason.INVALID_ORDER


# ---------------------------------------------------------------- validation and balances


@pytest.mark.parametrize(("request_", "reason", "message"), [
    (limit(BUY, "0.0015", "60000.0"), Reason.INVALID_QUANTITY,
     "quantity 0.0015 is not a multiple of lot size 0.001"),
    (limit(BUY, "1", "60000.05"), Reason.INVALID_PRICE,
     "price 60000.05 is not a multiple of tick 0.1"),
    (limit(BUY, "0", "60000.0"), Reason.INVALID_QUANTITY, "quantity 0 must be positive"),
    (limit(BUY, "-1", "60000.0"), Reason.INVALID_QUANTITY, "quantity -1 must be positive"),
    (limit(BUY, "101", "1.0"), Reason.INVALID_QUANTITY, "quantity 101 is above the maximum 100"),
    (limit(BUY, "0.001", "1000.0"), Reason.MIN_NOTIONAL,
     "notional 1.0000 (quantity 0.001 x price 1000.0) is below the minimum 5"),
    (limit(BUY, "1", "-5.0"), Reason.INVALID_PRICE, "price -5.0 must be positive"),
    (OrderRequest(symbol=SYM, side=BUY, order_type=OrderType.LIMIT, qty=D("1")),
     Reason.INVALID_PRICE, "a LIMIT order needs a price"),
    (market(BUY, "1", price=D("1.0")), Reason.INVALID_PRICE, "a MARKET order takes no price"),
    (market(BUY, "1", reduce_only=True), Reason.INVALID_ORDER, "reduce-only is for derivatives"),
    (OrderRequest(symbol="ETHUSDT", side=BUY, order_type=OrderType.MARKET, qty=D("1")),
     Reason.UNKNOWN_SYMBOL, "unknown symbol ETHUSDT"),
    (limit(BUY, "1", "NaN"), Reason.INVALID_PRICE, "price NaN must be positive"),
    (limit(BUY, "1E+500", "1.0"), Reason.INVALID_QUANTITY, "quantity 1E+500 has too many digits"),
    (OrderRequest(symbol=SYM, side=BUY, order_type=OrderType.MARKET, qty=D("1E-90")),
     Reason.INVALID_QUANTITY, "quantity 1E-90 has too many digits"),
])
def test_invalid_requests_are_rejected_with_a_reason(request_: OrderRequest, reason: Reason,
                                                    message: str) -> None:
    e = make_engine()
    problem = rejected(e.submit("alice", request_))
    assert (problem.reason, problem.message) == (reason, message)
    assert e.open_orders("alice") == []


def test_insufficient_balance_changes_nothing() -> None:
    e = make_engine()
    before = bal(e, "alice", "USDT"), bal(e, "alice", "BTC")
    assert rejected(e.submit("alice", limit(BUY, "17", "60000.0"))).reason is (
        Reason.INSUFFICIENT_BALANCE)
    assert rejected(e.submit("alice", limit(SELL, "10.001", "60000.0"))).message == (
        "insufficient balance: needs 10.001 BTC, 10 available")
    assert (bal(e, "alice", "USDT"), bal(e, "alice", "BTC")) == before
    assert e.open_orders("alice") == []


def test_duplicate_client_order_id_among_open_orders_is_rejected() -> None:
    e = make_engine()
    e.submit("alice", limit(BUY, "1", "50000.0", client_order_id="x"))
    problem = rejected(e.submit("alice", limit(BUY, "1", "50000.0", client_order_id="x")))
    assert problem.reason is Reason.DUPLICATE_CLIENT_ORDER_ID and problem.client_order_id == "x"
    # another account may use it; after a cancel the id is free again
    assert of(e.submit("bob", limit(BUY, "1", "50000.0", client_order_id="x")), OrderAccepted)
    e.cancel("alice", SYM, client_order_id="x")
    events = e.submit("alice", limit(BUY, "1", "50000.0", client_order_id="x"))
    assert of(events, OrderAccepted)[0].order.order_id == 3
    # the query by client order id finds the newest one; the first is still known by id
    found = e.order("alice", SYM, client_order_id="x")
    assert found is not None and found.order_id == 3
    old = e.order("alice", SYM, order_id=1)
    assert old is not None and old.status is OrderStatus.CANCELED


# ---------------------------------------------------------------- cancel


def test_cancel_releases_the_lock_and_unknown_orders_are_rejected() -> None:
    e = make_engine()
    oid = order_id(e.submit("alice", limit(BUY, "1", "50000.0", client_order_id="c")))
    events = e.cancel("alice", SYM, client_order_id="c")
    (update,) = of(events, OrderUpdated)
    assert update.exec_type is ExecType.CANCELED and update.order.order_id == oid
    assert bal(e, "alice", "USDT") == (D("1000000.0"), D("0.0"))
    assert rejected(e.cancel("alice", SYM, order_id=oid)).reason is Reason.UNKNOWN_ORDER
    assert rejected(e.cancel("bob", SYM, order_id=oid)).reason is Reason.UNKNOWN_ORDER
    assert rejected(e.cancel("alice", SYM, client_order_id="nope")).reason is (
        Reason.UNKNOWN_ORDER)


def test_cancel_all_per_symbol_and_for_all_symbols() -> None:
    e = make_engine()
    e.add_instrument(Instrument("ETHUSDT", "ETH", "USDT"))
    e.deposit("alice", "ETH", D("5"))
    e.submit("alice", limit(BUY, "1", "50000.0"))
    e.submit("alice", limit(SELL, "1", "70000.0"))
    e.submit("alice", OrderRequest(symbol="ETHUSDT", side=SELL, order_type=OrderType.LIMIT,
                                   qty=D("1"), price=D("4000")))
    e.submit("bob", limit(BUY, "1", "50000.0"))
    events = e.cancel_all("alice", SYM)
    assert len(of(events, OrderUpdated)) == 2
    assert [o.symbol for o in e.open_orders("alice")] == ["ETHUSDT"]
    assert len(of(e.cancel_all("alice"), OrderUpdated)) == 1
    assert e.open_orders("alice") == [] and len(e.open_orders("bob")) == 1
    assert e.cancel_all("alice") == []
    assert bal(e, "alice", "BTC") == (D("10"), D("0"))


# ---------------------------------------------------------------- amend


def test_amend_quantity_down_keeps_priority_up_loses_it() -> None:
    e = make_engine()
    a = order_id(e.submit("alice", limit(BUY, "1", "50000.0")))
    b = order_id(e.submit("bob", limit(BUY, "1", "50000.0")))
    events = e.amend("alice", SYM, order_id=a, new_qty=D("0.5"))
    assert of(events, OrderUpdated)[0].exec_type is ExecType.AMENDED
    assert [o.order_id for o in e.resting(SYM, BUY)] == [a, b]
    assert bal(e, "alice", "USDT") == (D("975000.0"), D("25000.0"))
    e.amend("alice", SYM, order_id=a, new_qty=D("0.6"))
    assert [o.order_id for o in e.resting(SYM, BUY)] == [b, a]


def test_amend_price_loses_priority_and_can_trade() -> None:
    e = make_engine()
    a = order_id(e.submit("alice", limit(BUY, "1", "50000.0")))
    b = order_id(e.submit("bob", limit(BUY, "1", "50000.0")))
    e.amend("alice", SYM, order_id=a, new_price=D("49000.0"))
    e.amend("alice", SYM, order_id=a, new_price=D("50000.0"))
    assert [o.order_id for o in e.resting(SYM, BUY)] == [b, a]
    e.submit("carol", limit(SELL, "0.4", "50500.0"))
    events = e.amend("bob", SYM, order_id=b, new_price=D("50500.0"))
    taker = [f for f in of(events, TradeFill) if f.order_id == b]
    assert [(f.price, f.qty, f.is_maker) for f in taker] == [(D("50500.0"), D("0.4"), False)]
    assert e.order("bob", SYM, order_id=b).filled_qty == D("0.4")  # type: ignore[union-attr]
    assert e.depth(SYM)[0][0] == (D("50500.0"), D("0.6"))
    assert bal(e, "bob", "USDT") == (D("1000000.0") - D("50500.0"), D("30300.00"))


def test_amend_rejections_leave_the_order_as_it_was() -> None:
    e = make_engine()
    a = order_id(e.submit("alice", limit(BUY, "1", "50000.0", post_only=True)))
    e.submit("bob", limit(SELL, "1", "50001.0"))
    e.submit("carol", limit(SELL, "0.5", "49999.0"))  # fills alice's 0.5 as taker
    before = e.order("alice", SYM, order_id=a)
    assert before is not None and before.filled_qty == D("0.5")
    for kwargs, reason in [
        ({"new_price": D("50001.0")}, Reason.POST_ONLY_WOULD_TAKE),
        ({"new_qty": D("1"), "new_price": D("50000.0")}, Reason.AMEND_NO_CHANGE),
        ({"new_qty": D("0.5")}, Reason.AMEND_QTY_TOO_LOW),
        ({"new_qty": D("0.4")}, Reason.AMEND_QTY_TOO_LOW),
        ({"new_qty": D("100")}, Reason.INSUFFICIENT_BALANCE),
        ({"new_price": D("50000.01")}, Reason.INVALID_PRICE),
    ]:
        events = e.amend("alice", SYM, order_id=a, new_qty=kwargs.get("new_qty"),
                         new_price=kwargs.get("new_price"))
        assert rejected(events).reason is reason, kwargs
    assert e.order("alice", SYM, order_id=a) == before
    assert rejected(e.amend("alice", SYM, order_id=99, new_qty=D("1"))).reason is (
        Reason.UNKNOWN_ORDER)


def test_amend_to_fill_completely_closes_the_order() -> None:
    e = make_engine()
    a = order_id(e.submit("alice", limit(BUY, "1", "50000.0", client_order_id="k")))
    e.submit("bob", limit(SELL, "2", "50100.0"))
    events = e.amend("alice", SYM, order_id=a, new_price=D("50100.0"))
    assert of(events, OrderUpdated)[-1].order.status is OrderStatus.FILLED
    assert e.open_orders("alice") == []
    assert of(e.submit("alice", limit(BUY, "1", "10.0", client_order_id="k")), OrderAccepted)


# ---------------------------------------------------------------- self-trade prevention


@pytest.mark.parametrize(("mode", "maker_left", "taker_status", "fills"), [
    (StpMode.NONE, False, OrderStatus.FILLED, 1),
    (StpMode.EXPIRE_TAKER, True, OrderStatus.EXPIRED, 0),
    (StpMode.EXPIRE_MAKER, False, OrderStatus.NEW, 0),
    (StpMode.EXPIRE_BOTH, False, OrderStatus.EXPIRED, 0),
])
def test_self_trade_prevention(mode: StpMode, maker_left: bool, taker_status: OrderStatus,
                               fills: int) -> None:
    e = make_engine(stp=mode)
    maker = order_id(e.submit("alice", limit(SELL, "1", "60000.0")))
    events = e.submit("alice", limit(BUY, "1", "60000.0"))
    assert len(of(events, TradeFill)) == 2 * fills
    assert bool(e.open_orders("alice")) == (maker_left or taker_status is OrderStatus.NEW)
    taker = e.order("alice", SYM, order_id=maker + 1)
    assert taker is not None and taker.status is taker_status
    if mode is not StpMode.NONE:
        reasons = {u.reason for u in of(events, OrderUpdated) if u.exec_type is ExecType.EXPIRED}
        assert reasons == {Reason.SELF_TRADE_PREVENTED}


def test_stp_only_concerns_the_same_account() -> None:
    e = make_engine(stp=StpMode.EXPIRE_TAKER)
    e.submit("alice", limit(SELL, "1", "60000.0"))
    e.submit("bob", limit(SELL, "1", "60000.0"))
    events = e.submit("bob", limit(BUY, "2", "60000.0"))
    # alice's order trades; bob's own order then stops bob's taker
    assert [f.account for f in of(events, TradeFill)] == ["alice", "bob"]
    assert of(events, OrderUpdated)[-1].order.status is OrderStatus.EXPIRED


# ---------------------------------------------------------------- exactness


def test_arithmetic_is_exact_to_the_last_digit() -> None:
    e = MatchingEngine(MarketKind.SPOT, fees=FeeSchedule(maker=D("0.00075"), taker=D("0.00075")))
    e.add_instrument(Instrument("XY", "X", "Y"))
    e.deposit("a", "X", D("1"))
    e.deposit("b", "Y", D("1"))
    e.submit("a", OrderRequest(symbol="XY", side=SELL, order_type=OrderType.LIMIT,
                               qty=D("0.00000001"), price=D("0.00000003")))
    e.submit("b", OrderRequest(symbol="XY", side=BUY, order_type=OrderType.MARKET,
                               qty=D("0.00000001")))
    assert e.fees_collected == {"Y": D("2.25E-19"), "X": D("7.5E-12")}
    assert bal(e, "a", "Y") == (D("3E-16") - D("2.25E-19"), D("0"))
    total_y = sum((e.balance(acct, "Y")[0] for acct in ("a", "b")), D(0)) + e.fees_collected["Y"]
    assert total_y == D("1")


def test_timestamps_come_from_the_clock() -> None:
    now = [1_700_000_000_000_000]
    e = make_engine(clock=lambda: now[0])
    events = e.submit("alice", limit(BUY, "1", "50000.0"))
    assert {x.ts for x in events} == {now[0]}
    assert of(events, OrderAccepted)[0].order.created_ts == now[0]
