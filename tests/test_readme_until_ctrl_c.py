"""The README's commands that run until Ctrl-C, each run exactly as written against the test
broker: started from a folder holding the repository's examples/ (as the README assumes), left
to work a few seconds, stopped with SIGINT (Ctrl-C), and required to stop cleanly (exit 0, no
traceback). The tours (`tests/test_readme_tours.py`) and the demo test (`readme_demo_commands`)
run the README's other commands; together they run every command but the ones `EXEMPT` names."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_cli_docs import readme_commands, readme_demo_commands

pytestmark = pytest.mark.kafka

REPO = Path(__file__).resolve().parents[1]
RUNS_UNTIL_CTRL_C = ("ttxt record", "ttxt strategy run", "ttxt run", "ttxt top")
EXEMPT = {  # why each cannot run here as written
    "my_strategy.py": "a placeholder for the reader's own strategy file",
    "pipeline_live.yaml": "connects to the real exchanges (no internet here)",
    "--bootstrap 127.0.0.1:9092": "names a broker address the reader's cluster would have",
}


def until_ctrl_c() -> list[str]:
    covered = set(readme_demo_commands())
    return [c for c in readme_commands() if c.startswith(RUNS_UNTIL_CTRL_C)
            and c not in covered and not any(e in c for e in EXEMPT)]


def test_the_readme_has_such_commands() -> None:
    found = until_ctrl_c()
    assert len(found) >= 8, found
    assert {c.split()[1] for c in found} == {"record", "strategy", "run", "top"}


@pytest.mark.parametrize("command", until_ctrl_c())
def test_a_readme_command_runs_until_ctrl_c_and_stops_cleanly(
    command: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "PYTHONUNBUFFERED": "1",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.Popen(shlex.split(command, comments=True), cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(6)
    assert proc.poll() is None, f"{command} ended by itself:\n{proc.communicate()[0]}"
    proc.send_signal(signal.SIGINT)
    try:
        output, _ = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        output, _ = proc.communicate()
        pytest.fail(f"{command} did not stop on Ctrl-C:\n{output}")
    assert proc.returncode == 0, f"{command} exited {proc.returncode}:\n{output}"
    assert "Traceback" not in output, output
