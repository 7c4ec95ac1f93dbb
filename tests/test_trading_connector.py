"""The connector's trading side beyond the happy path: bounded retries of rate-limit answers,
USD-M listen keys kept alive, private streams reconnected with a REST resync, the
`AccountSync` command, Bybit's REST fallback; and the pure parts (config, REST bodies, URLs)."""

from __future__ import annotations

import pytest
from trading_support import TradingRun, create, set_credentials, simulator

from ttxt_kafka.codec import decode, encode
from ttxt_kafka.connectors.base.errors import ConnectorError
from ttxt_kafka.connectors.binance.rest_private import (
    order_update,
    usdm_account_wallet,
    usdm_position,
)
from ttxt_kafka.connectors.config import ConfigError, parse_config
from ttxt_kafka.connectors.trading import dead_letter_topic, trading_topics
from ttxt_kafka.connectors.trading.private import redact
from ttxt_kafka.connectors.trading.sync_command import AccountSync
from ttxt_kafka.events import (
    AckStatus,
    ConnectorState,
    ConnectorStatus,
    OrderStatus,
    OrderType,
    OrderUpdate,
    PositionSide,
    Side,
    Wallet,
    now_us,
)


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    set_credentials(monkeypatch)


@pytest.mark.kafka
async def test_usdm_keepalive_reconnect_and_sync(kafka_bootstrap: str) -> None:
    sim = simulator("binance_usdm")
    await sim.start()
    run = await TradingRun.start(kafka_bootstrap, sim, keepalive_interval=0.2)
    try:
        collector = run.collector
        # the listen key is kept alive
        await collector.wait(lambda: sim.exchange.requests["PUT /fapi/v1/listenKey"] >= 2)
        # a dropped user data stream comes back with a fresh key, and the account is re-read
        # (the start's wallet snapshot is seen first: the collector reads Kafka and may lag)
        await collector.wait(lambda: [w for w in collector.of(Wallet) if w.is_snapshot])
        snapshots = len([w for w in collector.of(Wallet) if w.is_snapshot])
        sim.inject("drop_connection")
        await collector.wait(lambda: [s for s in collector.of(ConnectorStatus)
                                      if s.stream == "user_data"
                                      and s.status is ConnectorState.RECONNECTING])
        await collector.wait(lambda: len([w for w in collector.of(Wallet)
                                          if w.is_snapshot]) > snapshots)
        assert sim.exchange.requests["POST /fapi/v1/listenKey"] >= 2
        # an open order, then AccountSync: the open orders and wallet over REST, now
        placed = await run.place(create("binance_usdm", Side.BUY, "0.01", "1000.0",
                                        client_order_id="sync-me"))
        assert placed.status is AckStatus.ACCEPTED
        before = len(collector.of(OrderUpdate))
        ts = now_us()
        await run.send(AccountSync(venue="binance_usdm", symbol="", exchange_ts=ts,
                                   receive_ts=ts, command_id="sync-1"))
        await collector.wait(lambda: [u for u in collector.of(OrderUpdate)[before:]
                                      if u.client_order_id == "sync-me"])
    finally:
        await run.stop()
        await sim.stop()


@pytest.mark.kafka
async def test_bybit_rest_fallback_and_bounded_retries(kafka_bootstrap: str) -> None:
    sim = simulator("bybit_spot")
    await sim.start()
    run = await TradingRun.start(kafka_bootstrap, sim, ws_trading=False, max_retries=2)
    try:
        ack = await run.place(create("bybit_spot", Side.BUY, "0.01"))
        assert ack.status is AckStatus.ACCEPTED, ack
        assert sim.exchange.requests["POST /v5/order/create"] == 1
        assert sim.exchange.requests["WS order.create"] == 0
        # a rate limit that outlasts the retries: rejected with the exchange's code, 3 tries
        sim.inject("rate_limit", count=3)
        ack = await run.place(create("bybit_spot", Side.BUY, "0.01"))
        assert (ack.status, ack.error_code) == (AckStatus.REJECTED, "10006"), ack
        assert sim.exchange.requests["POST /v5/order/create"] == 4  # 1 + (1 + max_retries)
        assert sum(f["kind"] == "rate_limit" for f in sim.state()["faults_applied"]) == 3
        assert len(sim.exchange.engine._orders) == 1  # noqa: SLF001 - the first order only
    finally:
        await run.stop()
        await sim.stop()


@pytest.mark.kafka
async def test_live_without_credentials_is_a_clear_error(kafka_bootstrap: str,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TTXT_BINANCE_API_KEY")
    sim = simulator("binance")
    await sim.start()
    try:
        with pytest.raises(ConnectorError) as err:
            await TradingRun.start(kafka_bootstrap, sim)
    finally:
        await sim.stop()
    assert "TTXT_BINANCE_API_KEY" in str(err.value) and "secrets file" in str(err.value)


# ---------------------------------------------------------------------------- pure parts


def test_trading_config_errors_name_the_key() -> None:
    base = {"venue": "binance", "symbols": ["BTCUSDT"], "streams": {"book": True}}
    with pytest.raises(ConfigError) as err:
        parse_config({"connectors": [{**base, "trading": {"mode": "yolo", "paper": {
            "balances": {"USDT": 10.5}}, "max_retries": 99}}]})
    text = str(err.value)
    assert "connectors[0].trading.mode" in text
    assert "connectors[0].trading.paper.balances.USDT" in text and "quoted" in text
    assert "connectors[0].trading.max_retries" in text
    with pytest.raises(ConfigError, match="turn streams.book on"):
        parse_config({"connectors": [{**base, "streams": {"trades": True},
                                      "trading": {"mode": "paper"}}]})
    config = parse_config({"connectors": [{**base, "trading": {}}]})
    trading = config.connectors[0].trading
    assert trading is not None and trading.mode == "live"
    assert trading_topics("binance", trading, "ttxt") == [
        "ttxt.binance.orders", "ttxt.binance.executions", "ttxt.binance.account",
        "ttxt.binance.orders.dlq"]
    assert dead_letter_topic("p.binance.orders") == "p.binance.orders.dlq"


def test_account_sync_is_a_registered_event() -> None:
    ts = now_us()
    sync = AccountSync(venue="binance", symbol="", exchange_ts=ts, receive_ts=ts,
                       command_id="c-1")
    assert decode(encode(sync)) == sync


def test_urls_lose_their_listen_key_in_logs() -> None:
    assert redact("connect to wss://fstream.binance.com/ws/abcDEF123 failed") == (
        "connect to wss://fstream.binance.com/ws/<listenKey> failed")
    assert redact("wss://ws-api.binance.com:443/ws-api/v3?x=1") == (
        "wss://ws-api.binance.com:443/ws-api/v3")


def test_binance_rest_bodies() -> None:
    spot = {"symbol": "BTCUSDT", "orderId": 28, "orderListId": -1, "clientOrderId": "c1",
            "price": "60000.00000000", "origQty": "0.02000000", "executedQty": "0.01000000",
            "cummulativeQuoteQty": "600.00000000", "status": "PARTIALLY_FILLED",
            "timeInForce": "GTC", "type": "LIMIT_MAKER", "side": "BUY", "time": 1700000000000,
            "updateTime": 1700000000123}
    update = order_update(spot, "binance", {"BTCUSDT": "BTC/USDT"}.get, 5)
    assert (update.symbol, update.order_id, update.status, update.order_type, update.price,
            update.filled_qty, update.avg_price, update.exchange_ts) == (
        "BTC/USDT", "28", OrderStatus.PARTIALLY_FILLED, OrderType.LIMIT, "60000.00000000",
        "0.01000000", "60000", 1700000000123000)
    usdm = {**spot, "type": "MARKET", "avgPrice": "60001.5", "reduceOnly": True,
            "status": "FILLED", "executedQty": "0.02"}
    update = order_update(usdm, "binance_usdm", str, 5)
    assert (update.avg_price, update.reduce_only, update.order_type) == (
        "60001.5", True, OrderType.MARKET)
    wallet = usdm_account_wallet({"assets": [{"asset": "USDT", "walletBalance": "10.5",
                                              "availableBalance": "9", "updateTime": 7}]}, 5)
    assert (wallet.is_snapshot, wallet.balances[0].total, wallet.balances[0].available) == (
        True, "10.5", "9")
    position = usdm_position({"symbol": "BTCUSDT", "positionSide": "BOTH",
                              "positionAmt": "-0.5", "entryPrice": "60000",
                              "markPrice": "59000", "unRealizedProfit": "500"},
                             "binance_usdm", str, 5)
    assert (position.side, position.size, position.unrealized_pnl) == (
        PositionSide.SHORT, "0.5", "500")
