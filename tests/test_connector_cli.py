"""`ttxt simulate` + `ttxt connect` + `ttxt tail` as a user runs them (subprocesses, real
broker): a live book stream from the synthetic market; clean shutdown on SIGTERM; config errors
that name the bad key."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.kafka

TTXT = [sys.executable, "-m", "ttxt_kafka.cli"]
ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}


def ttxt(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*TTXT, *args], capture_output=True, text=True, timeout=timeout,
                          env=ENV)


def start_simulator(*args: str) -> tuple[subprocess.Popen[str], str, str]:
    proc = subprocess.Popen([*TTXT, "simulate", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=ENV)
    urls: dict[str, str] = {}
    deadline = time.monotonic() + 30
    assert proc.stdout is not None
    while "REST" not in urls and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        word, _, rest = line.partition(" ")
        urls[word] = rest.split()[0] if rest.split() else ""
    if "REST" not in urls:
        proc.kill()
        pytest.fail(f"ttxt simulate printed no URLs; stderr: {proc.communicate()[1]}")
    return proc, urls["WS"], urls["REST"]


def stop(proc: subprocess.Popen[str], timeout: float = 20) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout)
    finally:
        if proc.poll() is None:
            proc.kill()


def test_live_book_stream_from_the_synthetic_market(kafka_bootstrap: str,
                                                    tmp_path: Path) -> None:
    prefix = f"cli{uuid.uuid4().hex[:8]}"
    sim, ws, rest = start_simulator("--venue", "binance", "--synthetic", "--rate", "50")
    connect = None
    try:
        config = tmp_path / "connect.yaml"
        config.write_text(
            f"topic_prefix: {prefix}\n"
            f"kafka: {{bootstrap_servers: '{kafka_bootstrap}'}}\n"
            "connectors:\n"
            "  - venue: binance\n"
            "    symbols: [BTC/USDT, ETHUSDT]\n"
            "    streams: {book: true, trades: true, klines: {intervals: [1m]}, bbo: true}\n"
            f"    endpoints: {{ws: '{ws}', rest: '{rest}'}}\n"
        )
        connect = subprocess.Popen([*TTXT, "connect", str(config)], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True, env=ENV)
        # `connect` creates the topics before the first event; tail waits for new records.
        deadline = time.monotonic() + 30
        while ttxt("topics", "--bootstrap", kafka_bootstrap, "--pattern",
                   f"^{prefix}\\.binance\\.book$").stdout.strip() == "":
            assert time.monotonic() < deadline, "ttxt connect created no topics"
            assert connect.poll() is None, connect.communicate()[1]
            time.sleep(0.2)
        tail = ttxt("tail", f"{prefix}.binance.book", "--bootstrap", kafka_bootstrap,
                    "--from-beginning", "--max", "20")
        assert tail.returncode == 0, tail.stderr
        lines = [json.loads(line) for line in tail.stdout.splitlines()]
        assert len(lines) == 20 and {x["type"] for x in lines} == {"OrderBook"}
        assert {x["symbol"] for x in lines} <= {"BTC/USDT", "ETH/USDT"}
        assert lines[0]["update_type"] == "SNAPSHOT"  # each symbol's book starts at a snapshot
        assert all(isinstance(p, str) and isinstance(q, str)
                   for x in lines for p, q in x["bids"] + x["asks"])
        connect.send_signal(signal.SIGINT)  # Ctrl-C: a clean stop, then the final counters
        assert connect.wait(20) == 0
        err = connect.communicate()[1]
        assert "DISCONNECTED" in err and "Traceback" not in err
        final = re.search(r"^ttxt connect: binance: ([\d,]+) frames, ([\d,]+) events, 0 gaps",
                          err, re.M)
        assert final and int(final[2].replace(",", "")) >= 20, err
    finally:
        if connect is not None and connect.poll() is None:
            connect.kill()
        stop(sim)
    status = ttxt("tail", f"{prefix}.binance.status", "--bootstrap", kafka_bootstrap,
                  "--from-beginning", "--until-end")
    lines = [json.loads(line) for line in status.stdout.splitlines()]
    # connection events share one key (the venue), so one partition: their order holds
    assert [x["status"] for x in lines if not x["symbol"]] == ["CONNECTED", "DISCONNECTED"]
    assert sorted(x["symbol"] for x in lines if x["status"] == "BOOK_SYNCED") == [
        "BTC/USDT", "ETH/USDT"]


def test_config_errors_name_the_bad_key(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("connectors:\n  - venue: binance\n    symbols: [BTCUSDT]\n"
                   "    streams: {book: {depth: 7}, tardes: true}\n")
    result = ttxt("connect", str(bad))
    assert result.returncode == 2
    assert "connectors[0].streams.tardes: unknown key" in result.stderr
    assert result.stdout == ""
    good = Path(__file__).resolve().parent.parent / "examples" / "bybit.yaml"
    check = ttxt("connect", str(good), "--check")
    assert check.returncode == 0, check.stderr
    assert "bybit_linear: BTC/USDT, ETH/USDT [book, trades, bbo]" in check.stdout
