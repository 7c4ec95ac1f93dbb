"""Exactly once across crashes: `ttxt connect` (a real subprocess) is SIGKILLed between the
exchange accepting an order and the ack being published, then between the ack being flushed and
the command's offset being committed. After each restart exactly one order exists on the
simulator and its ack is on the executions topic exactly once.

The kill is deterministic: `TTXT_TEST_CRASH_AT=after_send|after_ack` makes the connector
SIGKILL itself at that exact step (`connectors/trading/crash.py`)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest
import yaml
from trading_support import (
    QUOTE_SIZED_MARKET_BUYS,
    Collector,
    connector_config,
    create,
    env_for,
    new_prefix,
    simulator,
)

from ttxt_kafka import venues
from ttxt_kafka.admin import ensure_topics
from ttxt_kafka.bus import KafkaQueue
from ttxt_kafka.connectors.config import parse_config
from ttxt_kafka.connectors.runner import topics_of
from ttxt_kafka.events import AckStatus, OrderAck, Side
from ttxt_kafka.orders.client_ids import client_order_id_for
from ttxt_kafka.topics import topic

pytestmark = pytest.mark.kafka

READY = "trading live, orders from"


class Connect:
    """`ttxt connect CONFIG` as a subprocess; its stderr kept line by line."""

    def __init__(self, config: Path, crash_at: str | None, venue: str) -> None:
        self.config = config
        self.env = {**os.environ, **env_for(venue), "PYTHONUNBUFFERED": "1"}
        self.env.pop("TTXT_TEST_CRASH_AT", None)
        if crash_at:
            self.env["TTXT_TEST_CRASH_AT"] = crash_at
        self.lines: list[str] = []
        self.proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None

    async def start(self, timeout: float = 30.0) -> Connect:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "ttxt_kafka.cli", "connect", str(self.config),
            "--stats-interval", "0", env=self.env, stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE)
        self._reader = asyncio.ensure_future(self._read())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not any(READY in line for line in self.lines):
            if self.proc.returncode is not None or loop.time() > deadline:
                raise AssertionError("ttxt connect did not start trading:\n" + self.log)
            await asyncio.sleep(0.05)
        return self

    async def _read(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        async for line in self.proc.stderr:
            self.lines.append(line.decode(errors="replace").rstrip())

    @property
    def log(self) -> str:
        return "\n".join(self.lines)

    async def wait(self, timeout: float = 30.0) -> int:
        assert self.proc is not None
        code = await asyncio.wait_for(self.proc.wait(), timeout)
        if self._reader is not None:
            await asyncio.wait_for(self._reader, 5)
        return code

    async def terminate(self) -> int:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        return await self.wait()


@pytest.mark.parametrize("venue", ["binance", "bitget_spot", "bitget_usdtm", "gateio_spot",
                                   "mexc_spot", "kucoin_spot", "coinbase_spot",
                                   "okx_spot", "okx_swap", "kraken_spot"])
async def test_sigkill_between_send_and_ack_then_between_ack_and_commit(
        kafka_bootstrap: str, tmp_path: Path, venue: str) -> None:
    sim = simulator(venue)
    await sim.start()
    prefix = new_prefix()
    data = connector_config(venue, sim, prefix, instance_id=f"{prefix}-connect")
    data["kafka"] = {"bootstrap_servers": kafka_bootstrap}
    config_path = tmp_path / "connect.yaml"
    config_path.write_text(yaml.safe_dump(data))
    await ensure_topics(kafka_bootstrap, topics_of(parse_config(data)))
    collector = await Collector(kafka_bootstrap, [topic(venue, "executions", prefix)]).start()
    queue = await KafkaQueue(kafka_bootstrap, prefix=prefix).start()
    procs: list[Connect] = []
    try:
        # 1. killed right after the exchange accepted the order, before its ack
        first = await Connect(config_path, "after_send", venue).start()
        procs.append(first)
        # no client order id: derived from the command id (in the venue's rule: Gate.io's has
        # a prefix). (Bitget and Gate.io size a spot market buy in the quote currency, which
        # the connector refuses: a market sell there.)
        side = Side.SELL if venue in QUOTE_SIZED_MARKET_BUYS else Side.BUY
        command = create(venue, side, qty="0.03")
        cid = client_order_id_for(command.command_id, exchange=venues.venue(venue).exchange)
        pair = next(i.native_symbol for i in sim.exchange.instruments.values()
                    if i.symbol == "BTC/USDT")
        await queue.publish(command)
        await queue.flush()
        assert await first.wait() == -signal.SIGKILL, first.log
        assert [o.client_order_id for o in sim.exchange.engine.open_orders(sim.exchange.account)
                ] == [] and sim.exchange.order(pair, client_order_id=cid) is not None
        assert len(sim.exchange.engine._orders) == 1  # noqa: SLF001
        await asyncio.sleep(0.5)
        assert not [a for a in collector.of(OrderAck) if a.command_id == command.command_id]

        # 2. restarted: finds the order by client order id, acks it (not sent again); killed
        #    after that ack is flushed, before the offset is committed
        second = await Connect(config_path, "after_ack", venue).start()
        procs.append(second)
        ack = await collector.ack(command.command_id)
        assert await second.wait() == -signal.SIGKILL, second.log
        placed = sim.exchange.order(pair, client_order_id=cid)
        assert placed is not None
        assert (ack.status, ack.client_order_id, ack.order_id) == (
            AckStatus.ACCEPTED, cid, str(placed.order_id)), ack
        assert "already placed" in ack.reason

        # 3. restarted again: the command comes back once more; its ack is on the topic: skipped
        third = await Connect(config_path, None, venue).start()
        procs.append(third)
        fresh = create(venue, side, qty="0.01")
        await queue.publish(fresh)
        await queue.flush()
        fresh_ack = await collector.ack(fresh.command_id)
        assert fresh_ack.status is AckStatus.ACCEPTED
        await asyncio.sleep(0.5)
        assert await third.terminate() == 0, third.log
        assert "was acked before a restart: skipped" in third.log
    finally:
        for proc in procs:
            if proc.proc is not None and proc.proc.returncode is None:
                proc.proc.kill()
                await proc.wait()
        await queue.stop()
        await collector.stop()
        await sim.stop()

    acks = [a for a in collector.of(OrderAck) if a.command_id == command.command_id]
    orders = [o for o in sim.exchange.engine._orders.values()  # noqa: SLF001
              if o.client_order_id == cid]
    print(f"\nSIGKILL test: {len(orders)} order(s) on the simulator and {len(acks)} ack(s) on "
          f"the topic for the command killed twice; {len(sim.exchange.engine._orders)} "  # noqa: SLF001
          "orders in all")
    assert len(orders) == 1 and len(acks) == 1
    assert len(sim.exchange.engine._orders) == 2  # noqa: SLF001 - the killed one, the fresh one
    assert len({a.command_id for a in collector.of(OrderAck)}) == len(collector.of(OrderAck))
