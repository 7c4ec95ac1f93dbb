"""Impossible numbers are malformed frames (issue 20): a 400-digit price with qty 1e400, a
negative quantity, and an update that crosses the book, sent by the simulator inside real book
frames, are refused by the connector base (counted, logged, BOOK_RESYNC), and no crossed,
negative or absurd book ever reaches the topic. Plus the pure check itself."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest
from connector_harness import (
    Run,
    assert_no_delta_on_a_broken_book,
    books_from_topic,
    config_for,
    json_book,
    statuses,
)

from ttxt_kafka.book import Book
from ttxt_kafka.connectors.base.connector import Connector
from ttxt_kafka.connectors.base.numbers import NumberChecker, check_number
from ttxt_kafka.events import (
    BBO,
    ConnectorState,
    Event,
    InstrumentInfo,
    MarketType,
    OrderBook,
    Side,
    Trade,
    Trades,
    UpdateType,
)
from ttxt_kafka.simulator import Simulator, SyntheticSource

NATIVES = ["BTCUSDT", "ETHUSDT"]
DEPTH = {"binance": 1000, "bybit_spot": 50}


def market(max_steps: int = 300) -> SyntheticSource:
    return SyntheticSource(seed=7, symbols=NATIVES, rate=200.0, max_steps=max_steps)


def config(venue: str, sim: Simulator):  # type: ignore[no-untyped-def]
    return config_for(venue, NATIVES, sim,
                      streams={"book": {"depth": DEPTH[venue]}, "trades": True})


def assert_books_match_the_market(run: Run, sim: Simulator, events: list[Event]) -> None:
    """The connector's books and the ones rebuilt from the topic equal the simulator's."""
    downstream = books_from_topic(events)
    for native in NATIVES:
        m = sim.feed.markets[native]  # type: ignore[attr-defined]
        bids, asks = json_book(sim.feed.fmt.depth_body(m, DEPTH[run.connector.venue], None))  # type: ignore[attr-defined]
        symbol = run.connector.symbols.normalized(native)
        assert (run.connector.books[symbol].bids(), run.connector.books[symbol].asks()) == (
            bids, asks), f"{symbol} differs from the market"
        assert (downstream[symbol].bids(), downstream[symbol].asks()) == (bids, asks)


def test_only_plain_sane_decimals_within_precision_pass() -> None:
    assert check_number("65000.01000000", "price", 2, True) is None  # padded zeros are fine
    assert check_number("0.001", "qty", 3, False) is None
    assert check_number("0.0001", "qty", 3, False) is not None
    assert check_number("0", "qty", 3, False) is None  # a deletion
    for bad, positive in [("1e400", False), ("-1.5", False), ("9" * 400, True), ("0", True),
                          ("0.000", True), ("NaN", True), ("inf", False), (" 1", False),
                          ("+1", False), ("1.005", True), ("0x10", False), ("", False),
                          ("1" * 19, True), ("01", True)]:
        assert check_number(bad, "x", 2, positive) is not None, bad
    assert check_number(1.5, "qty", 8, False) is not None  # a float is never a price

    info = InstrumentInfo(venue="binance", symbol="BTC/USDT", native_symbol="BTCUSDT",
                          exchange_ts=0, receive_ts=0, market_type=MarketType.SPOT, base="BTC",
                          quote="USDT", trading=True, tick_size="0.01000000",
                          lot_size="0.00001000", min_qty="0.00001")
    check = NumberChecker([info])
    book = OrderBook(venue="binance", symbol="BTC/USDT", native_symbol="BTCUSDT", exchange_ts=0,
                     receive_ts=0, update_type=UpdateType.DELTA,
                     bids=[["65000.01000000", "0.00100000"]], asks=[["65000.02", "0"]])
    assert check(book) is None
    book.asks = [["65000.021", "1"]]  # finer than the tick, but real books have those
    assert check(book) is None
    book.asks = [["65000.00000000001", "1"]]
    assert "more than 10 decimals" in (check(book) or "")
    book.asks = [["65000.02", "0.00000000001"]]
    assert "more than 10 decimals" in (check(book) or "")
    trades = Trades(venue="binance", symbol="BTC/USDT", native_symbol="BTCUSDT", exchange_ts=0,
                    receive_ts=0, trades=[Trade(trade_id="1", price="65000", qty="-1",
                                                side=Side.BUY, exchange_ts=0)])
    assert "qty" in (check(trades) or "")
    bbo = BBO(venue="binance", symbol="BTC/USDT", native_symbol="BTCUSDT", exchange_ts=0,
              receive_ts=0, bid_price="1e5", bid_qty="1", ask_price="2", ask_qty="1")
    assert "bid price" in (check(bbo) or "")


def test_the_fast_path_agrees_with_the_full_check() -> None:
    """The checker's one-regex fast path accepts exactly what `check_number` accepts."""
    import random

    rng = random.Random(20)
    info = InstrumentInfo(venue="binance", symbol="BTC/USDT", native_symbol="BTCUSDT",
                          exchange_ts=0, receive_ts=0, market_type=MarketType.SPOT, base="BTC",
                          quote="USDT", trading=True, tick_size="0.01", lot_size="0.001",
                          min_qty="0.001")
    check = NumberChecker([info], min_decimals=3)
    pd, qd = check.precision("BTCUSDT")
    alphabet = "0000111223456789..-e "
    for _ in range(20_000):
        price = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 9)))
        qty = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 9)))
        trades = Trades(venue="binance", symbol="BTC/USDT", native_symbol="BTCUSDT",
                        exchange_ts=0, receive_ts=0,
                        trades=[Trade(trade_id="1", price=price, qty=qty, side=Side.BUY,
                                      exchange_ts=0)])
        full = check_number(price, "price", pd, True) or check_number(qty, "qty", qd, True)
        assert (check(trades) is None) == (full is None), (price, qty)
        book = OrderBook(venue="binance", symbol="BTC/USDT", native_symbol="BTCUSDT",
                         exchange_ts=0, receive_ts=0, update_type=UpdateType.DELTA,
                         bids=[[price, qty]], asks=[])
        full = check_number(price, "price", pd, True) or check_number(qty, "qty", qd, False)
        assert (check(book) is None) == (full is None), (price, qty)


def _applying(native: str):  # type: ignore[no-untyped-def]
    def check(c: Connector) -> bool:
        state = c.states.get(native)
        return state is not None and state.sync.synced and not state.sync.bridging
    return check


@pytest.mark.kafka
@pytest.mark.parametrize("venue", ["binance", "bybit_spot"])
async def test_impossible_numbers_are_refused_and_the_book_rebuilt(
    venue: str, kafka_bootstrap: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="ttxt_kafka.connectors")
    async with Simulator(venue, market(max_steps=300)) as sim:
        run = await Run.start(config(venue, sim), kafka_bootstrap)
        try:
            for n, variant in enumerate(("huge", "negative", "crossed"), 1):
                await run.wait(_applying("BTCUSDT"))
                sim.inject("bad_numbers", symbol="BTCUSDT", variant=variant)
                await run.wait(lambda c, n=n: c.stats.resyncs == n)  # type: ignore[misc]
            await run.settle(sim)
        finally:
            await run.stop()
    events = await run.read_back(kafka_bootstrap)
    stats = run.connector.stats
    assert [f["kind"] for f in sim.faults.applied] == ["bad_numbers"] * 3
    assert stats.malformed == 2 and stats.resyncs == 3 and stats.reconnects == 0
    reasons = [r.reason for r in statuses(events, ConnectorState.BOOK_RESYNC, "BTC/USDT")]
    assert len(reasons) == 3
    assert "malformed numbers" in reasons[0] and "not a plain decimal" in reasons[0]
    assert "malformed numbers" in reasons[1] and "qty -1.5 is negative" in reasons[1]
    assert reasons[2].startswith("crossed book after an update")
    assert statuses(events, ConnectorState.BOOK_RESYNC, "ETH/USDT") == []
    assert caplog.text.count("malformed book update refused") == 2
    # What a consumer rebuilds from the topic is never crossed, negative or absurd.
    books: dict[str, Book] = {}
    for ev in events:
        if not isinstance(ev, OrderBook):
            continue
        for price, qty in [*ev.bids, *ev.asks]:
            assert len(price) < 30 and len(qty) < 30 and Decimal(qty) >= 0 < Decimal(price)
        book = books.setdefault(ev.symbol, Book())
        book.update(ev)
        assert not book.is_crossed(), f"crossed {ev.symbol} book on the topic"
    assert_no_delta_on_a_broken_book(venue, events)
    assert_books_match_the_market(run, sim, events)

