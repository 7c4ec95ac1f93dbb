"""The strategy runtime's metrics, all labelled with the strategy (its group id)."""

from __future__ import annotations

from ttxt_kafka.metrics import REGISTRY, CounterChild, Registry, latency_histogram


class StrategyMetrics:
    def __init__(self, strategy: str, registry: Registry | None = None) -> None:
        r = registry or REGISTRY
        self.registry = r
        self.strategy = strategy
        s = ["strategy"]
        self.events_in = r.counter("ttxt_strategy_events_in_total",
                                   "events read, per topic", [*s, "topic"])
        self.handler_errors = r.counter("ttxt_strategy_handler_errors_total",
                                        "exceptions raised by handlers", [*s, "handler"])
        self.malformed = r.counter("ttxt_strategy_malformed_total",
                                   "undecodable records skipped", [*s, "topic"])
        self.commands = r.counter("ttxt_strategy_commands_total",
                                  "commands and derived events sent, per type", [*s, "type"])
        self.books_ready = r.gauge("ttxt_strategy_books_ready",
                                   "books ready (snapshot applied) on this instance", s)
        self.partitions = r.gauge("ttxt_strategy_assigned_partitions",
                                  "partitions the group gave this instance", s)
        self.consumer_lag = r.gauge("ttxt_strategy_consumer_lag",
                                    "records between the partition end and the next to handle",
                                    [*s, "topic", "partition"])
        self.rebuilds = r.counter("ttxt_strategy_books_rebuilt_total",
                                  "books rebuilt from a snapshot on the topic after assignment", s)
        self.handler_ms = latency_histogram("ttxt_strategy_handler_ms",
                                            "time spent in a handler (ms)", s, r)
        self.event_latency_ms = latency_histogram(
            "ttxt_strategy_event_latency_ms",
            "from the connector's receive_ts to the handler call (ms, live only)", s, r)
        self._events_by_topic: dict[str, CounterChild] = {}
        # The children the hot path touches, looked up once.
        self.handler_ms_child = self.handler_ms.labels(strategy)
        self.event_latency_child = self.event_latency_ms.labels(strategy)
        self.books_ready_child = self.books_ready.labels(strategy)

    def event_in(self, topic: str) -> None:
        child = self._events_by_topic.get(topic)
        if child is None:
            child = self._events_by_topic[topic] = self.events_in.labels(self.strategy, topic)
        child.inc()
