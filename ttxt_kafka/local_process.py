"""What the local Kafka broker and the local schema registry share: a JVM on 127.0.0.1 run
detached from one state directory, found again through its pid file (and, where /proc tells,
its command line), started once under a file lock, stopped with SIGTERM then SIGKILL.

`LocalProcess` is that structure (`start`, `status`, `pid`, `stop`); `local_kafka.LocalKafka`
and `local_registry.LocalRegistry` say what differs: files, command, address, readiness check.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

log = logging.getLogger(__name__)

StillStarting = Callable[[], None]


class LocalSetupError(RuntimeError):
    """A local service could not be built, started, reached or stopped; the message says what
    to do."""


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive advisory lock, so two processes never resolve or start at the same time."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def process_runs(pid: int, *markers: bytes) -> bool:
    """Alive, not a zombie, and (where /proc tells) with every marker among its arguments."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False  # someone else's process took over the pid
    proc_dir = Path("/proc") / str(pid)
    if not Path("/proc/self").exists():
        return True  # no procfs (macOS): the pid check is all we have
    try:
        if proc_dir.joinpath("stat").read_text().rsplit(")", 1)[1].split()[0] == "Z":
            return False
        cmdline = proc_dir.joinpath("cmdline").read_bytes().split(b"\0")
    except (OSError, IndexError):
        return False
    return all(m in cmdline for m in markers)


def terminate_group(pid: int, timeout: float, alive: Callable[[int], bool], what: str,
                    error: type[LocalSetupError] = LocalSetupError) -> None:
    """SIGTERM the process group `pid` leads (start_new_session), wait up to `timeout` while
    `alive(pid)`, then SIGKILL; `error` if it still runs."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        except PermissionError:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not alive(pid):
                return
            time.sleep(0.1)
        if sig == signal.SIGTERM:
            log.warning("%s (pid %d) ignored SIGTERM for %.0fs; killing it", what, pid, wait)
    raise error(f"could not stop the {what} process {pid}")


class LocalProcess:
    """One detached JVM whose state (pid file, log, data) lives in ``state_dir``.

    A subclass names its files and what tells its process apart (`pid_file`, `log_file`,
    `_markers`), where a running one listens (`_address_of_running`, `_saved_address`), how to
    tell it answers (`_wait_ready`) and how to launch it (`_launch`, with `_spawn` and
    `_await_ready`)."""

    what = "process"  # in messages: "Kafka", "schema registry"
    noun = "process"  # "The <noun> was stopped"
    error: type[LocalSetupError] = LocalSetupError

    def __init__(self, state_dir: Path, port: int | None) -> None:
        self.state_dir = Path(state_dir).expanduser().resolve()
        self.port = port
        self._proc: subprocess.Popen[bytes] | None = None
        self._log_offset = 0  # size of the (appended) log when this run started

    # ------------------------------------------------------------ what a subclass says

    @property
    def pid_file(self) -> Path:
        raise NotImplementedError

    @property
    def log_file(self) -> Path:
        raise NotImplementedError

    def _markers(self) -> tuple[bytes, ...]:
        """Arguments of its command line that make a process with our pid ours."""
        raise NotImplementedError

    def _saved_address(self) -> str | None:
        """Where the process of this state dir listens, from its files (None: unknown)."""
        raise NotImplementedError

    def _address_of_running(self, pid: int) -> str | None:
        """The address of the process found running (`pid`), checked against the requested
        port (an error if it cannot serve); None: start one anew."""
        return self._saved_address()

    def _wait_ready(self, address: str, timeout: float,
                    still_starting: StillStarting | None = None) -> None:
        raise NotImplementedError

    def _launch(self, timeout: float) -> str:
        raise NotImplementedError

    def _log_tails(self) -> str:
        raise NotImplementedError

    def _died_message(self, code: int) -> str:
        return (f"the {self.what} exited with code {code} while starting; its log "
                f"{self.log_file} ends with:\n{self._log_tails()}")

    # ------------------------------------------------------------ process bookkeeping

    def _read_pid(self) -> int | None:
        try:
            return int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None

    def _is_ours(self, pid: int) -> bool:
        """Alive, not a zombie, and (where /proc tells) running with our markers."""
        if self._proc is not None and self._proc.pid == pid:
            return self._proc.poll() is None
        return process_runs(pid, *self._markers())

    def _alive(self, pid: int) -> bool:
        """Like `_is_ours`, reaping it first when it is our exited child."""
        if self._proc is not None and self._proc.pid == pid:
            return self._proc.poll() is None
        with contextlib.suppress(ChildProcessError, OSError):
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done == pid:
                return False
        return self._is_ours(pid)

    def _clear_markers(self) -> None:
        self.pid_file.unlink(missing_ok=True)

    def _terminate(self, pid: int, timeout: float) -> None:
        """SIGTERM (a controlled shutdown), wait, then SIGKILL."""
        terminate_group(pid, timeout, self._alive, self.what, self.error)

    # ------------------------------------------------------------ public API

    def pid(self) -> int | None:
        """The process id if it runs from this state dir, else None."""
        pid = self._read_pid()
        return pid if pid is not None and self._is_ours(pid) else None

    def status(self) -> str | None:
        """The address if the process is alive and answers a client call, else None."""
        if self.pid() is None:
            return None
        address = self._saved_address()
        if address is None:
            return None
        try:
            self._wait_ready(address, 5.0)
        except self.error:
            return None
        return address

    def start(self, timeout: float = 120.0) -> str:
        """Start it (or find it running) and return its address once it answers."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        with _file_lock(self.state_dir / ".lock"):
            pid = self.pid()
            address = self._address_of_running(pid) if pid is not None else None
            if address is not None:
                self._wait_ready(address, timeout)
                return address
            if self.pid_file.exists():
                log.info("removing stale pid file %s", self.pid_file)
                self._clear_markers()
            return self._launch(timeout)

    def stop(self, timeout: float = 20.0) -> None:
        """Stop it if it runs (SIGTERM, then SIGKILL after ``timeout``); its data stays."""
        if not self.state_dir.exists():
            return
        with _file_lock(self.state_dir / ".lock"):
            pid = self.pid()
            if pid is not None:
                self._terminate(pid, timeout)
            self._clear_markers()
            self._proc = None

    # ------------------------------------------------------------ launching

    def _spawn(self, cmd: list[str], out: Path, *, append: bool) -> subprocess.Popen[bytes]:
        """Run `cmd` detached, its output into `out`, and write the pid file."""
        try:
            self._log_offset = self.log_file.stat().st_size
        except OSError:
            self._log_offset = 0
        with open(out, "ab" if append else "wb") as handle:
            # Own session: a Ctrl-C in the terminal that started it (or pytest) does not reach
            # it; `stop` signals it explicitly.
            self._proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=handle, stderr=subprocess.STDOUT,
                cwd=self.state_dir, start_new_session=True, close_fds=True)
        self.pid_file.write_text(f"{self._proc.pid}\n")
        return self._proc

    def _await_ready(self, proc: subprocess.Popen[bytes], address: str, timeout: float,
                     started: float) -> None:
        """Wait for the launched process to answer; if it dies, or answers too late (then it
        is stopped: nothing is left behind), an error with its log's end."""

        def still_starting() -> None:
            code = proc.poll()
            if code is not None:
                self._clear_markers()
                raise self.error(self._died_message(code))

        try:
            self._wait_ready(address, max(1.0, timeout - (time.monotonic() - started)),
                             still_starting)
        except self.error as exc:
            if proc.poll() is None:  # alive but never answered: do not leave it behind
                self._terminate(proc.pid, 10.0)
                self._clear_markers()
                raise self.error(
                    f"{exc}\nThe {self.noun} was stopped. Its log ({self.log_file}) ends "
                    f"with:\n{self._log_tails()}") from None
            raise


__all__ = ["LocalProcess", "LocalSetupError", "process_runs", "terminate_group"]
