"""Test-only crash points: `TTXT_TEST_CRASH_AT=<point>` makes the process SIGKILL itself there,
the first time it gets there, so a test can kill a connector at an exact step of placing an
order (between the exchange's answer and the ack, between the ack and the offset commit).

Points: `after_send` (the exchange accepted an order; its ack is not published yet),
`after_ack` (the ack is flushed to Kafka; the command's offset is not committed yet).
Unset in production: `crash_point` is then one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

ENV = "TTXT_TEST_CRASH_AT"


def crash_point(name: str) -> None:
    if os.environ.get(ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
