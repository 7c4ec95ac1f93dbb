"""`ttxt order` stopped by Ctrl-C (SIGINT) or SIGTERM while it waits (subprocess, real broker):
it tells whether the command was sent and what is known of it, closes its clients (no
traceback), and exits with the shell's code for the signal (130, 143), as `ttxt tail` does.

No connector runs: the test reads the command off the orders topic and, where an answer is
needed, writes the connector's ack and order update to the executions topic itself."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import uuid

import pytest
from recorder_helpers import consume_all

from ttxt_kafka.admin import ensure_topics
from ttxt_kafka.bus import KafkaQueue
from ttxt_kafka.codec import decode
from ttxt_kafka.events import (
    AckStatus,
    CommandType,
    CreateOrder,
    Event,
    OrderAck,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Side,
    now_us,
)
from ttxt_kafka.topics import topic

pytestmark = pytest.mark.kafka


async def _sent(bootstrap: str, *args: str, answers: str = "executions"
                ) -> tuple[subprocess.Popen[str], str, Event]:
    """`ttxt ARGS --prefix P` running (P fresh: its orders topic and the `answers` one made),
    and the command it put on the orders topic."""
    prefix = f"o{uuid.uuid4().hex[:10]}"
    orders = topic("binance", "orders", prefix)
    await ensure_topics(bootstrap, [orders, topic("binance", answers, prefix)], partitions=1)
    proc = subprocess.Popen(
        [sys.executable, "-m", "ttxt_kafka.cli", *args, "--prefix", prefix, "--bootstrap",
         bootstrap], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        [record] = await consume_all(bootstrap, [orders], 1, timeout=60)
    except BaseException:
        proc.kill()
        raise
    return proc, prefix, decode(record.value)  # type: ignore[attr-defined]


async def _start(bootstrap: str, *args: str) -> tuple[subprocess.Popen[str], str, CreateOrder]:
    """`ttxt order buy ...` running, and its command as it is on the orders topic."""
    proc, prefix, command = await _sent(bootstrap, "order", "buy", "binance", "BTC/USDT",
                                        "0.01", "--limit", "100", "--timeout", "120", *args)
    assert isinstance(command, CreateOrder)
    return proc, prefix, command


async def _stop(proc: subprocess.Popen[str], sig: signal.Signals) -> tuple[str, str]:
    try:
        proc.send_signal(sig)
        out, err = await asyncio.to_thread(proc.communicate, timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + sig, (proc.returncode, err)
    assert "Traceback" not in err, err
    return out, err


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
async def test_a_signal_while_waiting_for_the_ack_says_the_command_was_sent(
        kafka_bootstrap: str, sig: signal.Signals) -> None:
    proc, prefix, command = await _start(kafka_bootstrap, "--client-id", "my-1")
    await asyncio.sleep(0.5)  # waiting for the ack now
    _, err = await _stop(proc, sig)
    assert (f"ttxt order: stopped by {sig.name} while waiting for the ack: the command "
            f"{command.command_id} was sent to {prefix}.binance.orders; no ack seen yet."
            ) in err, err
    assert "It can still execute until" in err, err
    assert "ttxt order cancel binance BTC/USDT --client-id my-1 --expires" in err, err


async def test_a_signal_while_following_an_accepted_order_says_where_it_stands(
        kafka_bootstrap: str) -> None:
    proc, prefix, command = await _start(kafka_bootstrap, "--client-id", "my-2",
                                         "--follow", "120")
    ts = now_us()
    head = {"venue": "binance", "symbol": "BTC/USDT", "exchange_ts": ts, "receive_ts": ts}
    async with KafkaQueue(kafka_bootstrap, prefix=prefix) as queue:
        await queue.publish(OrderAck(**head, command_id=command.command_id,
                                     command_type=CommandType.CREATE, client_order_id="my-2",
                                     order_id="42", status=AckStatus.ACCEPTED))
        await queue.publish(OrderUpdate(**head, client_order_id="my-2", order_id="42",
                                        side=Side.BUY, order_type=OrderType.LIMIT,
                                        status=OrderStatus.NEW, price="100", qty="0.01",
                                        filled_qty="0", created_ts=ts))
        await queue.flush()
    assert proc.stdout is not None
    for _ in range(2):  # the ack and the update printed: it follows the order now
        assert await asyncio.wait_for(asyncio.to_thread(proc.stdout.readline), 60)
    _, err = await _stop(proc, signal.SIGTERM)
    assert (f"ttxt order: stopped by SIGTERM: the command {command.command_id} was sent and "
            "acked ACCEPTED; its order my-2 was last seen NEW, filled 0 of 0.01.") in err, err
    assert ("It may still be open: `ttxt orders binance` shows it; `ttxt order cancel binance "
            "BTC/USDT --client-id my-2` cancels it.") in err, err


async def test_orders_sync_stopped_while_waiting_says_the_request_was_sent(
        kafka_bootstrap: str) -> None:
    from ttxt_kafka.connectors.trading.sync_command import AccountSync

    proc, _, request = await _sent(kafka_bootstrap, "orders", "binance", "--sync", "--timeout",
                                   "120", answers="account")
    assert isinstance(request, AccountSync)
    await asyncio.sleep(0.5)  # waiting for the account snapshot now
    _, err = await _stop(proc, signal.SIGINT)
    assert err.strip().endswith(
        f"ttxt orders: stopped by SIGINT: the AccountSync request {request.command_id} was "
        "sent (the connector answers it anyway); nothing shown."), err


async def test_a_record_that_does_not_decode_while_waiting_is_counted_and_said(
        kafka_bootstrap: str) -> None:
    """The ack waited for might be that record (a schema this ttxt does not know): `ttxt order`
    says it skipped one, rather than only that no ack came."""
    from aiokafka import AIOKafkaProducer

    proc, prefix, _ = await _start(kafka_bootstrap, "--timeout", "4")
    executions = topic("binance", "executions", prefix)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(executions, b"\xc3\x01not an ack")
    finally:
        await producer.stop()
    _, err = await asyncio.to_thread(proc.communicate, timeout=60)
    assert proc.returncode == 2, err
    assert (f"ttxt order: 1 record(s) that did not decode were skipped (first: "
            f"{executions}[0]@0: ") in err, err


def test_no_broker_is_a_one_line_error_that_says_nothing_was_sent() -> None:
    """It used to be a traceback (aiokafka's KafkaConnectionError from the watcher's start)
    and an unclosed consumer; now both clients retry up to --timeout, then one line."""
    result = subprocess.run(
        [sys.executable, "-m", "ttxt_kafka.cli", "order", "buy", "binance", "BTC/USDT", "0.01",
         "--timeout", "1", "--bootstrap", "127.0.0.1:1"],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "Unclosed" not in result.stderr, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("ttxt: error: Kafka at 127.0.0.1:1 is not reachable after 1s"), last
    assert last.endswith("Nothing was sent."), last
