"""`ttxt demo` shortened, as `make demo` runs it (subprocess, the session's broker): the pipeline
runs, stops cleanly, and the summary's numbers are checked ones — books equal three ways, files
written and replayed, the market maker's orders — ending with the line that runs it live."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from test_cli_docs import readme_demo_commands

from ttxt_kafka.archive.naming import parse_file_name
from ttxt_kafka.samples import all_samples

pytestmark = pytest.mark.kafka


def test_demo_shortened(kafka_bootstrap: str, tmp_path: Path) -> None:
    out = tmp_path / "demo-out"
    result = subprocess.run(
        [sys.executable, "-m", "ttxt_kafka.cli", "demo", "--seconds", "8", "--out", str(out)],
        capture_output=True, text=True, timeout=180,
        env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "PYTHONUNBUFFERED": "1"})
    text = result.stdout
    assert result.returncode == 0, text + result.stderr
    # Readable: no library chatter, no traceback, on either stream.
    assert "Traceback" not in text + result.stderr
    assert "aiokafka" not in text + result.stderr
    n = len({type(e) for e in all_samples()})  # types, not samples (two OrderBooks)
    assert n == 15
    assert f"Kafka ready at {kafka_bootstrap}" in text
    assert f"the event catalogue round trip: {n}/{n} types back, decoded and equal" in text
    assert re.search(r"running\s+8/8 s\s+events\s+[\d,]+", text), text  # the progress line
    prefix = re.search(r"under topic prefix (demo-[0-9a-f]{6})", text)
    assert prefix, text
    counts = dict(re.findall(rf"^  ({prefix[1]}\.\S+)\s+([\d,]+)$", text, re.M))
    for venue in ("binance", "bybit_spot"):
        assert int(counts[f"{prefix[1]}.{venue}.book"].replace(",", "")) > 50
        assert int(counts[f"{prefix[1]}.{venue}.trades"].replace(",", "")) > 0
    books = re.search(r"Books verified: (\d+)/(\d+) equal", text)
    assert books and books[1] == books[2] and int(books[1]) == 4, text
    assert "MISMATCH" not in text
    files = re.search(r"Files written: (\d+) in .*?, ([\d,]+) events", text)
    written = list((out / "data").glob("*.avro"))
    assert files and int(files[1]) == len(written)
    # One file per stream (2 venues x book, trades), or two where the run crossed the top of an
    # hour: files rotate by exchange-time hour (`--rotate 1h,256MB`), and a CI run at 19:59
    # writes each stream's next records into a new file.
    hours: dict[str, set[int]] = {}
    for path in written:
        parsed = parse_file_name(path.name)
        assert parsed is not None, path.name
        hours.setdefault(parsed[0], set()).add(parsed[1] // 3_600_000_000)
    assert len(hours) == 4 and len(written) == sum(len(h) for h in hours.values()), written
    assert all(len(h) == 1 or max(h) - min(h) == 1 for h in hours.values()), hours
    replayed = re.search(r"replayed: ([\d,]+) events", text)
    assert replayed and replayed[1] == files[2]  # every recorded event came back
    # The market maker's orders reached the connector's paper trading and were acknowledged.
    mm = re.search(r"Market maker on binance \(paper\): ([\d,]+) orders placed, .*?; "
                   r"([\d,]+) accepted, ([\d,]+) rejected; ([\d,]+) fills", text)
    assert mm and int(mm[1]) > 0 and int(mm[2]) > 0, text
    # (an amend can race a paper fill and be refused; a malformed order never is)
    assert not re.search(r"most common rejection .*(tick|lot|notional|invalid)", text), text
    assert re.search(r"Candles: [1-9][\d,]* 1 s and 1 m klines", text), text
    assert "Spread monitor: " in text
    assert re.search(r"Backtest of the same market maker over the recorded files \(ttxt "
                     r"backtest\): [\d,]+ events, [1-9]", text), text
    chart = re.search(r"^Chart: (\S+\.png)$", text, re.M)
    assert chart and Path(chart[1]).is_file(), text
    last = text.rstrip().splitlines()[-1]
    assert last.strip().endswith("run examples/pipeline_live.yaml"), last
    # The logs went to the file, not the terminal.
    assert (out / "demo.log").stat().st_size > 0
    assert not re.search(r"^\S+ \S+ (INFO|DEBUG) ", text + result.stderr, re.M)  # no log lines
    assert "[0/4] Kafka: " in text
    # The record counts explained: what the recorder records is what the files hold; no
    # metrics link that is dead once the demo has exited.
    market = re.search(r"The recorder records the market-data channels \(book, trades, "
                       r"klines, bbo\): ([\d,]+) of these records", text)
    assert market and market[1] == files[2], text
    assert "http://" not in text

    # The README's commands on the demo's recording, exactly as written, from the directory
    # that holds demo-out/ (as after `make demo`).
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap}
    (tmp_path / "examples").symlink_to(Path(__file__).resolve().parents[1] / "examples")
    for command in readme_demo_commands():
        ran = subprocess.run(shlex.split(command, comments=True), capture_output=True,
                             text=True, timeout=120, cwd=tmp_path,
                             env={**env, "PATH": f"{Path(sys.executable).parent}:{env['PATH']}"})
        assert ran.returncode == 0, f"{command}\n{ran.stdout[-2000:]}\n{ran.stderr[-2000:]}"
        assert "error" not in ran.stderr.lower(), f"{command}\n{ran.stderr[-2000:]}"


def test_sigterm_stops_the_demo_cleanly(kafka_bootstrap: str, tmp_path: Path) -> None:
    """SIGTERM in the middle of the pipeline: the services are stopped and closed as for
    Ctrl-C, the demo says so and where its output is, and exits 143 (it used to end at once)."""
    import signal
    import time

    out = tmp_path / "demo-out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "ttxt_kafka.cli", "demo", "--seconds", "120", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "PYTHONUNBUFFERED": "1"})
    assert proc.stdout is not None
    seen = []
    try:
        for line in proc.stdout:  # the step that starts the pipeline
            seen.append(line)
            if line.startswith("[2/4] running"):
                break
        time.sleep(3)  # connectors and the recorder at work
        proc.send_signal(signal.SIGTERM)
        rest, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    text = "".join(seen) + rest
    assert proc.returncode == 143, text + err
    assert f"stopped by SIGTERM before the end; what it had written is in {out}" in text, text
    assert "Traceback" not in text + err
