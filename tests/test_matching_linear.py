"""Matching engine, linear perpetuals: positions, exact PnL, margin, reduce-only, mark price."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ttxt_kafka.events import OrderStatus, OrderType, Side
from ttxt_kafka.matching import (
    BalanceChanged,
    EngineEvent,
    FeeSchedule,
    Instrument,
    MarketKind,
    MatchingEngine,
    OrderRejected,
    OrderRequest,
    OrderUpdated,
    Position,
    PositionChanged,
    Reason,
    TradeFill,
)

D = Decimal
SYM = "BTCUSDT"
BUY, SELL = Side.BUY, Side.SELL


def make_engine(leverage: str = "10") -> MatchingEngine:
    engine = MatchingEngine(MarketKind.LINEAR, leverage=D(leverage),
                            fees=FeeSchedule(maker=D("0.0002"), taker=D("0.0005")))
    engine.add_instrument(Instrument(SYM, "BTC", "USDT", tick_size=D("0.1"), lot_size=D("0.001")))
    for account in ("alice", "bob"):
        engine.deposit(account, "USDT", D("100000"))
    return engine


def limit(side: Side, qty: str, price: str, **kwargs: object) -> OrderRequest:
    return OrderRequest(symbol=SYM, side=side, order_type=OrderType.LIMIT, qty=D(qty),
                        price=D(price), **kwargs)  # type: ignore[arg-type]


def market(side: Side, qty: str, **kwargs: object) -> OrderRequest:
    return OrderRequest(symbol=SYM, side=side, order_type=OrderType.MARKET, qty=D(qty),
                        **kwargs)  # type: ignore[arg-type]


def trade(e: MatchingEngine, buyer: str, seller: str, qty: str, price: str) -> list[EngineEvent]:
    """`seller` rests, `buyer` takes."""
    e.submit(seller, limit(SELL, qty, price))
    return e.submit(buyer, market(BUY, qty))


def of(events: list[EngineEvent], cls: type) -> list[Any]:
    return [x for x in events if isinstance(x, cls)]


def wallet_identity(e: MatchingEngine, account: str, history: list[EngineEvent]) -> None:
    """wallet = deposits + realized PnL - fees paid, to the last digit."""
    fees = sum((x.fee for x in of(history, TradeFill) if x.account == account), D(0))
    realized = sum((p.realized for (a, _), p in e.positions.items() if a == account), D(0))
    assert e.wallets[(account, "USDT")] == e.deposits[(account, "USDT")] + realized - fees


def test_opening_a_position_charges_fees_and_margin() -> None:
    e = make_engine()
    events = trade(e, "alice", "bob", "1", "60000.0")
    fills = of(events, TradeFill)
    assert {(f.account, f.fee, f.fee_asset, f.realized_pnl) for f in fills} == {
        ("bob", D("12.00000"), "USDT", D(0)), ("alice", D("30.00000"), "USDT", D(0))}
    assert e.position("alice", SYM) == Position(D("1"), D("60000.0"), D(0))
    assert e.position("bob", SYM) == Position(D("-1"), D("60000.0"), D(0))
    assert e.balance("alice", "USDT") == (D("99970.00000"), D("93970.00000000"), D("6000.00000000"))
    positions = {p.account: p for p in of(events, PositionChanged)}
    assert positions["alice"].size == D("1") and positions["bob"].size == D("-1")
    assert positions["alice"].entry_price == D("60000")
    assert positions["alice"].leverage == D("10")
    assert {b.account for b in of(events, BalanceChanged)} == {"alice", "bob"}


def test_partial_closes_realize_exactly_what_the_position_made() -> None:
    e = make_engine()
    for price in ("100.0", "100.0", "101.0"):
        trade(e, "alice", "bob", "1", price)
    assert e.position("alice", SYM).entry_value == D("301.0")
    assert e.position("alice", SYM).entry_price() == D("100.33333333")
    e.submit("bob", limit(BUY, "1", "110.0"))
    events = e.submit("alice", market(SELL, "1"))
    (fill,) = [f for f in of(events, TradeFill) if f.account == "alice"]
    # 301/3 = 100.333... -> 100.33333333 released (half-even, 8 decimals)
    assert fill.realized_pnl == D("9.66666667")
    assert e.position("alice", SYM) == Position(D("2"), D("200.66666667"), D("9.66666667"))
    e.submit("bob", limit(BUY, "2", "110.0"))
    e.submit("alice", market(SELL, "2"))
    # the last close releases what is left: nothing is lost to rounding
    assert e.position("alice", SYM) == Position(D(0), D(0), D("29.00000000"))
    assert e.position("alice", SYM).realized == 3 * D("110") - D("301")


def test_a_fill_through_zero_flips_the_position() -> None:
    e = make_engine()
    trade(e, "alice", "bob", "1", "100.0")
    e.submit("bob", limit(BUY, "3", "90.0"))
    events = e.submit("alice", market(SELL, "3"))
    (fill,) = [f for f in of(events, TradeFill) if f.account == "alice"]
    assert fill.realized_pnl == D("-10.0")
    assert e.position("alice", SYM) == Position(D("-2"), D("180.0"), D("-10.0"))
    assert str(e.position("bob", SYM).size) == "2"


def test_shorts_realize_the_opposite_way() -> None:
    e = make_engine()
    trade(e, "bob", "alice", "2", "100.0")  # alice short 2 @ 100
    e.submit("bob", limit(SELL, "2", "95.0"))
    e.submit("alice", market(BUY, "2"))
    assert e.position("alice", SYM) == Position(D(0), D(0), D("10.0"))
    assert str(e.position("alice", SYM).size) == "0"  # not "-0"


def test_margin_is_checked_but_closing_is_always_allowed() -> None:
    e = make_engine()
    e.deposit("carol", "USDT", D("1000"))
    problem = e.submit("carol", limit(BUY, "1", "60000.0"))
    assert isinstance(problem[0], OrderRejected)
    assert problem[0].reason is Reason.INSUFFICIENT_BALANCE
    assert problem[0].message == "insufficient margin: needs 6000.00000000 USDT, wallet 1000"
    assert isinstance(e.submit("carol", limit(BUY, "0.1", "60000.0"))[0], OrderRejected) is False
    # resting orders hold margin: a second one does not fit
    assert isinstance(e.submit("carol", limit(BUY, "0.1", "60000.0"))[0], OrderRejected)
    e.cancel_all("carol")
    e.submit("bob", limit(SELL, "0.1", "60000.0"))
    e.submit("carol", market(BUY, "0.1"))
    e.set_leverage("carol", SYM, D("1"))  # now the position needs more margin than the wallet
    assert e.balance("carol", "USDT")[1] < 0
    assert isinstance(e.submit("carol", limit(BUY, "0.001", "50000.0"))[0], OrderRejected)
    e.submit("bob", limit(BUY, "0.1", "59000.0"))
    events = e.submit("carol", market(SELL, "0.1"))
    assert of(events, OrderUpdated)[-1].order.status is OrderStatus.FILLED


def test_reduce_only() -> None:
    e = make_engine()
    no_position = e.submit("alice", limit(SELL, "1", "70000.0", reduce_only=True))
    assert no_position[0].reason is Reason.REDUCE_ONLY_REJECTED  # type: ignore[attr-defined]
    trade(e, "alice", "bob", "1", "60000.0")
    too_big = e.submit("alice", limit(SELL, "1.5", "70000.0", reduce_only=True))
    assert too_big[0].message == "reduce-only quantity 1.5 exceeds the position 1"  # type: ignore[attr-defined]
    wrong_side = e.submit("alice", limit(BUY, "1", "50000.0", reduce_only=True))
    assert wrong_side[0].reason is Reason.REDUCE_ONLY_REJECTED  # type: ignore[attr-defined]
    ok = e.submit("alice", limit(SELL, "1", "70000.0", reduce_only=True))
    assert not isinstance(ok[0], OrderRejected)
    # reduce-only orders hold no margin
    assert e.balance("alice", "USDT")[2] == D("6000.00000000")
    # the position is closed by another order: the reduce-only order has nothing left to reduce
    e.submit("bob", limit(BUY, "1", "61000.0"))
    events = e.submit("alice", market(SELL, "1"))
    expired = [u for u in of(events, OrderUpdated) if u.reason is Reason.REDUCE_ONLY_CANCELED]
    assert len(expired) == 1 and expired[0].order.price == D("70000.0")
    assert e.open_orders("alice") == []


def test_mark_price_drives_unrealized_pnl() -> None:
    e = make_engine()
    trade(e, "alice", "bob", "2", "100.0")
    events = e.set_mark_price(SYM, D("103.5"))
    unrealized = {p.account: p.unrealized_pnl for p in of(events, PositionChanged)}
    assert unrealized == {"alice": D("7.0"), "bob": D("-7.0")}
    assert e.position("alice", SYM).unrealized(D("99")) == D("-2.0")


def test_wallet_is_deposits_plus_realized_minus_fees() -> None:
    e = make_engine()
    history: list[EngineEvent] = []
    history += trade(e, "alice", "bob", "1.5", "100.0")
    history += trade(e, "bob", "alice", "0.7", "103.3")
    history += trade(e, "bob", "alice", "1.3", "99.9")
    history += trade(e, "alice", "bob", "0.25", "101.7")
    for account in ("alice", "bob"):
        wallet_identity(e, account, history)
    # zero-sum between our own accounts: cash in = cash out
    total = sum((p.realized - p.signed_entry_value for p in e.positions.values()), D(0))
    assert total == 0
