"""Leak checks of the C extensions: how much traced memory a repeated call leaves behind."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable


def memory_left_by(call: Callable[[], object], warm_up: int, times: int) -> int:
    """Bytes still allocated after `times` calls (after `warm_up` untraced ones: caches and
    interned objects settle first). A leak of one object a call shows as `times` × its size."""
    for _ in range(warm_up):
        call()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(times):
            call()
        return tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
