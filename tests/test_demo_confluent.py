"""`ttxt --serialization confluent demo`, shortened: the whole offline pipeline (connectors with
paper trading, recorder, strategies, the replay and backtest of its files) in the Confluent wire
format against the session's broker and real schema registry — everything on the topics framed
00 + schema id, every check of the demo passing, the market maker's paper orders accepted (its
connector's books existed before a schema id was first awaited)."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer

pytestmark = pytest.mark.kafka


def test_the_demo_in_the_confluent_format(kafka_bootstrap: str, schema_registry_url: str,
                                          tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TTXT_SERIALIZATION")}
    env.update(KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap, PYTHONUNBUFFERED="1",
               TTXT_SCHEMA_REGISTRY_URL=schema_registry_url)
    result = subprocess.run(
        [sys.executable, "-m", "ttxt_kafka.cli", "--serialization", "confluent", "demo",
         "--seconds", "8", "--out", str(tmp_path / "demo-out")],
        capture_output=True, text=True, timeout=240, env=env)
    text = result.stdout
    assert result.returncode == 0, text + result.stderr
    assert "Traceback" not in text + result.stderr
    assert re.search(r"the event catalogue round trip: (\d+)/\1 types back, decoded and equal",
                     text), text
    assert "Books verified: 4/4 equal" in text, text
    placed = re.search(r"Market maker on binance \(paper\): (\d+) orders placed.*; "
                       r"(\d+) accepted, (\d+) rejected", text)
    assert placed and int(placed[1]) > 0 and placed[3] == "0", text
    prefix = re.search(r"under topic prefix (demo-[0-9a-f]{6})", text)
    assert prefix, text

    async def first_bytes() -> set[bytes]:
        consumer = AIOKafkaConsumer(f"{prefix[1]}.binance.book", f"{prefix[1]}.binance.orders",
                                    bootstrap_servers=kafka_bootstrap,
                                    auto_offset_reset="earliest")
        await consumer.start()
        try:
            batch = await consumer.getmany(timeout_ms=10_000)
        finally:
            await consumer.stop()
        return {r.value[:1] for rs in batch.values() for r in rs if r.value}

    assert asyncio.run(first_bytes()) == {b"\x00"}
