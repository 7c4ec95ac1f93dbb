"""`ttxt run PIPELINE.yaml` as a user runs it: validation errors that name the key; an offline
pipeline (simulator, connector, recorder, strategy) as a subprocess, its services' /metrics and
/health scraped, `ttxt top --once` beside it, then a clean SIGTERM (files hold every book record,
offsets committed); the same pipeline with one process per service."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from ttxt_kafka.admin import cluster_metadata, record_counts
from ttxt_kafka.pipeline.config import PipelineError, load_pipeline, parse_pipeline

ROOT = Path(__file__).resolve().parent.parent
TTXT = [sys.executable, "-m", "ttxt_kafka.cli"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def env_for(bootstrap: str | None = None) -> dict[str, str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    if bootstrap:
        env["KAFKA_BOOTSTRAP_SERVERS"] = bootstrap
    return env


# --------------------------------------------------------------------------- validation


def errors_of(data: Any) -> str:
    with pytest.raises(PipelineError) as info:
        parse_pipeline(data, "p.yaml")
    return str(info.value)


CONNECTOR = {"venue": "binance", "symbols": ["BTC/USDT"], "streams": {"book": True}}


def test_errors_name_the_bad_key() -> None:
    # The connector entries are the connector config's schema: its checks, its key paths.
    msg = errors_of({"connectors": [{**CONNECTOR, "streams": {"book": True, "tardes": True}}]})
    assert "connectors[0].streams.tardes: unknown key" in msg
    msg = errors_of({"connectors": [{**CONNECTOR, "streams": {"book": {"depth": 7}}}]})
    assert "connectors[0]" in msg and "depth 7 is not offered by binance" in msg
    msg = errors_of({"connectors": [{"config": "x.yaml", "metrix_port": 1}]})
    assert "connectors[0].metrix_port: unknown key" in msg
    msg = errors_of({"strategies": [{"clas": "a.b:C"}]})
    assert "strategies[0].class: required key is missing" in msg
    assert "strategies[0].clas: unknown key" in msg
    assert "strategies[0].class: 'nocolon': give MODULE:Class" in errors_of(
        {"strategies": [{"class": "nocolon"}]})
    assert "recorder.rotate: bad rotation '1x'" in errors_of({"recorder": {"out": "d",
                                                                          "rotate": "1x"}})
    assert "recorder.codec: unknown codec 'lzma'" in errors_of({"recorder": {"out": "d",
                                                                            "codec": "lzma"}})
    assert "connectors[0].simulator: no simulator named 'sim'" in errors_of(
        {"connectors": [{**CONNECTOR, "simulator": "sim"}]})
    assert "sim-bybit_spot plays bybit_spot, not binance" in errors_of(
        {"simulators": [{"venue": "bybit_spot"}],
         "connectors": [{**CONNECTOR, "simulator": "sim-bybit_spot"}]})
    assert "service name(s) used twice: ['binance']" in errors_of(
        {"connectors": [CONNECTOR, {**CONNECTOR, "venue": "binance_usdm", "name": "binance"}]})
    assert "metrics_port used by several services: ['9100 (binance, recorder)']" in errors_of(
        {"connectors": [{**CONNECTOR, "metrics_port": 9100}],
         "recorder": {"out": "d", "metrics_port": 9100}})
    assert "kafka.topics.partitions: Input should be greater than or equal to 1" in errors_of(
        {"kafka": {"topics": {"partitions": 0}}, "recorder": {"out": "d"}})
    assert "nothing to run" in errors_of({"name": "empty"})
    assert "recorder.out: environment variable TTXT_TEST_UNSET is not set" in errors_of(
        {"recorder": {"out": "${TTXT_TEST_UNSET}"}})


def test_environment_variables_and_file_references(tmp_path: Path) -> None:
    (tmp_path / "conn.yaml").write_text(
        "connectors:\n  - {venue: bybit_spot, symbols: [BTC/USDT], streams: {trades: true}}\n")
    (tmp_path / "p.yaml").write_text(
        "metrics_host: ${HOST_X:-0.0.0.0}\n"
        "connectors:\n  - config: conn.yaml\n    metrics_port: ${PORT_X}\n"
        "strategies:\n  - class: strategies.examples.market_maker:MarketMaker\n"
        "    params: {size: 0.001, spread_bps: 8}\n")
    p = load_pipeline(tmp_path / "p.yaml", env={"PORT_X": "9123"})
    assert p.metrics_host == "0.0.0.0" and p.metrics_ports() == {"conn": 9123,
                                                                   "market_maker": None}
    assert p.connector_file("conn").connectors[0].venue == "bybit_spot"
    from ttxt_kafka.pipeline.config import strategy_params

    # YAML floats reach a Decimal parameter as their text: exact.
    assert strategy_params(p.strategies[0].params) == {"size": "0.001", "spread_bps": "8"}
    (tmp_path / "other.yaml").write_text("topic_prefix: other\n" + (tmp_path / "conn.yaml")
                                         .read_text())
    (tmp_path / "q.yaml").write_text("connectors:\n  - {config: other.yaml}\n")
    with pytest.raises(PipelineError, match="writes topic prefix 'other', the pipeline 'ttxt'"):
        load_pipeline(tmp_path / "q.yaml")


def test_cli_check_and_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("connectors:\n  - venue: binance\n    symbols: [BTCUSDT]\n"
                   "    streams: {book: true, tardes: true}\n")
    result = subprocess.run([*TTXT, "run", str(bad)], capture_output=True, text=True,
                            timeout=60, env=env_for())
    assert result.returncode == 2
    assert "connectors[0].streams.tardes: unknown key" in result.stderr
    for name in ("pipeline_offline.yaml", "pipeline_live.yaml"):
        check = subprocess.run([*TTXT, "run", str(ROOT / "examples" / name), "--check"],
                               capture_output=True, text=True, timeout=60, env=env_for())
        assert check.returncode == 0, check.stderr
        assert "connector  binance  metrics :9101" in check.stdout
        assert "recorder   recorder  metrics :9103" in check.stdout
    unknown = subprocess.run([*TTXT, "run", str(ROOT / "examples" / "pipeline_live.yaml"),
                              "--service", "nope"], capture_output=True, text=True, timeout=60,
                             env=env_for())
    assert unknown.returncode == 2 and "no service named nope" in unknown.stderr


# --------------------------------------------------------------------------- running


def write_pipeline(tmp_path: Path, prefix: str, ports: dict[str, int]) -> Path:
    path = tmp_path / "pipeline.yaml"
    path.write_text(f"""
name: test
topic_prefix: {prefix}
simulators:
  - {{venue: binance, symbols: [BTCUSDT, ETHUSDT], rate: 50, port: {ports['sim']}}}
connectors:
  - venue: binance
    symbols: [BTC/USDT, ETH/USDT]
    streams: {{book: true, trades: true}}
    simulator: sim-binance
    metrics_port: {ports['binance']}
recorder:
  out: {tmp_path / 'data'}
  group: {prefix}-recorder
  max_delay: 0.2
  metrics_port: {ports['recorder']}
strategies:
  - class: strategies.examples.spread_monitor:SpreadMonitor
    name: monitor
    group: {prefix}-monitor
    metrics_port: {ports['monitor']}
""")
    return path


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def metric(text: str, name: str, **labels: str) -> float:
    """Sum of a metric's samples whose labels include `labels`."""
    total, found = 0.0, False
    for line in text.splitlines():
        m = re.match(rf"^{name}(\{{[^}}]*\}})? (\S+)$", line)
        if m and all(f'{k}="{v}"' in (m.group(1) or "") for k, v in labels.items()):
            total += float(m.group(2))
            found = True
    assert found, f"{name}{labels} not in the metrics"
    return total


def wait_healthy(url: str, proc: subprocess.Popen[str], timeout: float = 40) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        assert proc.poll() is None, proc.communicate()[1]
        try:
            status, body = get(f"{url}/health")
            if status == 200:
                return dict(json.loads(body))
        except OSError:
            pass
        assert time.monotonic() < deadline, f"{url} not healthy"
        time.sleep(0.2)


def stop(proc: subprocess.Popen[str], timeout: float = 60) -> tuple[int, str]:
    proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, err


async def committed(bootstrap: str, group: str) -> dict[TopicPartition, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return {tp: o.offset for tp, o in (await admin.list_consumer_group_offsets(group)).items()}
    finally:
        await admin.close()


async def end_offsets(bootstrap: str, topics: list[str]) -> dict[TopicPartition, int]:
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        metadata = await cluster_metadata(consumer)
        tps = [TopicPartition(t, p) for t in topics
               for p in metadata.partitions_for_topic(t) or ()]
        return dict(await consumer.end_offsets(tps))
    finally:
        await consumer.stop()


@pytest.mark.kafka
def test_offline_pipeline_metrics_top_and_clean_sigterm(kafka_bootstrap: str,
                                                        tmp_path: Path) -> None:
    prefix = f"pl{uuid.uuid4().hex[:8]}"
    ports = {k: free_port() for k in ("sim", "binance", "recorder", "monitor")}
    path = write_pipeline(tmp_path, prefix, ports)
    proc = subprocess.Popen([*TTXT, "run", str(path)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env_for(kafka_bootstrap))
    try:
        url = {k: f"http://127.0.0.1:{p}" for k, p in ports.items()}
        health = wait_healthy(url["binance"], proc)
        assert health["service"] == "connector binance"
        assert "2/2 books synced" in health["checks"]["connectors"]["detail"]
        wait_healthy(url["recorder"], proc)
        wait_healthy(url["monitor"], proc)
        # Each service's own metrics, on its own port, moving.
        deadline = time.monotonic() + 30
        while True:
            texts = {k: get(f"{url[k]}/metrics")[1] for k in ("binance", "recorder", "monitor")}
            try:
                assert metric(texts["binance"], "ttxt_events_out_total",
                              topic=f"{prefix}.binance.book") > 0
                assert metric(texts["recorder"], "ttxt_recorder_records_written_total") > 0
                assert metric(texts["recorder"], "ttxt_recorder_checkpoint_ms_count") > 0
                assert metric(texts["monitor"], "ttxt_strategy_events_in_total",
                              topic=f"{prefix}.binance.book") > 0
                break
            except AssertionError:
                assert time.monotonic() < deadline, texts
                time.sleep(0.3)
        b, r, m = texts["binance"], texts["recorder"], texts["monitor"]
        assert metric(b, "ttxt_connector_frames_total", venue="binance") > 0
        assert metric(b, "ttxt_connector_books_synced", venue="binance") == 2
        assert metric(b, "ttxt_connector_book_resyncs_total", venue="binance") == 0
        assert metric(b, "ttxt_connector_malformed_total", venue="binance") == 0
        assert metric(b, "ttxt_publish_latency_ms_count") > 0
        assert metric(b, "ttxt_exchange_latency_ms_count", venue="binance") > 0
        assert "ttxt_recorder" not in b and "ttxt_connector" not in r  # one service per port
        assert metric(r, "ttxt_recorder_records_in_total", topic=f"{prefix}.binance.book") > 0
        metric(r, "ttxt_recorder_consumer_lag", topic=f"{prefix}.binance.book")
        assert metric(r, "ttxt_recorder_checkpoint_ms_count") > 0
        assert metric(m, "ttxt_strategy_books_ready") == 2
        # ttxt top beside it: topics, the groups, the books, the services' health.
        top = subprocess.run([*TTXT, "top", "--pipeline", str(path), "--once",
                              "--interval", "0.5"], capture_output=True, text=True, timeout=60,
                             env=env_for(kafka_bootstrap))
        assert top.returncode == 0, top.stderr
        out = top.stdout
        assert re.search(rf"{prefix}\.binance\.book\s+[\d,]+\s+[\d,.]+", out), out
        assert f"{prefix}-recorder" in out and f"{prefix}-monitor" in out
        assert re.search(r"binance BTC/USDT\s+\S+\s+\d+(\.\d+)?\s+\d+(\.\d+)?", out), out
        assert re.search(r"recorder\s+ok\s+", out) and re.search(r"binance\s+ok\s+", out), out
        assert "\x1b[" not in out  # --once: plain text
    finally:
        code, err = stop(proc)
    assert code == 0, err
    assert "Traceback" not in err
    for service in ("strategy monitor", "connector binance", "recorder recorder",
                    "simulator sim-binance"):
        assert f"stopped {service}" in err
    assert err.index("stopped strategy monitor") < err.index("stopped connector binance") \
        < err.index("stopped recorder recorder") < err.index("stopped simulator sim-binance")
    # It ends with what each service did.
    summary = err[err.index("ttxt run: summary"):]
    assert re.search(r"strategy monitor\s+[\d,]+ events, [\d,]+ handled, 0 commands sent, "
                     r"0 handler errors", summary), summary
    assert re.search(r"connector binance\s+binance: [\d,]+ frames, [\d,]+ events, 0 gaps",
                     summary), summary
    assert re.search(r"recorder recorder\s+[\d,]+ records read", summary), summary
    # The recorder drained the topics before stopping: every book record is in the files, and
    # its offsets are committed up to the ends.
    book_topic = f"{prefix}.binance.book"
    counts = asyncio.run(record_counts(kafka_bootstrap, [book_topic]))
    from ttxt_kafka.replayer import FileSource, Selection

    recorded = sum(1 for _ in FileSource(tmp_path / "data", Selection.of(channels=["book"])))
    assert recorded == counts[book_topic] > 0
    ends = asyncio.run(end_offsets(kafka_bootstrap, [book_topic]))
    done = asyncio.run(committed(kafka_bootstrap, f"{prefix}-recorder"))
    nonempty = {tp: end for tp, end in ends.items() if end}
    assert nonempty and {tp: done.get(tp) for tp in nonempty} == nonempty


@pytest.mark.kafka
def test_one_process_per_service(kafka_bootstrap: str, tmp_path: Path) -> None:
    prefix = f"pp{uuid.uuid4().hex[:8]}"
    ports = {k: free_port() for k in ("sim", "binance", "recorder", "monitor")}
    path = write_pipeline(tmp_path, prefix, {**ports, "sim": 0})  # the supervisor picks one
    proc = subprocess.Popen([*TTXT, "run", str(path), "--processes"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env_for(kafka_bootstrap))
    try:
        wait_healthy(f"http://127.0.0.1:{ports['binance']}", proc)
        wait_healthy(f"http://127.0.0.1:{ports['monitor']}", proc)
        # The recorder, in its own process, records while the connector (in another) runs.
        deadline = time.monotonic() + 20
        while True:
            _, text = get(f"http://127.0.0.1:{ports['recorder']}/metrics")
            if metric(text, "ttxt_recorder_records_written_total") > 0:
                break
            assert time.monotonic() < deadline, text
            time.sleep(0.3)
        children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True,
                                  text=True).stdout.split()
        assert len(children) == 4  # simulator, connector, recorder, strategy
    finally:
        code, err = stop(proc)
    assert code == 0, err
    assert "Traceback" not in err
    assert "[binance]" in err and "[recorder]" in err  # each child's lines name it
    assert "stopped recorder recorder" in err
    assert not [pid for pid in children if Path(f"/proc/{pid}").exists()]
