"""Books that start from a REST snapshot bridged into the buffered stream (Binance, MEXC).

`rebuild` fetches the snapshot in the background (the stream keeps buffering meanwhile) and
hands it to the sync machine; a failed fetch is counted and logged, and the watchdog asks again.
Repeated attempts back off (0.25 s more each, at most 2 s): a snapshot that keeps arriving stale
must not hammer the exchange's weight budget.
"""

from __future__ import annotations

import asyncio
import logging
from abc import abstractmethod

from ttxt_kafka.events import OrderBook

from .connector import Connector, SymbolState
from .errors import ExchangeError, MalformedMessage

log = logging.getLogger(__name__)


class RestSnapshotConnector(Connector):
    @abstractmethod
    async def fetch_depth_snapshot(self, native: str, limit: int) -> OrderBook:
        """GET the exchange's depth snapshot of `native` as a SNAPSHOT event."""

    async def rebuild(self, state: SymbolState) -> None:
        state.fetching = True
        group = state.conn.tasks if state.conn is not None else self._tasks
        self._spawn(self._fetch_snapshot(state), group)

    async def _fetch_snapshot(self, state: SymbolState) -> None:
        try:
            if state.snapshot_attempts > 1:
                await asyncio.sleep(min(2.0, 0.25 * (state.snapshot_attempts - 1)))
            snap = await self.fetch_depth_snapshot(state.native, self.config.book_depth)
        except (ExchangeError, MalformedMessage) as exc:
            self.stats.rest_errors += 1
            state.fetching = False
            log.warning("%s %s: depth snapshot failed: %s", self.venue, state.symbol, exc)
            return
        except BaseException:
            state.fetching = False
            raise
        state.fetching = False
        await self.on_snapshot(state, snap)
