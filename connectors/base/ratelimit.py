"""Request-weight rate limiting, as the exchanges count it (Binance: weight per minute)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


class WeightLimiter:
    """A token bucket of `capacity` weight refilled at `capacity / period` per second.

    `acquire(weight)` waits until the bucket holds `weight`, then takes it. Requests are served in
    arrival order (one lock), so a heavy request is not starved by a stream of light ones.
    """

    def __init__(
        self,
        capacity: float,
        period: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if capacity <= 0 or period <= 0:
            raise ValueError("rate limit capacity and period must be positive")
        self.capacity = capacity
        self.period = period
        self.rate = capacity / period
        self._tokens = capacity
        self._clock = clock
        self._stamp = clock()
        self._lock = asyncio.Lock()
        self.waited = 0.0  # total seconds spent waiting (observability)

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    @property
    def available(self) -> float:
        self._refill()
        return self._tokens

    async def acquire(self, weight: float = 1.0) -> None:
        if weight > self.capacity:
            raise ValueError(f"request weight {weight} exceeds the limit {self.capacity}")
        async with self._lock:
            self._refill()
            while self._tokens < weight:
                wait = (weight - self._tokens) / self.rate
                self.waited += wait
                await asyncio.sleep(wait)
                self._refill()
            self._tokens -= weight

    def penalize(self, seconds: float) -> None:
        """The exchange said we went too fast (HTTP 429): empty the bucket for `seconds`."""
        self._refill()
        self._tokens = min(self._tokens, -seconds * self.rate)
