"""The README's Schema Registry block, run as written (one bash script) against the session's
broker and registry: `ttxt registry start` prints the registry TTXT_SCHEMA_REGISTRY_URL names
(as `ttxt kafka start` does with KAFKA_BOOTSTRAP_SERVERS), the offline pipeline runs in the
confluent setting, `ttxt tail` decodes its records, the subjects are the topics' and `stop`
leaves that registry alone."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer

from ttxt_kafka.codec import Codec
from ttxt_kafka.confluent import ConfluentFraming, SchemaRegistryClient
from ttxt_kafka.replayer.api import replay_events
from ttxt_kafka.replayer.files import FileSource
from ttxt_kafka.replayer.sinks import Decoder

pytestmark = pytest.mark.kafka

REPO = Path(__file__).resolve().parents[1]


def registry_block() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    return next(b for b in re.findall(r"^```bash\n(.*?)^```", text, re.M | re.S)
                if "ttxt registry start" in b)


async def test_the_readme_registry_block_runs_as_written(kafka_bootstrap: str,
                                                         schema_registry_url: str,
                                                         tmp_path: Path) -> None:
    (tmp_path / "examples").symlink_to(REPO / "examples")  # the recorder writes data/ here
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
           "TTXT_SCHEMA_REGISTRY_URL": schema_registry_url, "PYTHONUNBUFFERED": "1",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", registry_block()], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, f"{done.stdout}\n{done.stderr}"
    lines = done.stdout.splitlines()
    assert sum(line.startswith("{\"type\":\"Trades\"") for line in lines) == 3
    assert '"ttxt.binance.trades-value"' in done.stdout
    assert "no local registry to stop" in done.stdout

    subjects = SchemaRegistryClient(schema_registry_url).subjects()
    assert {"ttxt.binance.book-value", "ttxt.binance.trades-value",
            "ttxt.bybit_spot.book-value"} <= set(subjects)
    # what the run wrote is Confluent-framed (the topic may hold older single-object records)
    consumer = AIOKafkaConsumer("ttxt.binance.trades", bootstrap_servers=kafka_bootstrap,
                                auto_offset_reset="earliest")
    await consumer.start()
    try:
        batch = await consumer.getmany(timeout_ms=10_000, max_records=100_000)
    finally:
        await consumer.stop()
    first_bytes = {r.value[:1] for rs in batch.values() for r in rs if r.value}
    assert b"\x00" in first_bytes
    # the recorder of the run stored them as they were on the topic (typed: its peek read the
    # ids), and a replay of its files decodes every one through the registry
    assert list((tmp_path / "data" / "offline").rglob("*.avro"))
    codec = Codec(confluent=ConfluentFraming(SchemaRegistryClient(schema_registry_url)))
    decoder = Decoder(codec)
    kinds = Counter()
    async for event in replay_events(tmp_path / "data" / "offline", decoder=decoder):
        kinds[event.SCHEMA] += 1
    assert decoder.undecodable == 0
    assert kinds["Trades"] > 0 and kinds["OrderBook"] > 0, kinds
    source = FileSource(tmp_path / "data" / "offline")
    await source.open()
    try:
        stored = [r async for r in source.records()]
    finally:
        await source.close()
    framed = [r for r in stored if (r["value"] or b"")[:1] == b"\x00"]
    assert framed and all(r["type"] for r in framed)  # typed by the recorder's peek
