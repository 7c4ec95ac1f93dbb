"""Command ids and client order ids a strategy generates: `<tag>-<run>-<n>`.

`tag` is derived from the strategy's group id, so every instance and every restart of one
strategy recognizes its own orders on the shared executions topic, and no other strategy's.
`run` tells runs apart (random by default; fixed in backtests and tests, which then produce
the very same ids every time). `n` counts. At most 7 + 1 + 12 + 1 + 10 characters of
`[a-z0-9-]`: within both Binance's and Bybit's client order id rules (36 characters).
"""

from __future__ import annotations

import hashlib
import re
import secrets

_RUN = re.compile(r"^[a-z0-9]{1,12}$")


def strategy_tag(group: str) -> str:
    return "s" + hashlib.sha256(group.encode()).hexdigest()[:6]


class OrderIds:
    def __init__(self, group: str, run_id: str | None = None) -> None:
        run = run_id if run_id is not None else secrets.token_hex(3)
        if not _RUN.match(run):
            raise ValueError(f"run id {run!r}: use 1-12 lowercase letters or digits")
        self.tag = strategy_tag(group)
        self.run = run
        self._n = 0

    def next(self) -> str:
        self._n += 1
        return f"{self.tag}-{self.run}-{self._n}"

    def owns(self, some_id: str | None) -> bool:
        """Was this command id or client order id made by this strategy (any run)?"""
        return bool(some_id) and some_id.startswith(self.tag + "-")  # type: ignore[union-attr]
