"""The strategy at the end of the latency benchmark's path: it notes when each book update
reaches its handler (wall clock, ns — the simulator's send stamps use the same host clock) and
writes the notes out when it stops (`--param out=FILE`)."""

from __future__ import annotations

import json
import time

from ttxt_kafka.events import OrderBook, UpdateType
from ttxt_kafka.strategies import Strategy


class LatencyProbe(Strategy):
    venues = ["binance"]
    channels = ["book"]
    out = ""

    def on_start(self) -> None:
        self.rows: list[tuple[int, int, int]] = []

    def on_orderbook(self, event: OrderBook) -> None:
        if event.update_type is UpdateType.DELTA:  # snapshots are not sent by the exchange
            self.rows.append((time.time_ns(), event.sequence or 0, event.receive_ts))

    def on_stop(self) -> None:
        if self.out:
            with open(self.out, "w") as f:
                json.dump(self.rows, f)
