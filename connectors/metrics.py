"""A running connector's counters as Prometheus metrics, read from its `stats` at scrape time.

The hot path keeps its plain integer counters (`ConnectorStats`); this adapter mirrors them into
a registry just before each render, so a scrape costs the connector nothing between scrapes.
Labelled by venue:

    ttxt_connector_frames_total           frames received from the exchange
    ttxt_connector_events_total           events published
    ttxt_connector_book_deltas_total      deltas applied and published
    ttxt_connector_book_snapshots_total   snapshots published (after a sync, and periodic ones)
    ttxt_connector_malformed_total        frames that could not be normalized (skipped)
    ttxt_connector_exchange_errors_total  error frames sent by the exchange
    ttxt_connector_publish_errors_total   events the queue could not encode
    ttxt_connector_gaps_total             sequence gaps detected
    ttxt_connector_checksum_mismatches_total  book checksums that did not match the exchange's
    ttxt_connector_book_resyncs_total     book rebuilds started (gap, stale snapshot, reconnect)
    ttxt_connector_reconnects_total       WebSocket reconnections
    ttxt_connector_rest_errors_total      failed REST calls
    ttxt_connector_delivery_failures_total  times the Kafka queue could not deliver records
    ttxt_connector_delivery_resyncs_total   books resynced: their records may not be in Kafka
    ttxt_connector_books_synced           books whole right now (gauge)
    ttxt_connector_books                  books configured (gauge)
    ttxt_connector_connections_open       WebSockets open (gauge)
    ttxt_connector_last_frame_age_seconds since the newest frame on any connection (gauge)
    ttxt_connector_clock_drift_ms         exchange clock minus ours (gauge)

and, for a connector that trades, its trader's counters (`TradingStats`), labelled by venue:

    ttxt_trader_commands_total, ttxt_trader_accepted_total, ttxt_trader_rejected_total,
    ttxt_trader_not_sent_total, ttxt_trader_dead_lettered_total, ttxt_trader_retries_total,
    ttxt_trader_errors_total, ttxt_trader_private_events_total; ttxt_trader_ready (gauge)

Health: `check()` says whether every connection is open, every book synced, every trader ready.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ttxt_kafka.health import CheckResult
from ttxt_kafka.metrics import REGISTRY, Registry

from .base.connector import Connector

if TYPE_CHECKING:
    from .trading import Trader

# ConnectorStats field -> (metric name, help)
COUNTERS: dict[str, tuple[str, str]] = {
    "messages": ("ttxt_connector_frames_total", "frames received from the exchange"),
    "events": ("ttxt_connector_events_total", "events published"),
    "book_deltas": ("ttxt_connector_book_deltas_total", "book deltas applied and published"),
    "book_snapshots": ("ttxt_connector_book_snapshots_total", "book snapshots published"),
    "malformed": ("ttxt_connector_malformed_total", "frames that could not be normalized"),
    "exchange_errors": ("ttxt_connector_exchange_errors_total", "error frames from the exchange"),
    "publish_errors": ("ttxt_connector_publish_errors_total", "events that could not be encoded"),
    "gaps": ("ttxt_connector_gaps_total", "sequence gaps detected"),
    "checksum_mismatches": ("ttxt_connector_checksum_mismatches_total",
                            "book checksums that did not match the exchange's"),
    "resyncs": ("ttxt_connector_book_resyncs_total", "book rebuilds started"),
    "reconnects": ("ttxt_connector_reconnects_total", "WebSocket reconnections"),
    "rest_errors": ("ttxt_connector_rest_errors_total", "failed REST calls"),
    "delivery_failures": ("ttxt_connector_delivery_failures_total",
                          "times the Kafka queue could not deliver records"),
    "delivery_resyncs": ("ttxt_connector_delivery_resyncs_total",
                         "books resynced because their records may not be in Kafka"),
}


TRADER_COUNTERS = ("commands", "accepted", "rejected", "not_sent", "dead_lettered", "retries",
                   "errors", "private_events")


class ConnectorMetrics:
    """Mirror some connectors' stats into `registry` (one collector, run at each scrape)."""

    def __init__(self, connectors: Sequence[Connector], registry: Registry | None = None,
                 traders: Sequence[Trader] = ()) -> None:
        self.connectors = list(connectors)
        self.traders = list(traders)
        r = self.registry = registry or REGISTRY
        self.trader_counters = {f: r.counter(f"ttxt_trader_{f}_total", f"orders path: {f}",
                                             ["venue"]) for f in TRADER_COUNTERS} \
            if traders else {}
        self.trader_ready = r.gauge("ttxt_trader_ready", "consuming its orders topic",
                                    ["venue"]) if traders else None
        self.counters = {field: r.counter(name, text, ["venue"])
                         for field, (name, text) in COUNTERS.items()}
        self.synced = r.gauge("ttxt_connector_books_synced", "books whole right now", ["venue"])
        self.books = r.gauge("ttxt_connector_books", "books configured", ["venue"])
        self.open = r.gauge("ttxt_connector_connections_open", "WebSockets open", ["venue"])
        self.age = r.gauge("ttxt_connector_last_frame_age_seconds",
                           "seconds since the newest frame on any connection", ["venue"])
        self.drift = r.gauge("ttxt_connector_clock_drift_ms", "exchange clock minus ours (ms)",
                             ["venue"])
        self._collector = r.add_collector(self.collect)

    def close(self) -> None:
        self.registry.remove_collector(self._collector)

    def collect(self) -> None:
        now = time.monotonic()
        for c in self.connectors:
            v = c.venue
            stats = c.stats
            for field, family in self.counters.items():
                # A mirror of a counter that only goes up: set, not incremented.
                family.labels(v).value = float(getattr(stats, field))
            self.synced.labels(v).set(sum(1 for s in c.states.values() if s.sync.synced))
            self.books.labels(v).set(len(c.states))
            self.open.labels(v).set(sum(1 for conn in c.connections if conn.ws is not None))
            last = max((conn.last_rx for conn in c.connections), default=0.0)
            self.age.labels(v).set(now - last if last else float("nan"))
            if c.clock_drift_us is not None:
                self.drift.labels(v).set(c.clock_drift_us / 1000)
        for t in self.traders:
            trading = t.stats
            for field, family in self.trader_counters.items():
                family.labels(t.venue).value = float(getattr(trading, field))
            if self.trader_ready is not None:
                self.trader_ready.labels(t.venue).set(1 if t.ready.is_set() else 0)

    def check(self) -> CheckResult:
        """Healthy when every connection is open and every book synced."""
        parts, ok = [], True
        for c in self.connectors:
            opened = sum(1 for conn in c.connections if conn.ws is not None)
            synced = sum(1 for s in c.states.values() if s.sync.synced)
            ok = ok and bool(c.connections) and opened == len(c.connections)
            ok = ok and synced == len(c.states)
            parts.append(f"{c.venue}: {opened}/{len(c.connections)} connections, "
                         f"{synced}/{len(c.states)} books synced")
        for t in self.traders:
            ok = ok and t.ready.is_set()
            parts.append(f"{t.venue}: trading {t.mode}" + ("" if t.ready.is_set()
                                                          else " (not consuming yet)"))
        return ok, "; ".join(parts)
