"""Progress of a long replay on the command line: events, percentage, rate, time left."""

from __future__ import annotations

import sys
import time
from typing import TextIO


def _duration(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


class Progress:
    """`update(done)` as often as you like; it prints at most every `interval` seconds
    (rewriting one line on a terminal, one line per report otherwise)."""

    def __init__(self, total: int, out: TextIO | None = None, interval: float = 1.0,
                 label: str = "replay") -> None:
        self.total = total
        self.out = out or sys.stderr
        self.tty = self.out.isatty()
        self.interval = interval if self.tty else max(interval, 5.0)
        self.label = label
        self._t0 = time.monotonic()
        self._last = self._t0

    def line(self, done: int, now: float) -> str:
        elapsed = max(now - self._t0, 1e-9)
        rate = done / elapsed
        parts = [f"{self.label}: {done:,}"]
        if self.total:
            parts[0] += f" / {self.total:,} events ({min(done / self.total, 1.0):.1%})"
        else:
            parts[0] += " events"
        parts.append(f"{rate:,.0f} ev/s")
        if self.total and rate > 0 and done < self.total:
            parts.append(f"ETA {_duration((self.total - done) / rate)}")
        parts.append(f"elapsed {_duration(elapsed)}")
        return "  ".join(parts)

    def update(self, done: int) -> None:
        now = time.monotonic()
        if now - self._last < self.interval:
            return
        self._last = now
        self._write(self.line(done, now), final=False)

    def finish(self, done: int) -> None:
        self.total = done  # the total was an upper bound (a time range can cut blocks)
        self._write(self.line(done, time.monotonic()), final=True)

    def _write(self, text: str, final: bool) -> None:
        if self.tty:
            self.out.write("\r\x1b[K" + text + ("\n" if final else ""))
        else:
            self.out.write(text + "\n")
        self.out.flush()
