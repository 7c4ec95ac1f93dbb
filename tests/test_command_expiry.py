"""Issue 11, "safety first": a command that failed must not execute later.

Every order command carries an expiry (`expires_ts`, or the connector's
`trading.command_max_age`); a connector never sends an expired command and acks it REJECTED
`expired`. `ttxt order`'s default expiry is its ack timeout, and it refuses bad quantities
locally, before any Kafka round trip."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from fastavro import parse_schema, schemaless_reader, schemaless_writer
from trading_support import TradingRun, create, set_credentials, simulator

from ttxt_kafka.bus import KafkaQueue
from ttxt_kafka.cli import main
from ttxt_kafka.codec import decode, encode
from ttxt_kafka.events import AckStatus, CancelOrder, CreateOrder, OrderAck, now_us
from ttxt_kafka.fingerprint import schema_fingerprint
from ttxt_kafka.registry import MAGIC
from ttxt_kafka.schemas import load_schema, schema_dir

# ---------------------------------------------------------------- schema evolution


def _old(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(
        (schema_dir() / "previous" / f"{name}.v1.avsc").read_text(encoding="utf-8"))
    return schema


@pytest.mark.parametrize("name", ["CreateOrder", "CancelOrder", "AmendOrder",
                                  "CancelAllOrders"])
def test_expires_ts_is_an_avro_field_with_a_default(name: str) -> None:
    new, old = load_schema(name), _old(name)
    added = [f for f in new["fields"] if f["name"] not in {g["name"] for g in old["fields"]}]
    assert [(f["name"], f["type"], f["default"]) for f in added] == [
        ("expires_ts", ["null", {"type": "long", "logicalType": "timestamp-micros"}], None)]


def test_old_command_records_still_decode_and_new_ones_decode_with_the_old_schema() -> None:
    # An old producer's record (no expires_ts): decodes, expires_ts is the default (None).
    old = _old("CreateOrder")
    record = {"venue": "binance", "symbol": "BTC/USDT", "native_symbol": "BTCUSDT",
              "exchange_ts": 1, "receive_ts": 2, "sequence": None, "command_id": "c-1",
              "client_order_id": "my-1", "side": "BUY", "order_type": "LIMIT",
              "time_in_force": "GTC", "post_only": False, "reduce_only": False, "qty": "0.01",
              "price": "60000.5", "take_profit": None, "stop_loss": None, "extras": {}}
    buf = BytesIO()
    buf.write(MAGIC + schema_fingerprint(old))
    schemaless_writer(buf, parse_schema(old), record)
    event = decode(buf.getvalue())
    assert isinstance(event, CreateOrder)
    assert (event.command_id, event.price, event.expires_ts) == ("c-1", "60000.5", None)

    # A new record read by an old consumer (its reader schema has no expires_ts).
    new = CancelOrder(venue="binance", symbol="BTC/USDT", exchange_ts=1, receive_ts=2,
                      command_id="c-2", client_order_id="my-1", expires_ts=123)
    data = encode(new)
    assert decode(data) == new
    body = BytesIO(data[10:])
    seen = schemaless_reader(body, parse_schema(load_schema("CancelOrder")),
                             parse_schema(_old("CancelOrder")))
    assert isinstance(seen, dict)
    assert seen["client_order_id"] == "my-1" and "expires_ts" not in seen


# ---------------------------------------------------------------- ttxt order, locally


@pytest.mark.parametrize("qty", ["-0.01", "0", "abc", "1e-3", "NaN", "0.00"])
def test_ttxt_order_refuses_a_bad_quantity_at_once(
        qty: str, capsys: pytest.CaptureFixture[str]) -> None:
    started = time.monotonic()
    with pytest.raises(SystemExit) as exit_info:  # no broker is asked: 127.0.0.1:9 is closed
        main(["order", "buy", "binance", "BTC/USDT", qty, "--bootstrap", "127.0.0.1:9"])
    assert exit_info.value.code == 2
    assert time.monotonic() - started < 2
    assert "not a positive plain decimal" in capsys.readouterr().err


def test_ttxt_order_refuses_a_bad_price(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["order", "buy", "binance", "BTC/USDT", "0.01", "--limit", "-5",
              "--bootstrap", "127.0.0.1:9"])
    assert "'-5' is not a positive plain decimal" in capsys.readouterr().err


# ---------------------------------------------------------------- end to end


def ttxt(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ttxt_kafka.cli", *args], capture_output=True,
                          text=True, timeout=timeout)


@pytest.mark.kafka
async def test_a_command_sent_while_no_connector_runs_never_executes_after_its_expiry(
        kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    set_credentials(monkeypatch)
    venue = "binance"
    sim = simulator(venue)
    await sim.start()
    try:
        # The connector ran once (its group's offsets exist), then stopped.
        first = await TradingRun.start(kafka_bootstrap, sim, command_max_age=2)
        prefix = first.prefix
        await first.stop()

        # `ttxt order` with no connector: no ack within its timeout -> exit 2, and it says the
        # command has expired (its default expiry is the timeout).
        out = await asyncio.to_thread(
            ttxt, "order", "buy", venue, "BTC/USDT", "0.01", "--timeout", "1",
            "--follow", "0", "--prefix", prefix, "--bootstrap", kafka_bootstrap)
        assert out.returncode == 2, out.stderr
        assert "It expired at" in out.stderr and "will not execute" in out.stderr, out.stderr

        # A longer --expires: the timeout message says until when it can execute and how to
        # make sure it does not (a cancel by client order id).
        later = await asyncio.to_thread(
            ttxt, "order", "sell", venue, "BTC/USDT", "0.01", "--timeout", "0.5",
            "--expires", "2", "--follow", "0", "--prefix", prefix, "--bootstrap",
            kafka_bootstrap)
        assert later.returncode == 2, later.stderr
        assert "can still execute until" in later.stderr, later.stderr
        assert f"ttxt order cancel {venue} BTC/USDT --client-id " in later.stderr

        # A sender that sets no expiry: the connector's command_max_age (2 s here) applies.
        no_expiry = create(venue, qty="0.02")
        assert no_expiry.expires_ts is None
        async with KafkaQueue(kafka_bootstrap, prefix=prefix) as queue:
            await queue.publish(no_expiry)
            await queue.flush()

        await asyncio.sleep(2.2)  # past every expiry; then the connector comes (back)
        second = await TradingRun.start(kafka_bootstrap, sim, prefix=prefix,
                                        command_max_age=2)
        try:
            acks: list[OrderAck] = await second.collector.wait(
                lambda: [a for a in second.collector.of(OrderAck)
                         if a.status is AckStatus.REJECTED] if len(
                    second.collector.of(OrderAck)) >= 3 else None, 20, "three acks")
            fresh = await second.place(create(venue, qty="0.01", expires_ts=now_us() + 10**7))
        finally:
            await second.stop()
        orders = list(sim.exchange.engine._orders.values())  # noqa: SLF001
    finally:
        await sim.stop()

    assert len(acks) == 3 and all(a.reason.startswith("expired") for a in acks), acks
    assert all(a.error_code == "expired" for a in acks)
    assert any("command_max_age" in a.reason for a in acks)
    assert [a for a in acks if a.command_id == no_expiry.command_id]
    assert fresh.status is AckStatus.ACCEPTED, fresh
    # Only the fresh order reached the simulator.
    assert [o.client_order_id for o in orders] == [fresh.client_order_id]
    assert second.trader.executor is not None and second.trader.executor.stats.expired == 3

    # `ttxt orders` shows the rejections and why.
    shown = await asyncio.to_thread(ttxt, "orders", venue, "--executions", "50", "--prefix", prefix,
                                    "--bootstrap", kafka_bootstrap)
    assert shown.stdout.count('"reason":"expired') == 3, shown.stdout
