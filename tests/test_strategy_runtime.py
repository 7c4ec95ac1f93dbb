"""The strategy runtime in process (no Kafka): state, gating, commands, order tracking, examples."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from ttxt_kafka.bus import AsyncioQueue
from ttxt_kafka.events import (
    AckStatus,
    AmendOrder,
    Balance,
    CancelOrder,
    CommandType,
    ConnectorState,
    ConnectorStatus,
    CreateOrder,
    Event,
    Fill,
    Kline,
    OrderAck,
    OrderBook,
    OrderStatus,
    OrderType,
    OrderUpdate,
    PositionSide,
    PositionUpdate,
    Side,
    Trade,
    Trades,
    UpdateType,
    Wallet,
)
from ttxt_kafka.strategies import (
    BookNotReady,
    ListSink,
    OrderError,
    ParamError,
    QueueSink,
    Strategy,
    StrategyRuntime,
    run_events,
    run_queue,
)
from ttxt_kafka.strategies.examples.candle_aggregator import CandleAggregator
from ttxt_kafka.strategies.examples.market_maker import MarketMaker
from ttxt_kafka.strategies.examples.spread_monitor import SpreadMonitor
from ttxt_kafka.strategies.ids import OrderIds, strategy_tag
from ttxt_kafka.strategies.loader import LoadError, load_class, parse_params

T0 = 1_700_000_000_000_000  # µs
V = "sim"


def snap(symbol: str, bids: list[tuple[str, str]], asks: list[tuple[str, str]],
         ts: int = T0) -> OrderBook:
    return OrderBook(venue=V, symbol=symbol, exchange_ts=ts, receive_ts=ts,
                     update_type=UpdateType.SNAPSHOT, bids=[list(b) for b in bids],
                     asks=[list(a) for a in asks])


def delta(symbol: str, bids: list[tuple[str, str]], asks: list[tuple[str, str]],
          ts: int) -> OrderBook:
    return OrderBook(venue=V, symbol=symbol, exchange_ts=ts, receive_ts=ts,
                     update_type=UpdateType.DELTA, bids=[list(b) for b in bids],
                     asks=[list(a) for a in asks])


def trades(symbol: str, *items: tuple[int, str, str]) -> Trades:
    return Trades(venue=V, symbol=symbol, native_symbol=symbol.replace("/", ""),
                  exchange_ts=items[-1][0], receive_ts=items[-1][0],
                  trades=[Trade(trade_id=f"{ts}-{i}", price=p, qty=q, side=Side.BUY,
                                exchange_ts=ts) for i, (ts, p, q) in enumerate(items)])


class Recorder(Strategy):
    venues = [V]
    channels = ["book", "trades", "status", "executions", "account"]

    def on_start(self) -> None:
        self.seen: list[Event] = []

    def on_orderbook(self, event: OrderBook) -> None:
        self.seen.append(event)

    def on_trades(self, event: Trades) -> None:
        self.seen.append(event)

    def on_order_update(self, event: OrderUpdate) -> None:
        self.seen.append(event)

    def on_fill(self, event: Fill) -> None:
        self.seen.append(event)

    def on_order_ack(self, event: OrderAck) -> None:
        self.seen.append(event)


def runtime_of(strategy: Strategy, sink: ListSink | None = None, **kw: object) -> StrategyRuntime:
    return StrategyRuntime(strategy, sink or ListSink(), group="test", run_id="r1",
                           **kw)  # type: ignore[arg-type]


# ---------------------------------------------------------------- parameters and declarations


def test_params_convert_to_the_type_of_their_default_and_unknown_ones_fail() -> None:
    mm = MarketMaker(spread_bps="8", size="0.5", symbols=["ETH/USDT"], venues=["bybit_spot"])
    assert mm.spread_bps == Decimal("8") and mm.size == Decimal("0.5")
    assert mm.symbols == ["ETH/USDT"] and mm.venues == ["bybit_spot"]
    assert MarketMaker.spread_bps == Decimal("10")  # the class default is untouched
    with pytest.raises(ParamError, match="no parameter 'spred_bps'"):
        MarketMaker(spred_bps="1")
    with pytest.raises(ParamError, match="not a Decimal"):
        MarketMaker(size="lots")
    with pytest.raises(ParamError, match="float"):
        MarketMaker(size=0.1)
    assert CandleAggregator(lateness_ms="500").lateness_ms == 500
    assert parse_params(["a=1", "b=x=y"]) == {"a": "1", "b": "x=y"}
    with pytest.raises(LoadError):
        parse_params(["novalue"])
    assert load_class("ttxt_kafka.strategies.examples.market_maker:MarketMaker") is MarketMaker
    with pytest.raises(LoadError, match="no Strategy subclass"):
        load_class("ttxt_kafka.strategies.examples.market_maker:Decimal")


def test_subscription_topics_split_group_and_broadcast() -> None:
    rt = runtime_of(Recorder())
    sub = rt.subscription
    assert sub.group_topics() == [f"ttxt.{V}.{c}" for c in
                                  ("book", "trades", "status", "executions")]
    assert sub.broadcast_topics() == [f"ttxt.{V}.account"]
    assert sub.orders_topic(V) == f"ttxt.{V}.orders"


def test_order_ids_are_tagged_by_group_and_fit_the_exchanges_rules() -> None:
    ids = OrderIds("strategy.some.Group", run_id="abc123")
    first = ids.next()
    assert first == f"{strategy_tag('strategy.some.Group')}-abc123-1"
    assert ids.owns(first) and not ids.owns("s000000-x-1") and not ids.owns(None)
    assert len(first) <= 36
    with pytest.raises(ValueError):
        OrderIds("g", run_id="Bad_Run")


# ---------------------------------------------------------------- books and gating


async def test_market_data_is_held_back_until_the_book_is_ready_and_after_a_resync() -> None:
    rec = Recorder()
    rt = runtime_of(rec)
    await rt.start()
    early_trade = trades("A/USDT", (T0, "100", "1"))
    early_delta = delta("A/USDT", [("99", "1")], [], T0 + 1)
    await rt.process(early_trade)
    await rt.process(early_delta)
    assert rec.seen == [] and not rec.ctx.has_book("A/USDT")
    with pytest.raises(BookNotReady):
        rec.ctx.book("A/USDT")
    s = snap("A/USDT", [("99", "2")], [("101", "3")], T0 + 2)
    await rt.process(s)
    d = delta("A/USDT", [("99.5", "1")], [], T0 + 3)
    await rt.process(d)
    t = trades("A/USDT", (T0 + 4, "100", "1"))
    await rt.process(t)
    assert rec.seen == [s, d, t]
    assert rec.ctx.book("A/USDT").best_bid() == ("99.5", "1")
    await rt.process(ConnectorStatus(venue=V, symbol="A/USDT", exchange_ts=T0 + 5,
                                     receive_ts=T0 + 5, stream="book",
                                     status=ConnectorState.BOOK_RESYNC, reason="gap"))
    assert not rec.ctx.has_book("A/USDT")
    await rt.process(delta("A/USDT", [("98", "1")], [], T0 + 6))
    await rt.process(trades("A/USDT", (T0 + 7, "100", "1")))
    assert len(rec.seen) == 3
    await rt.process(snap("A/USDT", [("98", "1")], [("102", "1")], T0 + 8))
    assert rec.ctx.book("A/USDT").mid() == Decimal("100")
    assert rt.stats.held_back == 4 and rt.clock_us == T0 + 8


async def test_symbols_and_venues_not_subscribed_are_filtered() -> None:
    rec = Recorder(symbols=["A/USDT"])
    rt = runtime_of(rec)
    await rt.start()
    await rt.process(snap("B/USDT", [("1", "1")], [("2", "1")]))
    other_venue = snap("A/USDT", [("1", "1")], [("2", "1")])
    other_venue.venue = "elsewhere"
    await rt.process(other_venue)
    assert rec.seen == [] and rt.stats.filtered == 2


# ---------------------------------------------------------------- orders and account


async def test_commands_carry_exact_decimals_ids_and_event_time() -> None:
    sink = ListSink()
    rec = Recorder()
    rt = runtime_of(rec, sink)
    await rt.start()
    await rt.process(snap("A/USDT", [("99", "1")], [("101", "1")], T0 + 10))
    ctx = rec.ctx
    buy = ctx.buy("A/USDT", Decimal("0.10"), "99.50")
    sell = ctx.sell("A/USDT", 2, Decimal("1E+2"))
    market = ctx.buy("A/USDT", "0.001")
    for bad in (0.1, "abc", "-1", Decimal("NaN")):
        with pytest.raises(OrderError):
            ctx.buy("A/USDT", bad)  # type: ignore[arg-type]
    ctx.amend(buy, price="99.60")
    ctx.cancel(sell.client_order_id)
    ctx.cancel_all("A/USDT")
    with pytest.raises(OrderError):
        ctx.cancel("unknown")
    await rt._send_outbox()
    topics = {t for t, _ in sink.sent}
    assert topics == {f"ttxt.{V}.orders"}
    create_buy, create_sell, create_mkt, amend, cancel, cancel_all = sink.events()
    assert isinstance(create_buy, CreateOrder) and create_buy.qty == "0.10"
    assert create_buy.price == "99.50" and create_buy.order_type is OrderType.LIMIT
    assert isinstance(create_sell, CreateOrder) and create_sell.price == "100"
    assert create_sell.qty == "2"
    assert isinstance(create_mkt, CreateOrder) and create_mkt.order_type is OrderType.MARKET
    assert create_mkt.price is None
    assert isinstance(amend, AmendOrder) and amend.new_price == "99.60"
    assert amend.client_order_id == buy.client_order_id
    assert isinstance(cancel, CancelOrder) and cancel.client_order_id == sell.client_order_id
    tag = strategy_tag("test")
    assert [e.command_id for e in sink.events()] == [f"{tag}-r1-{n}" for n in range(1, 7)]  # type: ignore[attr-defined]
    assert create_buy.client_order_id == create_buy.command_id
    assert all(e.exchange_ts == T0 + 10 for e in sink.events())
    assert buy.price == "99.60"  # amends apply at once
    assert {o.client_order_id for o in ctx.open_orders()} == {
        buy.client_order_id, sell.client_order_id, market.client_order_id}
    assert all(o.cancel_sent for o in ctx.open_orders("A/USDT"))


class StallingSink(ListSink):
    """Hands on the first command, then waits for ever on the second (a broker gone away)."""

    def __init__(self) -> None:
        super().__init__()
        self.stalled = asyncio.Event()

    async def send(self, event: Event, topic: str) -> None:
        if self.sent:
            self.stalled.set()
            await asyncio.Event().wait()
        await super().send(event, topic)


async def test_a_forced_stop_while_sending_names_what_was_not_sent(
        caplog: pytest.LogCaptureFixture) -> None:
    """Cancelled in the middle of the outbox (the second Ctrl-C): the commands queued after the
    one being sent stay in the outbox, are counted, and the log names each of them."""
    sink = StallingSink()
    rec = Recorder()
    rt = runtime_of(rec, sink)
    await rt.start()
    ctx = rec.ctx
    first, cut, *rest = [ctx.buy("A/USDT", "1", str(p)) for p in range(10, 14)]
    task = asyncio.create_task(rt._send_outbox())
    await sink.stalled.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert [e.client_order_id for e in sink.events()] == [first.client_order_id]  # type: ignore[attr-defined]
    assert [e.client_order_id for e, _ in rt._outbox] == [o.client_order_id for o in rest]  # type: ignore[attr-defined]
    assert rt.stats.sent == 1 and rt.stats.unsent == 2
    [line] = [r.getMessage() for r in caplog.records if "not sent" in r.getMessage()]
    assert f"CreateOrder A/USDT id={cut.client_order_id} (it may or may not" in line
    assert all(f"id={o.client_order_id}" in line for o in rest) and "2 queued after it" in line


async def test_open_orders_follow_acks_and_updates_of_this_strategy_only() -> None:
    rec = Recorder()
    rt = runtime_of(rec)
    await rt.start()
    ctx = rec.ctx
    a = ctx.buy("A/USDT", "1", "10")
    b = ctx.sell("A/USDT", "1", "12")
    await rt._send_outbox()

    def ack(cmd_id: str, coid: str, status: AckStatus, kind: CommandType = CommandType.CREATE,
            ) -> OrderAck:
        return OrderAck(venue=V, symbol="A/USDT", exchange_ts=T0, receive_ts=T0,
                        command_id=cmd_id, command_type=kind, client_order_id=coid,
                        order_id="X" + coid[-1], status=status)

    def update(coid: str, status: OrderStatus, filled: str = "0") -> OrderUpdate:
        return OrderUpdate(venue=V, symbol="A/USDT", exchange_ts=T0, receive_ts=T0,
                           client_order_id=coid, order_id="X", side=Side.BUY,
                           order_type=OrderType.LIMIT, status=status, price="10", qty="1",
                           filled_qty=filled, created_ts=T0)

    await rt.process(ack(a.client_order_id, a.client_order_id, AckStatus.ACCEPTED))
    await rt.process(ack(b.client_order_id, b.client_order_id, AckStatus.REJECTED))
    assert [o.client_order_id for o in ctx.open_orders()] == [a.client_order_id]
    assert a.acked and a.order_id == "X1"
    amend_id = ctx.amend(a, price="11")
    await rt._send_outbox()
    await rt.process(ack(amend_id, a.client_order_id, AckStatus.REJECTED, CommandType.AMEND))
    assert a.price == "10"  # a rejected amend is undone
    await rt.process(update(a.client_order_id, OrderStatus.PARTIALLY_FILLED, "0.4"))
    assert a.remaining == Decimal("0.6")
    others = update("someone-else-1", OrderStatus.NEW)
    await rt.process(others)
    assert others not in rec.seen and len(ctx.open_orders()) == 1
    adopted = update(f"{strategy_tag('test')}-old-7", OrderStatus.NEW)  # an earlier run's order
    await rt.process(adopted)
    assert len(ctx.open_orders()) == 2
    await rt.process(update(a.client_order_id, OrderStatus.FILLED, "1"))
    assert [o.client_order_id for o in ctx.open_orders()] == [adopted.client_order_id]


async def test_balances_and_positions_come_from_account_events() -> None:
    rec = Recorder()
    rt = runtime_of(rec)
    await rt.start()
    await rt.process(Wallet(venue=V, symbol="", exchange_ts=T0, receive_ts=T0, is_snapshot=True,
                            balances=[Balance(asset="USDT", total="100", available="90"),
                                      Balance(asset="BTC", total="1", available="1")]))
    await rt.process(Wallet(venue=V, symbol="", exchange_ts=T0, receive_ts=T0,
                            balances=[Balance(asset="USDT", total="80", available="80")]))
    assert rec.ctx.balance("USDT").total == "80"  # type: ignore[union-attr]
    assert rec.ctx.balance("BTC").total == "1"  # type: ignore[union-attr]
    await rt.process(Wallet(venue=V, symbol="", exchange_ts=T0, receive_ts=T0, is_snapshot=True,
                            balances=[Balance(asset="USDT", total="5", available="5")]))
    assert rec.ctx.balance("BTC") is None
    await rt.process(PositionUpdate(venue=V, symbol="A/USDT", exchange_ts=T0, receive_ts=T0,
                                    side=PositionSide.SHORT, size="0.25"))
    assert rec.ctx.position("A/USDT") == Decimal("-0.25")
    assert rec.ctx.position("B/USDT") == 0


async def test_a_failing_handler_is_counted_and_the_loop_goes_on() -> None:
    class Boom(Strategy):
        venues = [V]

        def on_orderbook(self, event: OrderBook) -> None:
            self.ctx.buy(event.symbol, "1", "1")  # queued before the error: still sent
            raise RuntimeError("boom")

    sink = ListSink()
    rt = runtime_of(Boom(), sink)
    await rt.start()
    await rt.process(snap("A/USDT", [("1", "1")], [("2", "1")]))
    await rt.process(delta("A/USDT", [("1", "2")], [], T0 + 1))
    assert rt.stats.handler_errors == 2 and len(sink.sent) == 2
    text = rt.metrics.registry.render()
    assert 'ttxt_strategy_handler_errors_total{handler="on_orderbook",strategy="test"} 2.0' in text


async def test_timer_follows_event_time() -> None:
    class Ticker(Strategy):
        venues = [V]
        channels = ["trades"]
        timer_interval = 1.0

        def on_start(self) -> None:
            self.ticks: list[int] = []

        def on_timer(self, now_us: int) -> None:
            self.ticks.append(now_us)

    t = Ticker()
    rt = runtime_of(t)
    await rt.start()
    for ts in (T0 + 100, T0 + 500_000, T0 + 1_000_000, T0 + 1_200_000, T0 + 5_000_000):
        await rt.process(trades("A/USDT", (ts, "1", "1")))
    assert t.ticks == [T0 + 1_000_000, T0 + 5_000_000]


# ---------------------------------------------------------------- examples


def mm_book_stream() -> list[OrderBook]:
    """Mid 100.00, then +2 bps (no requote), then +10 bps (requote), then the bid side empties
    (no mid: nothing), then back."""
    sym = "BTC/USDT"
    return [
        snap(sym, [("99.99", "1"), ("99.90", "5")], [("100.01", "1"), ("100.10", "5")], T0),
        delta(sym, [("100.01", "1")], [("100.03", "1"), ("100.01", "0")], T0 + 1000),  # mid 100.02
        delta(sym, [("100.09", "2")], [("100.11", "1"), ("100.10", "0"), ("100.03", "0")],
              T0 + 2000),  # mid 100.10
        delta(sym, [("100.09", "0"), ("100.01", "0"), ("99.99", "0"), ("99.90", "0")], [],
              T0 + 3000),  # no bids: no mid
    ]


async def test_market_maker_places_two_quotes_amends_beyond_threshold_cancels_on_stop() -> None:
    sink = ListSink()
    mm = MarketMaker(venues=[V], spread_bps="10", size="0.5", requote_bps="5", tick="0.01")
    await run_events(runtime_of(mm, sink), mm_book_stream())
    kinds = [(type(e).__name__, getattr(e, "side", None), getattr(e, "price", None)
              or getattr(e, "new_price", None)) for e in sink.events()]
    # mid 100.00: half spread 0.05 -> 99.95 / 100.05; mid 100.10: 100.04995 -> 100.04 (floor),
    # 100.15005 -> 100.16 (ceiling)
    assert kinds == [
        ("CreateOrder", Side.BUY, "99.95"), ("CreateOrder", Side.SELL, "100.05"),
        ("AmendOrder", None, "100.04"), ("AmendOrder", None, "100.16"),
        ("CancelOrder", None, None), ("CancelOrder", None, None),
    ]
    creates = [e for e in sink.events() if isinstance(e, CreateOrder)]
    assert all(c.post_only and c.qty == "0.5" for c in creates)
    cancels = [e for e in sink.events() if isinstance(e, CancelOrder)]
    assert [c.client_order_id for c in cancels] == [c.client_order_id for c in creates]


async def test_strategy_commands_expire_by_default() -> None:
    # Every command the context makes carries an expiry: command_expiry seconds (default 30)
    # of wall-clock time after it was made; None leaves it to the connector's maximum age.
    sink = ListSink()
    mm = MarketMaker(venues=[V], spread_bps="10", size="0.5", requote_bps="5", tick="0.01")
    await run_events(runtime_of(mm, sink), mm_book_stream())
    assert sink.events() and all(
        e.expires_ts is not None and e.expires_ts - e.receive_ts == 30_000_000
        for e in sink.events())
    sink = ListSink()
    mm = MarketMaker(venues=[V], spread_bps="10", size="0.5", requote_bps="5", tick="0.01",
                     command_expiry=None)
    await run_events(runtime_of(mm, sink), mm_book_stream())
    assert sink.events() and all(e.expires_ts is None for e in sink.events())


async def test_the_same_strategy_runs_from_an_asyncio_queue_with_a_queue_sink() -> None:
    """The backtest seam: events from an in-process queue, commands into another queue."""
    source, commands = AsyncioQueue(), AsyncioQueue()
    mm = MarketMaker(venues=[V], spread_bps="10", size="0.5", requote_bps="5")
    rt = runtime_of(mm, QueueSink(commands))  # type: ignore[arg-type]
    await rt.start()
    reader = asyncio.create_task(run_queue(rt, source))
    for event in mm_book_stream():
        await source.publish(event)
    await asyncio.wait_for(source.flush(), 5)
    reader.cancel()
    await rt.stop()
    out = [await commands.poll() for _ in range(commands.qsize())]
    assert [type(e).__name__ for e in out] == ["CreateOrder"] * 2 + ["AmendOrder"] * 2 + [
        "CancelOrder"] * 2


async def test_spread_monitor_prints_mid_and_spread_when_the_top_changes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    await run_events(runtime_of(SpreadMonitor(venues=[V], every=0)), mm_book_stream()[:3] + [
        delta("BTC/USDT", [("90", "1")], [], T0 + 5000)])  # deep level: top unchanged
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"{V} BTC/USDT mid 100.00 spread 0.02 (2.00 bps)",
        f"{V} BTC/USDT mid 100.02 spread 0.02 (2.00 bps)",
        f"{V} BTC/USDT mid 100.10 spread 0.02 (2.00 bps)",
    ]


async def test_spread_monitor_prints_at_most_once_a_second_per_symbol_by_default(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # 200 top-of-book changes over 2 s of exchange time (every 10 ms): 2-3 lines, not 200.
    events = [snap("BTC/USDT", [("100.00", "1")], [("100.50", "1")], T0)] + [
        delta("BTC/USDT", [(f"{100 + (i + 1) / 1000:.3f}", "1")], [], T0 + (i + 1) * 10_000)
        for i in range(200)]
    await run_events(runtime_of(SpreadMonitor(venues=[V])), events)
    lines = capsys.readouterr().out.splitlines()
    assert 2 <= len(lines) <= 3, lines


async def test_candle_aggregator_in_process() -> None:
    sink = ListSink()
    agg = CandleAggregator(venues=[V], intervals="1s", lateness_ms="1000")
    s0 = T0  # T0 is a whole second
    events = [
        trades("A/USDT", (s0 + 100, "10.0", "1"), (s0 + 200, "12.5", "0.5")),
        trades("A/USDT", (s0 + 900_000, "9.75", "0.25")),
        trades("A/USDT", (s0 + 1_000_000, "11", "2")),  # closes [s0, s0+1s)
        trades("A/USDT", (s0 + 500_000, "1", "1")),  # late: dropped
        trades("B/USDT", (s0 + 3_000_001, "5", "1")),  # the clock passes A's second candle + 1s
    ]
    await run_events(runtime_of(agg, sink), events)
    klines = sink.events(f"ttxt.{V}.klines_agg")
    assert all(isinstance(k, Kline) for k in klines)
    got = [(k.symbol, k.open_time, k.close_time, k.open, k.high, k.low, k.close,  # type: ignore[attr-defined]
            k.volume, k.quote_volume, k.trade_count) for k in klines]  # type: ignore[attr-defined]
    assert got == [
        ("A/USDT", s0, s0 + 999_999, "10.0", "12.5", "9.75", "9.75", "1.75", "18.6875", 3),
        ("A/USDT", s0 + 1_000_000, s0 + 1_999_999, "11", "11", "11", "11", "2", "22", 1),
    ]
    assert agg.late == 1


async def test_losing_a_partition_drops_its_books_and_the_market_maker_pulls_its_quotes() -> None:
    sink = ListSink()
    mm = MarketMaker(venues=[V], symbols=["BTC/USDT", "ETH/USDT"], size="1")
    rt = runtime_of(mm, sink)
    await rt.start()
    await rt.process(snap("BTC/USDT", [("99", "1")], [("101", "1")]), ("ttxt.sim.book", 0))
    await rt.process(snap("ETH/USDT", [("9", "1")], [("11", "1")]), ("ttxt.sim.book", 1))
    assert len(mm.ctx.open_orders()) == 4
    lost = await rt.drop_origin(("ttxt.sim.book", 0))
    assert lost == [(V, "BTC/USDT")]
    assert not mm.ctx.has_book("BTC/USDT") and mm.ctx.has_book("ETH/USDT")
    cancels = [e for e in sink.events() if isinstance(e, CancelOrder)]
    assert {c.symbol for c in cancels} == {"BTC/USDT"} and len(cancels) == 2
    assert {o.symbol for o in mm.ctx.open_orders() if not o.cancel_sent} == {"ETH/USDT"}


async def test_a_muted_warm_up_runs_handlers_but_sends_nothing() -> None:
    sink = ListSink()
    agg = CandleAggregator(venues=[V], intervals="1s")
    rt = runtime_of(agg, sink)
    await rt.start()
    assert agg.warmup == 1 + 2  # longest interval + lateness
    await rt.process(trades("A/USDT", (T0 + 10, "1", "1")), muted=True)
    await rt.process(trades("A/USDT", (T0 + 1_000_010, "2", "1")), muted=True)  # closes one
    assert sink.sent == [] and rt.stats.muted == 1
    await rt.process(trades("A/USDT", (T0 + 2_000_000, "3", "1")))  # live: emits the open one
    assert [(k.open, k.open_time) for k in sink.events()] == [("2", T0 + 1_000_000)]  # type: ignore[attr-defined]
