"""1,000 malformed or invalid commands interleaved with valid ones: every bad one gets a rejected
ack (with a reason) or goes to the dead-letter topic, the connector never crashes, and every
valid one is placed. Garbage bytes, other events, fuzzed fields, wrong types (JSON commands),
negative and zero sizes, unknown symbols, broken client ids, impossible combinations."""

from __future__ import annotations

import json
import random
import uuid
from collections import Counter
from collections.abc import Callable
from decimal import Decimal

import pytest
from trading_support import Collector, TradingRun, create, set_credentials, simulator

from ttxt_kafka.codec import encode
from ttxt_kafka.events import (
    AckStatus,
    AmendOrder,
    CancelAllOrders,
    CancelOrder,
    CreateOrder,
    Event,
    OrderAck,
    OrderBook,
    OrderType,
    Side,
    TimeInForce,
    UpdateType,
    now_us,
)
from ttxt_kafka.topics import topic

pytestmark = pytest.mark.kafka

VENUE = "binance"
BAD = 1000
VALID = 50

BAD_NUMBERS = ["-1", "0", "0.000", "abc", "1e5", "NaN", "Infinity", "", " 1", "1_000", "+1",
               "9" * 60, "0." + "1" * 50, "1.2.3", "0x10", "٣", "-0.01", "1,5"]
BAD_SYMBOLS = ["FOO/BAR", "", "BTC/USD", "btc-usdt", "💩", "BTC/USDT/X", "x" * 300, "ETHBTC"]
BAD_CIDS = ["has space", "x" * 37, "ünïcode", "semi;colon", "autoclose-123", "tab\tid"]


def _header(symbol: str = "BTC/USDT", venue: str = VENUE) -> dict[str, object]:
    ts = now_us()
    return {"venue": venue, "symbol": symbol, "exchange_ts": ts, "receive_ts": ts,
            "command_id": f"f-{uuid.uuid4().hex[:20]}"}


def _fuzzed_create(rng: random.Random) -> CreateOrder:
    """A decodable CreateOrder with one field (or combination) that must be refused."""
    base: dict[str, object] = {"side": Side.BUY, "order_type": OrderType.LIMIT, "qty": "0.01",
                               "price": "1000.0"}
    symbol = "BTC/USDT"
    venue = VENUE
    header_extra: dict[str, object] = {}
    case = rng.randrange(16)
    if case == 0:
        base["qty"] = rng.choice(BAD_NUMBERS)
    elif case == 1:
        base["price"] = rng.choice(BAD_NUMBERS)
    elif case == 2:
        base["price"] = f"1000.{rng.randint(0, 9)}{rng.randint(1, 9)}"  # not a multiple of 0.1
    elif case == 3:
        base["qty"] = f"0.{rng.randint(100, 999)}{rng.randint(1, 9)}"  # not a multiple of 0.001
    elif case == 4:
        symbol = rng.choice(BAD_SYMBOLS)
    elif case == 5:
        base["side"] = Side.UNKNOWN
    elif case == 6:
        base["price"] = None  # a LIMIT without a price
    elif case == 7:
        base.update(order_type=OrderType.MARKET)  # a MARKET with a price
    elif case == 8:
        base.update(order_type=OrderType.MARKET, price=None, time_in_force=TimeInForce.FOK)
    elif case == 9:
        base.update(post_only=True, time_in_force=TimeInForce.IOC)
    elif case == 10:
        base["reduce_only"] = True  # spot
    elif case == 11:
        base["client_order_id"] = rng.choice(BAD_CIDS)
    elif case == 12:
        header_extra["command_id"] = rng.choice(["", "y" * 201 + uuid.uuid4().hex])
    elif case == 13:
        venue = rng.choice(["binance_usdm", "bybit_spot", "okx_spot"])
    elif case == 14:
        base.update(take_profit="2000.0")  # Binance: no TP/SL on a plain order
    else:
        base.update(qty="0.001", price="100.0")  # notional 0.1 < the 5 minimum
    header = _header(symbol, venue)
    header.update(header_extra)
    return CreateOrder(**header, **base)  # type: ignore[arg-type]


def _other_command(rng: random.Random) -> Event:
    case = rng.randrange(6)
    if case == 0:
        return CancelOrder(**_header())  # type: ignore[arg-type]  # names no order
    if case == 1:
        return CancelOrder(**_header(), client_order_id=f"nope-{rng.randrange(10**6)}")  # type: ignore[arg-type]
    if case == 2:
        return AmendOrder(**_header(), client_order_id="nope")  # type: ignore[arg-type]  # nothing new
    if case == 3:
        return AmendOrder(**_header(), client_order_id=f"nope-{rng.randrange(10**6)}",  # type: ignore[arg-type]
                          new_price=rng.choice(BAD_NUMBERS + ["1000.0"]))
    if case == 4:
        return CancelAllOrders(**_header(rng.choice(["FOO/BAR", "NOPE/USDT"])))  # type: ignore[arg-type]
    return CancelOrder(**_header(rng.choice(BAD_SYMBOLS)), order_id="12")  # type: ignore[arg-type]


def _garbage(rng: random.Random) -> bytes:
    valid = encode(create(VENUE, qty="0.01", price="1000.0"))
    case = rng.randrange(7)
    if case == 0:
        return rng.randbytes(rng.randint(0, 64))
    if case == 1:  # a command written as JSON, with wrong types
        return json.dumps({"type": "CreateOrder", "venue": VENUE, "symbol": "BTC/USDT",
                           "qty": rng.choice([5, -1, None, [1]]), "side": 1}).encode()
    if case == 2:
        return valid[: rng.randint(1, len(valid) - 1)]  # truncated
    if case == 3:
        return b"\xc3\x01" + rng.randbytes(8) + valid[10:]  # unknown schema fingerprint
    if case == 4:
        corrupt = bytearray(valid)
        corrupt[rng.randrange(10, len(corrupt))] ^= 0xFF
        return bytes(corrupt) + b"\x00" * rng.randint(0, 3)
    if case == 5:  # a real event, but not a command
        ts = now_us()
        return encode(OrderBook(venue=VENUE, symbol="BTC/USDT", exchange_ts=ts, receive_ts=ts,
                                update_type=UpdateType.SNAPSHOT, bids=[["1.0", "1.0"]]))
    return b"\x00\x00\x00\x00\x01" + rng.randbytes(20)  # Confluent framing


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    set_credentials(monkeypatch)


async def test_a_thousand_bad_commands_interleaved_with_valid_ones(kafka_bootstrap: str) -> None:
    rng = random.Random(20240605)
    sim = simulator(VENUE)
    await sim.start()
    run = await TradingRun.start(kafka_bootstrap, sim)
    dlq = topic(VENUE, "orders", run.prefix) + ".dlq"
    dead = await Collector(kafka_bootstrap, [dlq]).start()
    orders_topic = topic(VENUE, "orders", run.prefix)
    try:
        best_bid = Decimal(run.connector.books["BTC/USDT"].best_bid()[0])  # type: ignore[index]
        low = (best_bid - Decimal(100)).quantize(Decimal("0.1"))
        kinds: Counter[str] = Counter()
        bad_ids: list[str] = []
        valid_ids: list[str] = []
        makers: list[tuple[str, Callable[[random.Random], object]]] = [
            ("garbage", _garbage), ("fuzzed create", _fuzzed_create),
            ("fuzzed create", _fuzzed_create), ("other command", _other_command)]
        for i in range(BAD):
            kind, make = rng.choice(makers)
            item = make(rng)
            kinds[kind] += 1
            if isinstance(item, Event):  # on this venue's topic, whatever venue it names
                bad_ids.append(item.command_id)  # type: ignore[attr-defined]
                item = encode(item)
            assert isinstance(item, bytes)
            await run.queue.publish_raw(orders_topic, item, rng.choice([b"BTC/USDT", None]))
            if i % (BAD // VALID) == 0:
                valid = create(VENUE, Side.BUY, "0.01", str(low - len(valid_ids)),
                               client_order_id=f"valid-{len(valid_ids)}")
                valid_ids.append(valid.command_id)
                await run.queue.publish(valid)
        await run.queue.flush()
        garbage = kinds["garbage"]
        collector = run.collector
        await collector.wait(lambda: len({a.command_id for a in collector.of(OrderAck)})
                             >= len(set(bad_ids) - {""}) + VALID - 1 and
                             len(dead.events) + len(dead.undecodable) >= garbage,
                             timeout=60, what="an answer to every command")
        await collector.wait(lambda: run.trader.stats.commands >= len(bad_ids) + VALID,
                             timeout=30)
        assert not any(t.done() for t in run.tasks), "the connector or trader ended"
    finally:
        await dead.stop()
        stats = run.trader.stats
        await run.stop()
        await sim.stop()

    acks = collector.of(OrderAck)
    by_status = Counter(a.status for a in acks)
    bad_acks = [a for a in acks if a.command_id not in valid_ids]
    dead_letters = len(dead.events) + len(dead.undecodable)
    print(f"\nfuzz: {BAD} bad records ({dict(kinds)}) + {VALID} valid -> "
          f"{len(bad_acks)} rejected acks, {dead_letters} dead letters, "
          f"{by_status[AckStatus.ACCEPTED]} accepted; connector errors {stats.errors}")
    assert stats.errors == 0
    assert all(a.status is AckStatus.REJECTED and a.reason for a in bad_acks), [
        a for a in bad_acks if a.status is not AckStatus.REJECTED][:3]
    assert len(bad_acks) + dead_letters == BAD  # each bad record answered exactly once
    assert dead_letters == garbage == stats.dead_lettered
    placed = {o.client_order_id for o in sim.exchange.open_orders()}
    assert placed == {f"valid-{i}" for i in range(VALID)}
    assert by_status[AckStatus.ACCEPTED] == VALID
    assert all(a.venue == VENUE for a in acks)  # never answered on another venue's topic
