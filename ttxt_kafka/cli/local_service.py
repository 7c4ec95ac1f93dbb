"""What `ttxt kafka` and `ttxt registry` share: start / status / stop of a local service
(`local_process.LocalProcess`), or of the one an environment variable names instead."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass

from ttxt_kafka.local_process import LocalProcess, LocalSetupError


def fail(exc: Exception) -> int:
    # One line, no traceback: the message already says what to do.
    print(f"ttxt: error: {' '.join(str(exc).split())}", file=sys.stderr)
    return 2


@dataclass(frozen=True)
class ServiceCommands:
    name: str  # "local Kafka broker"
    short: str  # "local broker": "there is no local broker to stop"
    command: str  # `ttxt <command> start`
    env: str  # the variable naming a service to use instead
    from_env: Callable[[], str | None]
    wait: Callable[[str, float], None]  # returns once the address answers, else `error`
    error: type[LocalSetupError]
    show_env_value: bool = True  # False: a registry URL may carry credentials

    def start(self, timeout: float, start_local: Callable[[], str]) -> int:
        """Print the environment's address once it answers, else `start_local()`'s."""
        try:
            env = self.from_env()
            if env is not None:
                try:
                    self.wait(env, timeout)
                except self.error as exc:
                    raise self.error(f"{self.env} is set: {exc}") from None
                print(env)
                return 0
            print(start_local())
        except (self.error, OSError) as exc:
            return fail(exc)
        return 0

    def external_status(self) -> int | None:
        """`status` of the environment's service (exit code), None when it names none."""
        env = self.from_env()
        if env is None:
            return None
        try:
            self.wait(env, 5.0)
        except self.error as exc:
            print(f"not reachable: {self.env}={env} ({exc})")
            return 1
        print(env)
        return 0

    def report(self, address: str | None) -> int:
        """`status` of the local service: its address (exit 0), or that it does not run."""
        if address is None:
            print(f"the {self.name} is not running (start it with `ttxt {self.command} start`)")
            return 1
        print(address)
        return 0

    def external_stop(self) -> bool:
        """True (and said) when the environment names the service: nothing local to stop."""
        env = self.from_env()
        if env is None:
            return False
        shown = f"{self.env}={env}" if self.show_env_value else self.env
        print(f"{shown} is in use: there is no {self.short} to stop")
        return True

    def stop(self, service: LocalProcess) -> int:
        try:
            pid = service.pid()
            service.stop()
        except (self.error, OSError) as exc:
            return fail(exc)
        print(f"stopped (pid {pid})" if pid is not None else f"the {self.name} was not running")
        return 0
