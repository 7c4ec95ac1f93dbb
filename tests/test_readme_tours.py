"""The README's two tours against the simulator, run exactly as written: market data
(`ttxt kafka start`, the simulator in the background, `ttxt connect`, `ttxt tail`) and trading
(the `export`, the simulator's private side, `ttxt connect`, `ttxt order`, `ttxt orders`).
Long-running commands (`&`, `ttxt connect`, `ttxt tail`: their own shell in the README) run in
the background and are waited for; every other command must succeed."""

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


def tour(*words: str) -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = next(b for b in re.findall(r"^```bash\n(.*?)^```", text, re.M | re.S)
                 if all(w in b for w in words))
    return [line.strip() for line in block.splitlines() if line.strip()]


TOURS = {"market data": ("ttxt simulate --venue binance --synthetic --port", "ttxt tail"),
         "trading": ("--trading", "ttxt order buy")}
READY = {"simulate": "REST", "connect": "trading live, orders from", "tail": '"OrderBook"'}


@pytest.mark.parametrize("name", list(TOURS))
def test_the_readme_tours_run_as_written(name: str, kafka_bootstrap: str) -> None:
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "PYTHONUNBUFFERED": "1",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    background: list[subprocess.Popen[str]] = []
    try:
        for line in tour(*TOURS[name]):
            args = shlex.split(line, comments=True)
            if args[0] == "export":
                env.update(a.split("=", 1) for a in args[1:])  # type: ignore[arg-type]
                continue
            if args[-1] == "&" or args[1] in ("connect", "tail"):
                proc = subprocess.Popen([a for a in args if a != "&"], cwd=REPO, env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        text=True)
                background.append(proc)
                ready = READY[args[1]]
                if args[1] == "connect" and name != "trading":
                    ready = "CONNECTED ws://"
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
