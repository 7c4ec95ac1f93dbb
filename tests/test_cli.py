"""`ttxt tail` and `ttxt topics` as a user runs them (subprocess, real broker); the demo is in
test_demo.py."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import uuid

import pytest
from aiokafka import AIOKafkaProducer
from samples import all_samples

from ttxt_kafka.admin import ensure_topics
from ttxt_kafka.codec import encode
from ttxt_kafka.render import event_to_dict

pytestmark = pytest.mark.kafka


def ttxt(*args: str, env: dict[str, str] | None = None, timeout: float = 120
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ttxt_kafka.cli", *args], capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})


async def test_tail_prints_decoded_json_lines_and_reports_garbage(kafka_bootstrap: str) -> None:
    topic = f"cli{uuid.uuid4().hex[:8]}.binance.mixed"
    await ensure_topics(kafka_bootstrap, [topic], partitions=1)
    events = all_samples()
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        for i, event in enumerate(events):
            await producer.send_and_wait(topic, encode(event))
            if i == 3:
                await producer.send_and_wait(topic, b"\x00garbage")
    finally:
        await producer.stop()

    result = ttxt("tail", topic, "--bootstrap", kafka_bootstrap, "--from-beginning",
                  "--until-end")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines == [event_to_dict(e) for e in events]
    assert lines[0]["type"] == "OrderBook" and lines[0]["bids"][0] == ["60000.10000000",
                                                                      "1.50000000"]
    assert f"{topic}[0]@4" in result.stderr and "1 undecodable record(s) skipped" in result.stderr

    limited = ttxt("tail", topic, "--bootstrap", kafka_bootstrap, "--from-beginning",
                   "--max", "2")
    assert len(limited.stdout.splitlines()) == 2

    topics = ttxt("topics", "--bootstrap", kafka_bootstrap, "--pattern", topic)
    assert topics.returncode == 0
    name, count = topics.stdout.split()
    assert name == topic and int(count) == len(events) + 1


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
async def test_tail_following_a_busy_topic_stops_cleanly_on_a_signal(
        kafka_bootstrap: str, sig: signal.Signals) -> None:
    """Ctrl-C or SIGTERM while records flow: the consumer is closed, no traceback (asyncio's own
    Ctrl-C could cancel a request mid-answer inside aiokafka), the shell's code for the signal
    (SIGTERM used to end the process at once: returncode -15, the consumer never closed)."""
    topic = f"cli{uuid.uuid4().hex[:8]}.binance.trades"
    await ensure_topics(kafka_bootstrap, [topic], partitions=3)
    event = encode(all_samples()[0])
    proc = subprocess.Popen([sys.executable, "-m", "ttxt_kafka.cli", "tail", topic,
                             "--bootstrap", kafka_bootstrap], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, linger_ms=5)
    await producer.start()
    try:
        assert proc.stdout is not None
        first = asyncio.create_task(asyncio.to_thread(proc.stdout.readline))
        while not first.done():  # records keep flowing until tail has printed one
            await producer.send(topic, event, partition=int(len(event)) % 3)
            await asyncio.sleep(0.01)
        assert first.result(), "tail printed nothing"
        for _ in range(50):  # and while the signal arrives
            await producer.send(topic, event)
        proc.send_signal(sig)
        out, err = await asyncio.to_thread(proc.communicate, timeout=60)
    finally:
        await producer.stop()
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + sig, (proc.returncode, err)
    assert "Traceback" not in err and "Error" not in err, err


def test_tail_of_a_missing_topic_is_a_one_line_error(kafka_bootstrap: str) -> None:
    result = ttxt("tail", "no.such.topic", "--bootstrap", kafka_bootstrap, "--until-end")
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"ttxt: error: topic 'no.such.topic' does not exist on {kafka_bootstrap}")


def test_topics_with_a_pattern_that_matches_nothing_says_so(kafka_bootstrap: str) -> None:
    result = ttxt("topics", "--bootstrap", kafka_bootstrap, "--pattern", "no\\.such\\..*")
    assert result.returncode == 0
    assert result.stdout.strip() == (
        f"no topic matches 'no\\.such\\..*' on {kafka_bootstrap} (`ttxt topics` lists "
        "them all)")


@pytest.mark.parametrize("command", [["tail", "x.binance.book"], ["topics"]])
def test_no_broker_is_a_one_line_error(command: list[str]) -> None:
    """aiokafka's KafkaConnectionError out of a client's start used to be a traceback, the
    consumer unclosed."""
    result = ttxt(*command, "--bootstrap", "127.0.0.1:1", timeout=60)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "Unclosed" not in result.stderr, result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(
        "ttxt: error: Kafka is not reachable (KafkaConnectionError: Unable to bootstrap from "
        "[('127.0.0.1', 1"), result.stderr
