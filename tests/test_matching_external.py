"""Matching engine against external liquidity (the simulator's market book)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from ttxt_kafka.events import OrderBook, OrderStatus, OrderType, Side, UpdateType
from ttxt_kafka.matching import (
    EngineEvent,
    ExternalBook,
    ExternalLiquidity,
    Instrument,
    MarketKind,
    MatchingEngine,
    OrderRejected,
    OrderRequest,
    OrderUpdated,
    Reason,
    TradeFill,
)

D = Decimal
SYM = "BTCUSDT"
BUY, SELL = Side.BUY, Side.SELL


def levels(*pairs: tuple[str, str]) -> list[tuple[Decimal, Decimal]]:
    return [(D(p), D(q)) for p, q in pairs]


def setup(fill_on_touch: bool = False) -> tuple[MatchingEngine, ExternalBook]:
    engine = MatchingEngine(MarketKind.SPOT, fill_on_touch=fill_on_touch)
    engine.add_instrument(Instrument(SYM, "BTC", "USDT", tick_size=D("0.1")))
    for account in ("alice", "bob"):
        engine.deposit(account, "USDT", D("1000000"))
        engine.deposit(account, "BTC", D("10"))
    market = ExternalBook()
    market.replace(bids=levels(("99.0", "1"), ("98.0", "2")),
                   asks=levels(("101.0", "1"), ("102.0", "2")))
    engine.set_external(SYM, market)
    return engine, market


def limit(side: Side, qty: str, price: str, **kwargs: object) -> OrderRequest:
    return OrderRequest(symbol=SYM, side=side, order_type=OrderType.LIMIT, qty=D(qty),
                        price=D(price), **kwargs)  # type: ignore[arg-type]


def market_order(side: Side, qty: str) -> OrderRequest:
    return OrderRequest(symbol=SYM, side=side, order_type=OrderType.MARKET, qty=D(qty))


def taker_fills(events: list[EngineEvent]) -> list[tuple[Decimal, Decimal, str | None]]:
    return [(f.price, f.qty, f.counterparty) for f in events
            if isinstance(f, TradeFill) and not f.is_maker]


def test_external_book_satisfies_the_protocol() -> None:
    assert isinstance(ExternalBook(), ExternalLiquidity)


def test_taker_trades_our_orders_first_then_the_market_and_depletes_it() -> None:
    engine, market = setup()
    engine.submit("bob", limit(SELL, "0.5", "101.0"))
    events = engine.submit("alice", market_order(BUY, "2"))
    assert taker_fills(events) == [(D("101.0"), D("0.5"), "bob"), (D("101.0"), D("1"), None),
                                   (D("102.0"), D("0.5"), None)]
    assert list(market.levels(SELL)) == levels(("102.0", "1.5"))
    # the market gave 1.5 BTC and received 101 + 51 USDT
    assert engine.external_flows == {"USDT": D("152.0"), "BTC": D("-1.5")}
    assert engine.balance("alice", "BTC")[0] == D("12")


def test_limit_order_takes_what_crosses_then_rests() -> None:
    engine, market = setup()
    events = engine.submit("alice", limit(SELL, "3", "98.5"))
    assert taker_fills(events) == [(D("99.0"), D("1"), None)]
    assert engine.depth(SYM)[1] == [(D("98.5"), D("2"))]
    assert list(market.levels(BUY)) == levels(("98.0", "2"))


def test_post_only_is_rejected_when_it_would_take_from_the_market() -> None:
    engine, _ = setup()
    events = engine.submit("alice", limit(BUY, "1", "101.0", post_only=True))
    assert isinstance(events[0], OrderRejected)
    assert events[0].reason is Reason.POST_ONLY_WOULD_TAKE
    assert not isinstance(engine.submit("alice", limit(BUY, "1", "100.9", post_only=True))[0],
                          OrderRejected)


def test_feed_updates_restore_a_depleted_level() -> None:
    engine, market = setup()
    engine.submit("alice", market_order(BUY, "1"))
    assert market.best(SELL) == (D("102.0"), D("2"))
    market.update(asks=levels(("101.0", "3")))  # the feed's number wins again
    assert market.best(SELL) == (D("101.0"), D("3"))
    market.update(asks=levels(("101.0", "0")))
    assert market.best(SELL) == (D("102.0"), D("2"))


def test_market_trades_fill_resting_orders_they_go_through() -> None:
    engine, _ = setup()
    engine.submit("alice", limit(BUY, "1", "100.0"))
    assert engine.on_external_trade(SYM, SELL, D("100.0"), D("5")) == []  # at the touch: queued
    events = engine.on_external_trade(SYM, SELL, D("99.5"), D("0.4"))
    fills = [f for f in events if isinstance(f, TradeFill)]
    assert [(f.price, f.qty, f.is_maker, f.counterparty) for f in fills] == [
        (D("100.0"), D("0.4"), True, None)]
    engine_touch, _ = setup(fill_on_touch=True)
    engine_touch.submit("alice", limit(BUY, "1", "100.0"))
    events = engine_touch.on_external_trade(SYM, SELL, D("100.0"), D("5"))
    assert [u.order.status for u in events if isinstance(u, OrderUpdated)] == [
        OrderStatus.FILLED]
    # a buy aggressor never fills a resting buy
    assert engine.on_external_trade(SYM, BUY, D("90.0"), D("5")) == []


def test_sync_fills_resting_orders_the_market_book_crossed() -> None:
    engine, market = setup()
    engine.submit("alice", limit(BUY, "1", "100.0"))
    engine.submit("alice", limit(BUY, "1", "99.5"))
    market.update(asks=levels(("99.5", "0.3"), ("99.8", "2")))
    events = engine.sync_external(SYM)
    fills = [(f.price, f.qty) for f in events if isinstance(f, TradeFill)]
    # our best bid (100.0) fills at its own price against both crossing levels; the 99.5 bid
    # is then crossed by nothing (99.5 was taken, 99.8 is above it)
    assert fills == [(D("100.0"), D("0.3")), (D("100.0"), D("0.7"))]
    assert list(market.levels(SELL))[:1] == levels(("99.8", "1.3"))
    assert engine.depth(SYM)[0] == [(D("99.5"), D("1"))]
    assert engine.sync_external(SYM) == []


class _Recorded:
    """A capture-like source: its book cannot change, so `take` is ignored."""

    def __init__(self, asks: list[tuple[Decimal, Decimal]]) -> None:
        self.asks = asks
        self.taken: list[tuple[Side, Decimal, Decimal]] = []

    def levels(self, side: Side) -> Iterator[tuple[Decimal, Decimal]]:
        return iter(self.asks if side is SELL else [])

    def take(self, side: Side, price: Decimal, qty: Decimal) -> None:
        self.taken.append((side, price, qty))


def test_a_source_that_ignores_take_still_terminates() -> None:
    engine, _ = setup()
    source = _Recorded(levels(("99.0", "5")))
    engine.set_external(SYM, source)
    engine.submit("alice", limit(BUY, "1", "98.0"))
    engine.set_external(SYM, _Recorded([]))
    engine.submit("alice", limit(BUY, "1", "98.0"))
    engine.set_external(SYM, source)
    source.asks = levels(("97.0", "5"))
    events = engine.sync_external(SYM)
    assert sum(f.qty for f in events if isinstance(f, TradeFill)) == D("2")
    assert source.taken == [(SELL, D("97.0"), D("1")), (SELL, D("97.0"), D("1"))]


def test_unsorted_external_levels_are_an_error_and_change_nothing() -> None:
    engine, _ = setup()
    engine.set_external(SYM, _Recorded(levels(("102.0", "1"), ("101.0", "1"))))
    before = engine.balance("alice", "USDT")
    with pytest.raises(ValueError, match="not best first"):
        engine.submit("alice", market_order(BUY, "2"))
    assert engine.balance("alice", "USDT") == before and engine.open_orders("alice") == []


def test_external_book_from_orderbook_events() -> None:
    book = ExternalBook()
    header = {"venue": "binance", "symbol": "BTC/USDT", "exchange_ts": 1, "receive_ts": 2}
    book.apply(OrderBook(update_type=UpdateType.SNAPSHOT, bids=[["99.0", "1.5"]],
                         asks=[["101.0", "2"], ["100.5", "1"]], **header))  # type: ignore[arg-type]
    assert list(book.levels(SELL)) == levels(("100.5", "1"), ("101.0", "2"))
    book.apply(OrderBook(update_type=UpdateType.DELTA, bids=[["99.0", "0"], ["98.5", "3"]],
                         **header))  # type: ignore[arg-type]
    assert list(book.levels(BUY)) == levels(("98.5", "3"))
