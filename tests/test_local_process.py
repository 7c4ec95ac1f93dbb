"""`LocalProcess`, the start/status/stop structure the local broker and the local schema
registry share, with a third real process: Python's http.server (no JVM, so it is quick)."""

from __future__ import annotations

import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from ttxt_kafka.local_kafka import _free_port, _tail_file
from ttxt_kafka.local_process import LocalProcess, LocalSetupError, StillStarting


class ServerError(LocalSetupError):
    pass


class HttpServer(LocalProcess):
    what = noun = "test server"
    error = ServerError

    def __init__(self, state_dir: Path, port: int | None = None, *, bad: bool = False) -> None:
        super().__init__(state_dir, port)
        self.bad = bad  # launch with an argument http.server refuses: it dies while starting

    @property
    def pid_file(self) -> Path:
        return self.state_dir / "server.pid"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "server.log"

    def _markers(self) -> tuple[bytes, ...]:
        return b"http.server", str(self.state_dir).encode()

    def _saved_address(self) -> str | None:
        try:
            return f"http://127.0.0.1:{int((self.state_dir / 'port').read_text())}/"
        except (OSError, ValueError):
            return None

    def _wait_ready(self, address: str, timeout: float,
                    still_starting: StillStarting | None = None) -> None:
        deadline = time.monotonic() + timeout
        while True:
            if still_starting is not None:
                still_starting()
            try:
                with urllib.request.urlopen(address, timeout=2.0):
                    return
            except (OSError, urllib.error.URLError) as exc:
                if time.monotonic() > deadline:
                    raise ServerError(f"{address} did not answer: {exc}") from None
            time.sleep(0.05)

    def _launch(self, timeout: float) -> str:
        started = time.monotonic()
        port = self.port or _free_port(set())
        cmd = [sys.executable, "-m", "http.server", "--bind", "127.0.0.1",
               "--directory", str(self.state_dir), "not-a-port" if self.bad else str(port)]
        proc = self._spawn(cmd, self.log_file, append=True)
        (self.state_dir / "port").write_text(str(port))
        address = f"http://127.0.0.1:{port}/"
        self._await_ready(proc, address, timeout, started)
        return address

    def _log_tails(self) -> str:
        return _tail_file(self.log_file, 5, since=self._log_offset) or "(nothing)"


def test_start_status_stop(tmp_path: Path) -> None:
    server = HttpServer(tmp_path / "s")
    assert server.status() is None and server.pid() is None
    server.stop()  # nothing to stop: fine
    address = server.start(timeout=30)
    pid = server.pid()
    assert pid is not None
    # Another object on the same state dir finds it running (pid file + command line).
    other = HttpServer(tmp_path / "s")
    assert other.status() == address and other.pid() == pid
    assert other.start(timeout=30) == address and other.pid() == pid  # not a second one
    other.stop(timeout=10)
    assert server.pid() is None and server.status() is None
    assert not server.pid_file.exists()


def test_stale_pid_file_and_a_pid_that_is_not_ours(tmp_path: Path) -> None:
    server = HttpServer(tmp_path / "s")
    server.state_dir.mkdir()
    # A pid that runs but is not ours (this test process: no http.server in its arguments).
    server.pid_file.write_text(f"{os.getpid()}\n")
    assert server.pid() is None
    address = server.start(timeout=30)
    assert server.pid() not in (None, os.getpid())
    with urllib.request.urlopen(address, timeout=5):
        pass
    server.stop(timeout=10)


def test_a_process_dying_while_starting_is_a_clear_error(tmp_path: Path) -> None:
    server = HttpServer(tmp_path / "s", bad=True)
    with pytest.raises(ServerError, match="(?s)the test server exited with code 2 while starting; "
                                          "its log .* ends with:\n.*invalid"):
        server.start(timeout=30)
    assert not server.pid_file.exists()
