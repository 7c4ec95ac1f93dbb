"""KuCoin's connection rules against the simulator: a bullet token per connection, the server's
welcome before subscribing, acked subscriptions, application pings every `pingInterval`, topics
of at most 100 symbols, symbols spread over sockets by the stream cap, and a connection redone
before its token's 24 h are up."""

from __future__ import annotations

import asyncio

import pytest
from connector_harness import Run, assert_no_delta_on_a_broken_book, config_for, statuses

from ttxt_kafka.bus import AsyncioQueue
from ttxt_kafka.connectors import connector_for
from ttxt_kafka.connectors.base.errors import ConnectorError
from ttxt_kafka.connectors.kucoin import endpoints as ep
from ttxt_kafka.connectors.kucoin.connector import KucoinSpotConnector
from ttxt_kafka.events import ConnectorState, OrderBook
from ttxt_kafka.simulator import Simulator, SyntheticSource

NATIVES = ["BTC-USDT", "ETH-USDT", "SOL-USDT"]


def market(max_steps: int = 100, rate: float = 200.0) -> SyntheticSource:
    return SyntheticSource(seed=5, symbols=NATIVES, rate=rate, max_steps=max_steps)


def test_topics_carry_at_most_100_symbols() -> None:
    natives = [f"C{i}-USDT" for i in range(250)]
    assert [len(b) for b in ep.batches(natives)] == [100, 100, 50]
    assert ep.topic(ep.BOOK, ["A-B", "C-D"]) == "/market/level2:A-B,C-D"
    assert ep.candle_topic("A-B", "4h") == "/market/candles:A-B_4hour"
    assert set(ep.INTERVALS.values()) <= set(ep.CANDLE_TYPES)  # every platform interval streams


async def test_token_welcome_pings_and_connection_age() -> None:
    async with Simulator("kucoin_spot", market(max_steps=10**6, rate=50)) as sim:
        queue = AsyncioQueue(capacity=10**6)
        cfg = config_for("kucoin_spot", NATIVES[:1], sim)
        connector = connector_for(cfg, queue)
        assert isinstance(connector, KucoinSpotConnector)
        assert connector.max_connection_age == 24 * 3600 - 600
        assert connector.credentials is None  # no trading section: public level2_100 books
        connector = connector_for(config_for("kucoin_spot", NATIVES[:1], sim,
                                             heartbeat_interval=0.1), queue)
        connector.max_connection_age = 1.0
        task = asyncio.ensure_future(connector.run())
        try:
            await connector.wait_synced(10)
            session = sim.sessions[min(sim.sessions)]
            assert "token=" in session.path and "connectId=" in session.path
            deadline = asyncio.get_running_loop().time() + 10
            while connector.stats.reconnects < 1 or connector.stats.syncs < 2:
                assert asyncio.get_running_loop().time() < deadline, connector.stats
                await asyncio.sleep(0.05)
            assert session.pings_received >= 5  # `{"type":"ping"}` every 0.1 s, each a pong
            assert connector.stats.malformed == connector.stats.exchange_errors == 0
            protocol_tokens = len(sim.sessions)  # every connection used its own token
            assert protocol_tokens >= 2
        finally:
            connector.stop()
            await task


async def test_bullet_ping_interval_is_used_by_default() -> None:
    async with Simulator("kucoin_spot", market()) as sim:
        connector = connector_for(config_for("kucoin_spot", NATIVES[:1], sim),
                                  AsyncioQueue(capacity=10**6))
        assert connector.heartbeat_interval == 18.0
        task = asyncio.ensure_future(connector.run())
        try:
            await connector.wait_synced(10)
            assert connector.heartbeat_interval == 18.0  # the bullet's pingInterval, 18000 ms
        finally:
            connector.stop()
            await task


async def test_whole_book_needs_credentials() -> None:
    async with Simulator("kucoin_spot", market()) as sim:
        cfg = config_for("kucoin_spot", NATIVES[:1], sim, streams={"book": {"depth": 0}})
        with pytest.raises(ConnectorError, match="needs credentials"):
            connector_for(cfg, AsyncioQueue(capacity=10))


@pytest.mark.kafka
async def test_symbols_spread_over_connections(kafka_bootstrap: str) -> None:
    """4 topics a symbol (book, match, candles 1min, ticker) and a cap of 4 per connection: one
    symbol per socket, each with its own token and subscriptions, every one acked."""
    async with Simulator("kucoin_spot", market()) as sim:
        cfg = config_for("kucoin_spot", NATIVES, sim, max_streams_per_connection=4)
        run = await Run.start(cfg, kafka_bootstrap)
        try:
            await run.settle(sim)
            c = run.connector
            assert [conn.name for conn in c.connections] == ["public#0", "public#1", "public#2"]
            assert sim.state()["connections_open"] == 3
            assert c.stats.exchange_errors == 0  # every subscription acked, none refused
            assert c.clock_drift_us is not None and abs(c.clock_drift_us) < 2_000_000
        finally:
            await run.stop()
    events = await run.read_back(kafka_bootstrap)
    assert len(statuses(events, ConnectorState.CONNECTED)) == 3
    assert {e.symbol for e in events if isinstance(e, OrderBook)} == {
        "BTC/USDT", "ETH/USDT", "SOL/USDT"}
    assert_no_delta_on_a_broken_book("kucoin_spot", events)


async def test_synthetic_wire_protocol_and_sequences() -> None:
    """The simulator's KuCoin side as a client sees it: the bullet, the welcome, acks and an
    error frame for an unknown topic; level2 pushes whose sequenceStart continues the previous
    sequenceEnd, each change's sequence inside its push's range, bridging the REST snapshot."""
    import json

    import aiohttp
    import websockets
    from sim_helpers import recv_json

    async with Simulator("kucoin_spot", market(max_steps=10**6, rate=100)) as sim, \
            aiohttp.ClientSession() as http:
        async with http.post(f"{sim.rest_url}{ep.BULLET_PUBLIC}") as resp:
            bullet = (await resp.json())["data"]
        server = bullet["instanceServers"][0]
        assert (server["pingInterval"], server["pingTimeout"]) == (18000, 10000)
        url = ep.ws_url(server["endpoint"], bullet["token"], "c9")
        async with websockets.connect(url) as ws:
            assert await recv_json(ws) == {"id": "c9", "type": "welcome"}
            await ws.send(json.dumps(ep.subscribe("/market/nope:BTC-USDT", "e1")))
            error = await recv_json(ws)
            assert (error["id"], error["type"], error["code"]) == ("e1", "error", 404)
            await ws.send(json.dumps(ep.subscribe("/market/level2:BTC-USDT,ETH-USDT", "s1")))
            assert await recv_json(ws) == {"id": "s1", "type": "ack"}
            pushes = [await recv_json(ws) for _ in range(60)]
        async with http.get(f"{sim.rest_url}{ep.BOOK_PART_PATH}?symbol=BTC-USDT") as resp:
            snapshot = (await resp.json())["data"]
    last: dict[str, int] = {}
    for p in pushes:
        assert p["subject"] == ep.SUBJECT_BOOK
        d = p["data"]
        start, end = d["sequenceStart"], d["sequenceEnd"]
        if d["symbol"] in last:
            assert start == last[d["symbol"]] + 1
        seqs = [int(c[2]) for side in ("asks", "bids") for c in d["changes"][side]]
        assert seqs and all(start <= s <= end for s in seqs)
        last[d["symbol"]] = end
    assert set(last) == {"BTC-USDT", "ETH-USDT"}
    assert int(snapshot["sequence"]) >= last["BTC-USDT"]  # a snapshot taken later bridges
    assert len(snapshot["bids"]) <= ep.PART_DEPTH
