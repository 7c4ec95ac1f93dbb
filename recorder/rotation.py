"""When a stream moves on to a new file: `--rotate SPEC`.

SPEC is a size (`256MB`, `1GiB`), a time window (`15m`, `1h`, `1d`), both (`1h,256MB`: whichever
comes first), or `none`. Windows are aligned on the epoch in exchange time: with `1h`, a stream
starts a new file when a block's first record belongs to a later hour than the file's first
record. Checks happen between blocks, so a file can exceed its size by up to one block.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SIZE = re.compile(r"^(\d+)\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)$", re.IGNORECASE)
_TIME = re.compile(r"^(\d+)\s*(s|m|h|d)$")
_SIZE_UNITS = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
               "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}
_TIME_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

DEFAULT_ROTATE = "1h,256MB"


@dataclass(frozen=True, slots=True)
class RotatePolicy:
    max_bytes: int | None = None
    window_us: int | None = None

    @classmethod
    def parse(cls, spec: str) -> RotatePolicy:
        spec = spec.strip()
        if spec.lower() == "none":
            return cls()
        max_bytes = window_us = None
        for part in (p.strip() for p in spec.split(",")):
            if m := _SIZE.match(part):
                max_bytes = int(m[1]) * _SIZE_UNITS[m[2].upper()]
            elif m := _TIME.match(part):
                window_us = int(m[1]) * _TIME_UNITS[m[2]] * 1_000_000
            else:
                raise ValueError(
                    f"bad rotation {part!r} in {spec!r}: use a size (256MB, 1GiB), a window "
                    f"(15m, 1h, 1d), both separated by a comma, or none"
                )
        if max_bytes == 0 or window_us == 0:
            raise ValueError(f"rotation limits must be positive: {spec!r}")
        return cls(max_bytes, window_us)

    def window(self, ts_us: int) -> int:
        return ts_us // self.window_us if self.window_us else 0

    def rotate(self, size: int, blocks: int, file_window: int, block_len: int,
               block_first_ts: int) -> bool:
        """Does a block of `block_len` bytes starting at `block_first_ts` need a new file?"""
        if blocks == 0:
            return False  # never leave a file without records
        if self.max_bytes is not None and size + block_len > self.max_bytes:
            return True
        return self.window_us is not None and self.window(block_first_ts) > file_window
