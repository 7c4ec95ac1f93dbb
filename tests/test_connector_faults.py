"""Connectors against the simulator's synthetic market with faults injected, into real Kafka:
gaps are detected every time and rebuilt (REST snapshot or resubscription), a dropped
connection reconnects and resyncs, malformed frames are counted and skipped, a stale snapshot is
fetched again, a silent stream is reconnected, Bybit's heartbeat keeps a quiet one alive.
The book each connector holds at the end equals the simulator's own book, exactly."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import pytest
from connector_harness import (
    Run,
    assert_no_delta_on_a_broken_book,
    books_from_topic,
    config_for,
    json_book,
    statuses,
)

from ttxt_kafka.connectors.base.connector import Connector
from ttxt_kafka.connectors.base.errors import ConnectorError
from ttxt_kafka.events import ConnectorState, Event, OrderBook
from ttxt_kafka.simulator import Simulator, SyntheticSource

pytestmark = pytest.mark.kafka

VENUES = ["binance", "binance_usdm", "bybit_spot", "bybit_linear", "gateio_spot", "bitget_spot",
          "bitget_usdtm", "mexc_spot", "kucoin_spot", "coinbase_spot",
          "kraken_spot", "okx_spot", "okx_swap"]
DEPTH = {"binance": 1000, "binance_usdm": 1000, "bybit_spot": 50, "bybit_linear": 50,
         "gateio_spot": 50, "bitget_spot": 0, "bitget_usdtm": 0,  # 0: the whole book
         "mexc_spot": 1000, "kucoin_spot": 100, "coinbase_spot": 0,
         "kraken_spot": 10,  # Kraken: a loss shows in the top 10 only
         "okx_spot": 400, "okx_swap": 400}
# Coinbase's counter is the connection's: a message lost there breaks every book on it.
CONNECTION_WIDE = {"coinbase_spot"}


def breaks(stats: object) -> int:
    """Books found broken: sequence gaps, and checksum mismatches where the exchange sends a
    checksum (Bitget: a lost update shows as the next push's checksum not matching)."""
    return stats.gaps + stats.checksum_mismatches  # type: ignore[attr-defined, no-any-return]


def natives(venue: str) -> list[str]:
    """BTC/USDT and ETH/USDT as the venue writes them."""
    okx = {"okx_spot": ["BTC-USDT", "ETH-USDT"], "okx_swap": ["BTC-USDT-SWAP", "ETH-USDT-SWAP"]}
    if venue in okx:
        return okx[venue]
    if venue == "kraken_spot":
        return ["BTC/USDT", "ETH/USDT"]
    if venue in ("kucoin_spot", "coinbase_spot"):
        return ["BTC-USDT", "ETH-USDT"]
    return ["BTC_USDT", "ETH_USDT"] if venue == "gateio_spot" else ["BTCUSDT", "ETHUSDT"]


def market(venue: str, max_steps: int = 200, rate: float = 200.0) -> SyntheticSource:
    if venue == "kraken_spot":  # a loss shows at the next update of the top 10, and one that
        max_steps *= 15  # a later update overwrites goes unseen: a market that lasts longer
    if venue == "coinbase_spot":  # a rebuild is a resubscription, paced under Coinbase's
        max_steps *= 4  # 8 requests a second: a market that outlasts three of them
    return SyntheticSource(seed=7, symbols=natives(venue), rate=rate, max_steps=max_steps)


def config(venue: str, sim: Simulator, **overrides: object):  # type: ignore[no-untyped-def]
    overrides.setdefault("streams", {"book": {"depth": DEPTH[venue]}, "trades": True})
    return config_for(venue, natives(venue), sim, **overrides)


def applying(native: str):  # type: ignore[no-untyped-def]
    """Synced and past the bridging update: a dropped update now is a gap."""
    def check(c: Connector) -> bool:
        state = c.states.get(native)
        return state is not None and state.sync.synced and not state.sync.bridging
    return check


def assert_books_match_the_market(run: Run, sim: Simulator, events: list[Event]) -> None:
    downstream = books_from_topic(events, run.connector.book_max_depth() is not None)
    for native in natives(run.connector.venue):
        m = sim.feed.markets[native]  # type: ignore[attr-defined]
        depth = DEPTH[run.connector.venue] or 10**6
        bids, asks = json_book(sim.feed.fmt.depth_body(m, depth, None))  # type: ignore[attr-defined]
        symbol = run.connector.symbols.normalized(native)
        book = run.connector.books[symbol]
        assert (book.bids(), book.asks()) == (bids, asks), f"{symbol} differs from the market"
        assert (downstream[symbol].bids(), downstream[symbol].asks()) == (bids, asks)


@pytest.mark.parametrize("venue", VENUES)
async def test_every_gap_is_detected_reported_and_rebuilt(venue: str, kafka_bootstrap: str
                                                          ) -> None:
    async with Simulator(venue, market(venue)) as sim:
        run = await Run.start(config(venue, sim), kafka_bootstrap)
        try:
            for n in range(1, 4):
                btc = natives(venue)[0]
                await run.wait(applying(btc))
                # A sequence gap shows at once. Kraken's only detector is the checksum of the
                # top 10: a lost update that a later one overwrites leaves the book right (and
                # undetectable), so another is dropped until one breaks it.
                for _ in range(20 if venue == "kraken_spot" else 1):
                    sim.inject("drop_message", symbol=btc, count=1)
                    with contextlib.suppress(TimeoutError):
                        await run.wait(lambda c, n=n: breaks(c.stats) == n,  # type: ignore[misc]
                                       timeout=2 if venue == "kraken_spot" else 20)
                        break
                assert breaks(run.connector.stats) == n
            await run.settle(sim)
        finally:
            await run.stop()
    events = await run.read_back(kafka_bootstrap)
    stats = run.connector.stats
    assert breaks(stats) == 3 and stats.reconnects == 0  # rebuilt in place, not by reconnecting
    resyncs = statuses(events, ConnectorState.BOOK_RESYNC, "BTC/USDT")
    why = "checksum mismatch: " if venue.startswith(("bitget", "kraken")) else "gap:"
    assert len(resyncs) == 3 and all(r.reason.startswith(why) for r in resyncs), resyncs
    assert len(statuses(events, ConnectorState.BOOK_SYNCED, "BTC/USDT")) == 4
    if venue in CONNECTION_WIDE:  # ETH/USDT shares the connection: rebuilt each time too
        eth = statuses(events, ConnectorState.BOOK_RESYNC, "ETH/USDT")
        assert [r.reason for r in eth] == [r.reason for r in resyncs]
        assert len(statuses(events, ConnectorState.BOOK_SYNCED, "ETH/USDT")) == 4
    else:
        assert statuses(events, ConnectorState.BOOK_RESYNC, "ETH/USDT") == []
    assert_no_delta_on_a_broken_book(venue, events)
    assert_books_match_the_market(run, sim, events)


@pytest.mark.parametrize("venue", VENUES)
async def test_dropped_connection_reconnects_and_resyncs(venue: str, kafka_bootstrap: str
                                                         ) -> None:
    async with Simulator(venue, market(venue)) as sim:
        run = await Run.start(config(venue, sim), kafka_bootstrap)
        try:
            await run.connector.wait_synced()
            sim.inject("drop_connection")
            await run.wait(lambda c: c.stats.reconnects == 1 and c.stats.syncs >= 4)
            await run.settle(sim)
        finally:
            await run.stop()
    events = await run.read_back(kafka_bootstrap)
    conn = [e.status for e in statuses(events, ConnectorState.CONNECTED)
            + statuses(events, ConnectorState.RECONNECTING)]
    assert conn.count(ConnectorState.CONNECTED) == 2
    assert conn.count(ConnectorState.RECONNECTING) == 1
    for symbol in ("BTC/USDT", "ETH/USDT"):
        [resync] = statuses(events, ConnectorState.BOOK_RESYNC, symbol)
        assert resync.reason == "reconnect"
    assert_no_delta_on_a_broken_book(venue, events)
    assert_books_match_the_market(run, sim, events)


@pytest.mark.parametrize("venue", ["binance", "bybit_spot", "bitget_usdtm", "mexc_spot",
                                   "kucoin_spot", "coinbase_spot",
                                   "kraken_spot", "okx_swap"])
async def test_malformed_frames_are_logged_counted_and_skipped(
    venue: str, kafka_bootstrap: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="connectors")
    async with Simulator(venue, market(venue)) as sim:
        run = await Run.start(config(venue, sim), kafka_bootstrap)
        try:
            await run.connector.wait_synced()
            for variant in ("garbage", "truncated", "missing_fields"):
                sim.inject("malformed_frame", variant=variant)
            await run.wait(lambda c: c.stats.malformed == 3)
            await run.settle(sim)
        finally:
            await run.stop()
    events = await run.read_back(kafka_bootstrap)
    assert run.connector.stats.resyncs == 0 and run.connector.stats.reconnects == 0
    assert caplog.text.count("malformed frame skipped") == 3
    assert "not JSON" in caplog.text and "missing field" in caplog.text
    assert_books_match_the_market(run, sim, events)


@pytest.mark.parametrize("venue", ["binance", "binance_usdm", "mexc_spot", "kucoin_spot"])
async def test_stale_snapshot_is_fetched_again(venue: str, kafka_bootstrap: str) -> None:
    async with Simulator(venue, market(venue)) as sim:
        # the next REST depth lags
        sim.inject("stale_snapshot", symbol=natives(venue)[0], count=1)
        run = await Run.start(config(venue, sim), kafka_bootstrap)
        try:
            await run.settle(sim)
        finally:
            await run.stop()
    events = await run.read_back(kafka_bootstrap)
    assert run.connector.stats.stale_snapshots == 1 and run.connector.stats.gaps == 0
    assert statuses(events, ConnectorState.BOOK_RESYNC) == []  # no broken book was published
    assert [f["kind"] for f in sim.faults.applied] == ["stale_snapshot"]
    assert_books_match_the_market(run, sim, events)


async def test_silent_stream_is_reconnected_but_bybit_heartbeat_keeps_it(
    kafka_bootstrap: str,
) -> None:
    """After the market stops: Binance sends nothing (its pings are protocol-level), so the
    watchdog reconnects; Bybit answers our app-level pings, so its connection stays."""
    async with Simulator("binance", market("binance", max_steps=20)) as binance, \
            Simulator("bybit_spot", market("bybit_spot", max_steps=20)) as bybit:
        runs = [
            await Run.start(config("binance", binance, stale_timeout=0.4), kafka_bootstrap),
            await Run.start(config("bybit_spot", bybit, stale_timeout=0.4,
                                   heartbeat_interval=0.1), kafka_bootstrap),
        ]
        try:
            await runs[0].wait(lambda c: c.stats.reconnects >= 1, timeout=10)
            assert runs[1].connector.stats.reconnects == 0
        finally:
            for run in runs:
                await run.stop()
    events = await runs[0].read_back(kafka_bootstrap)
    assert "no message for 0.4s (stale stream)" in statuses(events, ConnectorState.RECONNECTING
                                                            )[0].reason


async def test_coinbase_heartbeats_keep_a_quiet_connection(kafka_bootstrap: str) -> None:
    """After the market stops, Coinbase's `heartbeats` channel (subscribed with the others)
    still brings a message a second, each numbered on the connection's counter: the stale
    watchdog leaves the connection alone and the counter shows no gap."""
    async with Simulator("coinbase_spot", market("coinbase_spot", max_steps=20)) as sim:
        run = await Run.start(config("coinbase_spot", sim, stale_timeout=1.5), kafka_bootstrap)
        try:
            await run.settle(sim)
            before = run.connector.stats.messages
            await asyncio.sleep(3.5)
            stats = run.connector.stats
            assert stats.messages >= before + 3 and stats.reconnects == 0 and stats.gaps == 0
        finally:
            await run.stop()


async def test_periodic_snapshots_let_a_late_consumer_start(kafka_bootstrap: str) -> None:
    async with Simulator("bybit_linear", market("bybit_linear", max_steps=300)) as sim:
        run = await Run.start(config("bybit_linear", sim, snapshot_interval=0.2), kafka_bootstrap)
        try:
            await run.settle(sim)
            done = run.connector.stats.book_snapshots  # and one more round after the market ended
            await run.wait(lambda c: c.stats.book_snapshots >= done + 2)
        finally:
            await run.stop()
    events = await run.read_back(kafka_bootstrap)
    snaps = [e for e in events if isinstance(e, OrderBook) and e.is_snapshot
             and e.symbol == "BTC/USDT"]
    assert len(snaps) >= 3 and all(s.depth == 50 for s in snaps)
    # a consumer starting at the last snapshot has the whole book
    last = snaps[-1]
    book = run.connector.books["BTC/USDT"]
    assert [tuple(x) for x in last.bids] == book.bids() and last.sequence == book.sequence


async def test_unknown_symbol_is_a_clear_error(kafka_bootstrap: str) -> None:
    async with Simulator("binance", market("binance")) as sim:
        run = await Run.start(config_for("binance", ["BTCUSDT", "NOPE/USDT"], sim),
                              kafka_bootstrap)
        with pytest.raises(ConnectorError, match="symbol 'NOPE/USDT' is not listed on binance"):
            await run.task
        await run.queue.stop()


@pytest.mark.parametrize("venue, per_connection, connections", [
    ("binance", 4, 3),  # 4 streams a symbol: one symbol per socket
    ("bybit_spot", 200, 1),  # 12 topics on one socket: two subscribe requests (at most 10 each)
])
async def test_symbols_spread_over_connections_and_subscriptions_chunked(
    venue: str, per_connection: int, connections: int, kafka_bootstrap: str
) -> None:
    natives = ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
    source = SyntheticSource(seed=3, symbols=natives, rate=200, max_steps=100)
    async with Simulator(venue, source) as sim:
        cfg = config_for(venue, natives, sim, max_streams_per_connection=per_connection)
        run = await Run.start(cfg, kafka_bootstrap)
        try:
            await run.settle(sim)
            c = run.connector
            assert [conn.name for conn in c.connections] == [
                f"public#{i}" for i in range(connections)]
            assert sim.state()["connections_open"] == connections
            assert c.stats.exchange_errors == 0  # every subscription accepted
            assert c.clock_drift_us is not None and abs(c.clock_drift_us) < 2_000_000
        finally:
            await run.stop()
    events = await run.read_back(kafka_bootstrap)
    assert len(statuses(events, ConnectorState.CONNECTED)) == connections
    assert {e.symbol for e in events if isinstance(e, OrderBook)} == {
        "BTC/USDT", "ETH/USDT", "SOL/USDT"}
    assert_no_delta_on_a_broken_book(venue, events)


async def test_runner_stops_every_connector_when_one_cannot_start() -> None:
    """`ttxt connect`'s loop: a connector that cannot start (unknown symbol) stops the others
    and its error comes out (the CLI prints it as one line)."""
    from ttxt_kafka.bus import AsyncioQueue
    from ttxt_kafka.connectors.config import parse_config
    from ttxt_kafka.connectors.runner import run_connectors

    async with Simulator("binance", market("binance")) as good, \
            Simulator("bybit_spot", market("bybit_spot")) as bad:
        config = parse_config({"connectors": [
            {"venue": "binance", "symbols": ["BTCUSDT"], "streams": {"book": True},
             "endpoints": {"ws": good.ws_url, "rest": good.rest_url}},
            {"venue": "bybit_spot", "symbols": ["NOPEUSDT"], "streams": {"trades": True},
             "endpoints": {"ws": bad.ws_url, "rest": bad.rest_url}},
        ]})
        started: list[Connector] = []
        with pytest.raises(ConnectorError, match="'NOPEUSDT' is not listed on bybit_spot"):
            await run_connectors(config, AsyncioQueue(100_000), asyncio.Event(),
                                 on_started=started.extend)
        assert all(c.stopping for c in started)


async def test_bitget_text_ping_and_connection_age() -> None:
    """The text `ping` goes out every heartbeat interval (Bitget: 30 s; here 0.1 s) and is
    answered; a connection older than `max_connection_age` (Bitget: 23.5 h, before Bitget's
    24 h cut; here 1 s) is redone, its books resynced and rebuilt."""
    from ttxt_kafka.bus import AsyncioQueue
    from ttxt_kafka.connectors import connector_for

    async with Simulator("bitget_usdtm", market("bitget_usdtm", max_steps=10**6, rate=50)) as sim:
        queue = AsyncioQueue(capacity=10**6)
        assert connector_for(config("bitget_usdtm", sim), queue).heartbeat_interval == 30.0
        connector = connector_for(config("bitget_usdtm", sim, heartbeat_interval=0.1), queue)
        assert connector.heartbeat_interval == 0.1  # set in the config: it wins
        assert connector.max_connection_age == 23.5 * 3600
        connector.max_connection_age = 1.0
        task = asyncio.ensure_future(connector.run())
        try:
            await connector.wait_synced(10)
            session = sim.sessions[min(sim.sessions)]
            deadline = asyncio.get_running_loop().time() + 10
            while connector.stats.reconnects < 1 or connector.stats.syncs < 4:
                assert asyncio.get_running_loop().time() < deadline, connector.stats
                await asyncio.sleep(0.05)
            assert session.pings_received >= 5  # ~10 pings a second, each answered `pong`
            assert connector.stats.malformed == connector.stats.exchange_errors == 0
        finally:
            connector.stop()
            await task


async def test_coinbase_gap_rebuilds_every_book_with_one_resubscription(kafka_bootstrap: str
                                                                        ) -> None:
    """A gap on Coinbase's connection-wide counter breaks all its books: they are rebuilt by
    one unsubscribe + one subscribe naming every product (not two messages per product), and
    every request goes out paced under the 8 a second Coinbase allows per IP (the simulator
    closes a connection that sends more): no error, no reconnect."""
    products = ["BTC-USDT", "ETH-USDT", "SOL-USDT", "XRP-USDT", "ADA-USDT", "LTC-USDT",
                "DOT-USDT", "AVAX-USDT", "LINK-USDT", "ATOM-USDT"]
    source = SyntheticSource(seed=7, symbols=products, rate=400.0, max_steps=400)
    async with Simulator("coinbase_spot", source) as sim:
        cfg = config_for("coinbase_spot", products, sim,
                         streams={"book": {"depth": 0}, "trades": True})
        run = await Run.start(cfg, kafka_bootstrap)
        try:
            await run.wait(applying("BTC-USDT"))
            sim.inject("drop_message", symbol="BTC-USDT", count=1)
            await run.wait(lambda c: c.stats.gaps == 1)
            await run.settle(sim)
        finally:
            await run.stop()
    proto = sim.protocol
    assert proto.requests[("unsubscribe", "level2")] == 1  # type: ignore[union-attr]
    assert proto.requests[("subscribe", "level2")] == 2  # type: ignore[union-attr]
    assert proto.rate_limited == 0 and proto.refused_connections == 0  # type: ignore[union-attr]
    stats = run.connector.stats
    assert stats.reconnects == 0 and stats.exchange_errors == 0
    events = await run.read_back(kafka_bootstrap)
    for native in products:
        symbol = native.replace("-", "/")
        assert len(statuses(events, ConnectorState.BOOK_RESYNC, symbol)) == 1, symbol
        assert len(statuses(events, ConnectorState.BOOK_SYNCED, symbol)) == 2, symbol
    assert_no_delta_on_a_broken_book("coinbase_spot", events)
