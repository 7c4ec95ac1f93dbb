"""Books that start from a REST snapshot bridged into the buffered stream (Binance, MEXC): the
exchange module says how to GET its depth snapshot; the rebuild is the base's
`fetch_snapshot` (a background task with backoff, failures counted and logged)."""

from __future__ import annotations

from abc import abstractmethod

from ttxt_kafka.events import OrderBook

from .connector import Connector, SymbolState


class RestSnapshotConnector(Connector):
    @abstractmethod
    async def fetch_depth_snapshot(self, native: str, limit: int) -> OrderBook:
        """GET the exchange's depth snapshot of `native` as a SNAPSHOT event."""

    async def rebuild(self, state: SymbolState) -> None:
        self.fetch_snapshot(state, lambda: self.fetch_depth_snapshot(state.native,
                                                                     self.config.book_depth))
