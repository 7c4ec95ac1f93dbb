"""The README's trading tour (the simulator's private side), run exactly as written: the
`export`, the simulator in the background, `ttxt connect` (its own shell: here a background
process, waited for), then `ttxt order` and `ttxt orders`, each of which must succeed."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.kafka

REPO = Path(__file__).resolve().parents[1]


def tour() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"^```bash\n(.*?)^```", text, re.M | re.S)
                 if "--trading" in b and "ttxt order buy" in b)
    return [line.strip() for line in block.splitlines() if line.strip()]


def test_the_readme_trading_tour_runs_as_written(kafka_bootstrap: str) -> None:
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "PYTHONUNBUFFERED": "1",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    background: list[subprocess.Popen[str]] = []
    try:
        for line in tour():
            args = shlex.split(line, comments=True)
            if args[0] == "export":
                env.update(a.split("=", 1) for a in args[1:])  # type: ignore[arg-type]
                continue
            if args[-1] == "&" or args[:2] == ["ttxt", "connect"]:
                proc = subprocess.Popen([a for a in args if a != "&"], cwd=REPO, env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True)
                background.append(proc)
                ready = "trading live, orders from" if args[1] == "connect" else "REST"
                _wait_for(proc, ready)
                continue
            done = subprocess.run(args, cwd=REPO, env=env, capture_output=True, text=True,
                                  timeout=60)
            assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
            if args[1] == "order":
                assert '"status":"ACCEPTED"' in done.stdout, done.stdout
    finally:
        for proc in reversed(background):
            proc.terminate()
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()


def _wait_for(proc: subprocess.Popen[str], text: str, timeout: float = 60) -> None:
    """Until the process printed `text` (its output keeps being drained by a thread)."""
    lines: list[str] = []

    def drain() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)

    threading.Thread(target=drain, daemon=True).start()
    deadline = time.monotonic() + timeout
    while not any(text in line for line in lines):
        assert proc.poll() is None, "".join(lines)
        assert time.monotonic() < deadline, f"{text!r} not seen:\n{''.join(lines)}"
        time.sleep(0.1)
