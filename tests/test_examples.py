"""The README's Python example (`examples/mid_printer.py`, the same code) as a user runs it:
it finds the broker like the CLI does (no hard-coded port) and, run a second time (a late
joiner whose group is at the end of the topic), prints its first book within seconds: it
starts from the latest snapshot on the topic instead of waiting for the next one."""

from __future__ import annotations

import asyncio
import os
import queue
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from ttxt_kafka.admin import ensure_topics
from ttxt_kafka.bus import KafkaQueue
from ttxt_kafka.events import OrderBook, UpdateType, now_us
from ttxt_kafka.topics import topic

pytestmark = pytest.mark.kafka

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "mid_printer.py"


def test_the_readme_shows_the_example_file_as_it_is() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert f"```python\n{EXAMPLE.read_text(encoding='utf-8')}```" in readme
    assert "127.0.0.1:9092\"" not in EXAMPLE.read_text(encoding="utf-8")


def _book(symbol: str, kind: UpdateType, bid: str, ask: str) -> OrderBook:
    ts = now_us()
    return OrderBook(venue="binance", symbol=symbol, exchange_ts=ts, receive_ts=ts,
                     update_type=kind, bids=[(bid, "1")], asks=[(ask, "2")])  # type: ignore[list-item]


def _first_line(symbol: str, env: dict[str, str], timeout: float) -> tuple[str, float]:
    """Run the example until it prints a line for `symbol`; (the line, seconds it took)."""
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, str(EXAMPLE)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)

    threading.Thread(target=read, daemon=True).start()
    try:
        while (left := timeout - (time.monotonic() - started)) > 0:
            try:
                line = lines.get(timeout=left)
            except queue.Empty:
                break
            if line.startswith(symbol + " "):
                return line.strip(), time.monotonic() - started
        raise AssertionError(f"no line for {symbol} within {timeout}s")
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


async def test_mid_printer_finds_the_broker_and_a_late_joiner_starts_from_the_snapshot(
        kafka_bootstrap: str) -> None:
    symbol = f"T{uuid.uuid4().hex[:6].upper()}/USDT"
    book_topic = topic("binance", "book")
    await ensure_topics(kafka_bootstrap, [book_topic])
    async with KafkaQueue(kafka_bootstrap) as out:
        await out.publish(_book(symbol, UpdateType.SNAPSHOT, "100.5", "101.5"))
        for i in range(20):
            await out.publish(_book(symbol, UpdateType.DELTA, f"100.{6 + i % 3}", "101.5"))
        await out.flush()
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "PYTHONUNBUFFERED": "1"}
    # Twice: the second run's group "mids" is committed at the end of the topic, past the
    # only snapshot (no connector publishes another one here): it must still print at once.
    for _ in range(2):
        line, took = await asyncio.to_thread(_first_line, symbol, env, 30.0)
        assert line.split()[1:3] == ["100.5", "101.5"], line  # the snapshot's best bid / ask
        assert took < 20, took
