"""The recorder's counters as Prometheus metrics, read from its stats at scrape time.

    ttxt_recorder_records_in_total{topic}            records read from Kafka
    ttxt_recorder_records_written_total              records durably written (fsynced)
    ttxt_recorder_duplicates_total                   re-read records the files already held
    ttxt_recorder_not_events_total                   records archived raw (not ttxt events)
    ttxt_recorder_blocks_total, ttxt_recorder_files_created_total, ttxt_recorder_fsyncs_total
    ttxt_recorder_commits_total, ttxt_recorder_commit_errors_total
    ttxt_recorder_buffered_records                   waiting in memory for their block (gauge)
    ttxt_recorder_consumer_lag{topic,partition}      high-water mark minus next offset to read
    ttxt_recorder_checkpoint_ms                      write + fsync of ready blocks

`MeteredRecorder` is a `Recorder` that times its block writes; everything else is read from the
running recorder by one collector.
"""

from __future__ import annotations

from ttxt_kafka.health import CheckResult
from ttxt_kafka.metrics import REGISTRY, Registry, latency_histogram

from .service import Recorder, RecorderConfig

COUNTERS: dict[str, tuple[str, str]] = {
    "written": ("ttxt_recorder_records_written_total", "records written and fsynced"),
    "duplicates": ("ttxt_recorder_duplicates_total", "re-read records already in the files"),
    "unparsed": ("ttxt_recorder_not_events_total", "records archived raw (not ttxt events)"),
    "blocks": ("ttxt_recorder_blocks_total", "blocks written"),
    "files_created": ("ttxt_recorder_files_created_total", "files created"),
    "syncs": ("ttxt_recorder_fsyncs_total", "fsync calls"),
    "commits": ("ttxt_recorder_commits_total", "offset commits"),
    "commit_errors": ("ttxt_recorder_commit_errors_total", "failed offset commits (retried)"),
}


class RecorderMetrics:
    def __init__(self, recorder: Recorder, registry: Registry | None = None) -> None:
        self.recorder = recorder
        r = self.registry = registry or REGISTRY
        self.records_in = r.counter("ttxt_recorder_records_in_total", "records read, per topic",
                                    ["topic"])
        self.counters = {f: r.counter(name, text) for f, (name, text) in COUNTERS.items()}
        self.buffered = r.gauge("ttxt_recorder_buffered_records",
                                "records waiting in memory for their block")
        self.lag = r.gauge("ttxt_recorder_consumer_lag",
                           "records between the partition's high-water mark and the next to read",
                           ["topic", "partition"])
        self.checkpoint_ms = latency_histogram(
            "ttxt_recorder_checkpoint_ms", "write + fsync of the ready blocks (ms)",
            registry=r)
        self._collector = r.add_collector(self.collect)

    def close(self) -> None:
        self.registry.remove_collector(self._collector)

    def collect(self) -> None:
        rec = self.recorder
        stats = rec.stats
        for topic, n in list(stats.consumed_by_topic.items()):
            self.records_in.labels(topic).value = float(n)
        for field, family in self.counters.items():
            family.labels().value = float(getattr(stats, field))
        self.buffered.set(rec.core.buffers.records())
        consumer = rec.consumer
        if consumer is None:
            return
        self.lag.clear()  # partitions come and go with rebalances
        for tp in consumer.assignment():
            high = consumer.highwater(tp)
            position = rec.core.next_offsets.get(tp)
            if high is not None and position is not None:
                self.lag.labels(tp.topic, tp.partition).set(max(0, high - position))

    def check(self) -> CheckResult:
        rec = self.recorder
        if rec.core.failed is not None:
            return False, f"a write failed: {rec.core.failed}"
        consumer = rec.consumer
        if consumer is None:
            return False, "not consuming"
        return True, (f"{len(consumer.assignment())} partitions, {rec.stats.written:,} records "
                      f"written, {rec.stats.files_created} files")


class MeteredRecorder(Recorder):
    """A `Recorder` with its metrics registered (and its block writes timed)."""

    def __init__(self, config: RecorderConfig, registry: Registry | None = None) -> None:
        super().__init__(config)
        self.metrics = RecorderMetrics(self, registry)

    def _wrote(self, seconds: float) -> None:
        self.metrics.checkpoint_ms.observe(seconds * 1000)
