"""Bounded logging: a broker outage must not write 70,000 lines.

* `RateLimitedLog`: our own repeated messages, at most `burst` lines per `window` seconds per
  kind; the next line after a quiet spell says how many were suppressed.
* `limit_aiokafka_logs()`: the same for aiokafka's loggers (`Unable connect to node ...`, `Got
  error produce response ...`), as a logging filter keyed by logger and message template, so
  an outage gives a few lines per kind, not one per retry.
"""

from __future__ import annotations

import logging
import time
from typing import Any


class _Budget:
    __slots__ = ("burst", "window", "_state")

    def __init__(self, burst: int, window: float) -> None:
        self.burst = burst
        self.window = window
        self._state: dict[object, list[float]] = {}  # key -> [window start, count, suppressed]

    def take(self, key: object) -> tuple[bool, int]:
        """(log this one?, how many were suppressed before it)."""
        now = time.monotonic()
        st = self._state.get(key)
        if st is None or now - st[0] >= self.window:
            suppressed = int(st[2]) if st is not None else 0
            self._state[key] = [now, 1, 0]
            if len(self._state) > 10_000:
                self._state.clear()
            return True, suppressed
        if st[1] < self.burst:
            st[1] += 1
            return True, 0
        st[2] += 1
        return False, 0


class RateLimitedLog:
    """`log.error(kind, msg, *args)`: at most `burst` lines of a kind per `window` seconds."""

    def __init__(self, logger: logging.Logger, burst: int = 5, window: float = 30.0) -> None:
        self.logger = logger
        self._budget = _Budget(burst, window)

    def log(self, level: int, kind: str, msg: str, *args: Any) -> None:
        ok, suppressed = self._budget.take(kind)
        if not ok:
            return
        if suppressed:
            msg += f" ({suppressed} similar line(s) suppressed)"
        self.logger.log(level, msg, *args)

    def error(self, kind: str, msg: str, *args: Any) -> None:
        self.log(logging.ERROR, kind, msg, *args)

    def warning(self, kind: str, msg: str, *args: Any) -> None:
        self.log(logging.WARNING, kind, msg, *args)


class RateLimitFilter(logging.Filter):
    """Passes at most `burst` records per (logger, message template) per `window` seconds."""

    def __init__(self, burst: int = 3, window: float = 60.0) -> None:
        super().__init__()
        self._budget = _Budget(burst, window)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.CRITICAL:
            return True
        ok, suppressed = self._budget.take((record.name, record.msg))
        if ok and suppressed:
            record.msg = f"{record.msg} ({suppressed} similar line(s) suppressed)"
        return ok


_FILTER = RateLimitFilter()


def limit_aiokafka_logs(filt: logging.Filter | None = None) -> None:
    """Add the rate-limiting filter to every aiokafka logger (idempotent). A filter on a logger
    does not apply to its children, so each module's logger gets it."""
    filt = filt or _FILTER
    import aiokafka.client  # noqa: F401 - the modules whose loggers flood
    import aiokafka.conn  # noqa: F401
    import aiokafka.consumer.fetcher  # noqa: F401
    import aiokafka.consumer.group_coordinator  # noqa: F401
    import aiokafka.producer.sender  # noqa: F401

    names = [n for n in list(logging.root.manager.loggerDict) if n.split(".")[0] == "aiokafka"]
    for name in ["aiokafka", *names]:
        logger = logging.getLogger(name)
        if filt not in logger.filters:
            logger.addFilter(filt)
