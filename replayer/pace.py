"""Replay speed: as fast as possible, or real time x N following the records' exchange times."""

from __future__ import annotations

import asyncio
import time


def parse_speed(text: str) -> float | None:
    """`max` -> None (no pacing); a positive number N -> N times real time."""
    if text.strip().lower() == "max":
        return None
    try:
        speed = float(text)
    except ValueError:
        raise ValueError(f"bad speed {text!r}: use max or a positive number") from None
    if not speed > 0:
        raise ValueError(f"bad speed {text!r}: use max or a positive number")
    return speed


MIN_SLEEP = 0.001  # shorter waits are skipped: the next record catches up


class Pacer:
    """`await pacer.wait(ts)` before each record: sleeps until the record is due.

    Time starts at the first record: a record `d` µs of exchange time after it is due `d / speed`
    µs of wall time after the replay started. Sleeps shorter than a millisecond are skipped
    (the next record catches up), so pacing costs nothing when the replay is behind.
    """

    def __init__(self, speed: float | None) -> None:
        self.speed = speed
        self._t0: float | None = None
        self._ts0 = 0

    def delay(self, ts_us: int) -> float:
        """Seconds until a record of exchange time `ts_us` is due (<= 0: now)."""
        if self.speed is None:
            return 0.0
        now = time.monotonic()
        if self._t0 is None:
            self._t0, self._ts0 = now, ts_us
            return 0.0
        return self._t0 + (ts_us - self._ts0) / 1e6 / self.speed - now

    async def wait(self, ts_us: int) -> None:
        delay = self.delay(ts_us)
        if delay > MIN_SLEEP:
            await asyncio.sleep(delay)
