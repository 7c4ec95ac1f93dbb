"""`ttxt strategy run` as a user runs it: a subprocess against the real broker, scraped over
HTTP, stopped with SIGTERM."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import uuid

import aiohttp
import pytest

from ttxt_kafka.bus import KafkaQueue
from ttxt_kafka.events import OrderBook, UpdateType, now_us

pytestmark = pytest.mark.kafka

CLI = [sys.executable, "-m", "ttxt_kafka.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as http, http.get(url) as resp:
        return resp.status, await resp.text()


async def test_strategy_run_prints_serves_metrics_and_stops_on_sigterm(
    kafka_bootstrap: str,
) -> None:
    prefix, group, port = f"c{uuid.uuid4().hex[:8]}", f"g{uuid.uuid4().hex[:8]}", free_port()
    proc = await asyncio.create_subprocess_exec(
        *CLI, "strategy", "run", "ttxt_kafka.strategies.examples.spread_monitor:SpreadMonitor",
        "--venue", "sim", "--prefix", prefix, "--group", group, "--from-beginning",
        "--metrics-port", str(port), "--bootstrap", kafka_bootstrap,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = asyncio.get_running_loop().time() + 60
        while True:  # healthy = the group gave it partitions
            try:
                status, body = await get(base + "/health")
                if status == 200:
                    break
            except aiohttp.ClientError:
                pass
            assert proc.returncode is None, (await proc.stderr.read()).decode()  # type: ignore[union-attr]
            assert asyncio.get_running_loop().time() < deadline, "never healthy"
            await asyncio.sleep(0.2)
        report = json.loads(body)
        assert report["status"] == "ok" and report["service"] == f"strategy {group}"

        ts = now_us()
        async with KafkaQueue(kafka_bootstrap, prefix=prefix) as q:
            await q.publish(OrderBook(venue="sim", symbol="BTC/USDT", exchange_ts=ts,
                                      receive_ts=ts, update_type=UpdateType.SNAPSHOT,
                                      bids=[["99.99", "1"]], asks=[["100.01", "2"]]))
        assert proc.stdout is not None
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
        assert line.decode().strip() == "sim BTC/USDT mid 100.00 spread 0.02 (2.00 bps)"

        status, text = await get(base + "/metrics")
        assert status == 200
        assert f'ttxt_strategy_books_ready{{strategy="{group}"}} 1' in text
        assert (f'ttxt_strategy_events_in_total{{strategy="{group}",topic="{prefix}.sim.book"}} 1'
                in text)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        rc = await asyncio.wait_for(proc.wait(), 30)
    assert rc == 0, (await proc.stderr.read()).decode()  # type: ignore[union-attr]


def test_strategy_run_reports_bad_arguments_in_one_line() -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*CLI, "strategy", "run", *args, "--bootstrap", "127.0.0.1:1"],
                              capture_output=True, text=True, timeout=60)

    for args, message in [
        (["nope_module:X"], "cannot import nope_module"),
        (["ttxt_kafka.strategies.examples.market_maker"], "give MODULE:Class"),
        (["ttxt_kafka.strategies.examples.market_maker:MarketMaker", "--param", "size=lots"],
         "size='lots': not a Decimal"),
        (["ttxt_kafka.strategies.examples.market_maker:MarketMaker", "--param", "sise=1"],
         "has no parameter 'sise'"),
    ]:
        result = run(*args)
        assert result.returncode == 2 and message in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
