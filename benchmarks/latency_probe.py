"""The strategy at the end of the latency benchmark's path: it notes when each book update
reaches its handler (wall clock, ns — the simulator's send stamps use the same host clock) and
writes the notes out when it stops (`--param out=FILE`)."""

from __future__ import annotations

import json
import time
from array import array

from ttxt_kafka.events import OrderBook, UpdateType
from ttxt_kafka.strategies import Strategy


class LatencyProbe(Strategy):
    venues = ["binance"]
    channels = ["book"]
    out = ""

    def on_start(self) -> None:
        # Flat arrays of machine integers, not a list of tuples: the garbage collector does not
        # walk them, so the probe's notes (100,000 at 10,000/s) add nothing to the strategy
        # process's collections during the measurement.
        self.handled, self.sequences, self.received = array("q"), array("q"), array("q")

    def on_orderbook(self, event: OrderBook) -> None:
        if event.update_type is UpdateType.DELTA:  # snapshots are not sent by the exchange
            self.handled.append(time.time_ns())
            self.sequences.append(event.sequence or 0)
            self.received.append(event.receive_ts)

    def on_stop(self) -> None:
        if self.out:
            with open(self.out, "w") as f:
                json.dump(list(zip(self.handled, self.sequences, self.received, strict=True)), f)
