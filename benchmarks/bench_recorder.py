"""Recorder and replayer against the seed's MarketDataRecorder / MarketDataReplayer.

Input, the same for both: `BENCH_RECORD_EVENTS` (default 100,000) 10-level book deltas of one
ticker from `benchmarks/data.py`. The seed gets them as its `Orderbook` events (float levels,
built untimed); ttxt-kafka as `OrderBook` events encoded once, untimed, to what connectors put on
the book topic (single-object Avro, key = symbol, `ttxt-type` header).

What is timed, and what the rates mean (events per second, median of `BENCH_ROUNDS`, default 3,
rounds interleaved across cases after a warm-up round; the garbage collector is off while timing,
as in the other benchmarks, `BENCH_GC=1` keeps it on):

recording
  seed          its AsyncioQueue -> msgpack -> files: from the first `publish` until the reader
                has flushed every buffer to disk (no fsync: the seed never syncs). batch_size is
                2**62: at its 10 MB default the seed deadlocks when a ticker's buffer fills
                (process_event holds the ticker's lock and _flush_buffer takes it again), so
                nothing is flushed mid-run and one file is written at the end.
  ours, files   the file-writing stage alone, the counterpart of the seed's: the records one
                `getmany` returns (aiokafka ConsumerRecords, 10,000 at a time) -> routed,
                buffered, blocks of 150 encoded, deflate-compressed, written, fsynced.
  ours, Kafka   end to end, `ttxt record --until-end` in-process: group join, fetch from the
                broker, the file stage, fsync, offset commit — topic -> durable files.
bytes per event  file bytes / events (ours: the .avro files; the .idx indexes are listed apart).
replay into the process
  seed          its replayer reads the file, rebuilds each event with dacite and publishes it
                to an AsyncioQueue drained by a consumer task.
  ours, queue   `replay_to_queue`: files -> typed events -> an AsyncioQueue drained likewise.
  ours, iter    `replay_events`: files -> typed events, an async iterator.
  ours, records `FileSource`: files -> the records as they were on Kafka (no value decoding).
replay into Kafka, same broker, same records, same producer settings (the platform's:
idempotent, acks=all, 256 KB batches, lz4 when installed)
  bare send()   `producer.send` of each recorded record held in memory, then flush.
  bare batches  the same through aiokafka's batch API (`create_batch`/`append`/`send_batch`),
                which is what our replay sink uses: the like-for-like baseline.
  ours          files -> replay topic (`run_replay` with `KafkaSink`): reading, decoding and
                merging the files is inside the timed region; topic creation and producer
                start-up are outside it, for all three.

Run: `make bench` (all benchmarks) or `.bench-venv/bin/python -m benchmarks.bench_recorder`.
Uses KAFKA_BOOTSTRAP_SERVERS when set, else starts a local broker for the run.
"""

from __future__ import annotations

import asyncio
import gc
import glob
import logging
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.common import (
    Report,
    Result,
    Unavailable,
    gc_in_timed_region,
    int_from_env,
    rounds_from_env,
    write_json,
)
from benchmarks.data import make_book_data

BENCH = "recorder"
BASELINE = "seed"


# ---------------------------------------------------------------- the seed (ttxt2 0.1.4)


def seed_events(data: Any) -> list[Any]:
    """Untimed: the seed's events for the deltas (float levels, as its connectors make)."""
    from ttxt_v2.core.api import (
        BaseEvent,
        EUpdateType,
        Event,
        EventType,
        MessageHeader,
        Orderbook,
        OrderbookEntry,
        TradingPair,
    )

    pair = TradingPair(base="BTC", quote="USDT")
    out = []
    for i, d in enumerate(data.deltas):
        ob = Orderbook(update_type=EUpdateType.DELTA, trading_pair=pair, timestamp=i, seq=i,
                       bids=[OrderbookEntry(float(p), float(q)) for p, q in d.bids],
                       asks=[OrderbookEntry(float(p), float(q)) for p, q in d.asks])
        out.append(BaseEvent(event_type=EventType.OB_EVENT,
                             payload=Event[Orderbook](header=MessageHeader("BINANCE", i),
                                                      data=ob)))
    return out


async def seed_record(directory: Path, events: list[Any]) -> None:
    from ttxt_v2.core.api import (
        AsyncioQueue,
        LocalStorageBackend,
        MarketDataRecorder,
        MarketDataRecorderConfig,
        TradingPair,
    )

    pair = TradingPair(base="BTC", quote="USDT")
    queue = AsyncioQueue(capacity=256)
    config = MarketDataRecorderConfig(exchange="BINANCE", tickers=[pair],
                                      file_path=str(directory), batch_size=2**62)
    rec = MarketDataRecorder(config, queue, LocalStorageBackend(str(directory)))
    await rec.start()
    for ev in events:
        await queue.publish(ev)
    while not queue._queue.empty():
        await asyncio.sleep(0.001)
    # stop() hangs on an empty queue; cancelling the reader runs its final flush.
    rec._background_task.cancel()
    await asyncio.gather(rec._background_task, return_exceptions=True)


def seed_concatenate(directory: Path) -> int:
    """The seed records `<T>_<start_ms>.bin` but replays `<T>.bin`: join the parts (msgpack
    streams concatenate). Returns the recorded bytes."""
    parts = sorted(glob.glob(f"{directory}/BINANCE_BTC_USDT_*.bin"))
    size = 0
    with open(f"{directory}/BINANCE_BTC_USDT.bin", "wb") as out:
        for part in parts:
            data = Path(part).read_bytes()
            size += len(data)
            out.write(data)
    return size


async def seed_replay(directory: Path) -> int:
    from ttxt_v2.core.api import (
        AsyncioQueue,
        MarketDataReplayer,
        MarketDataReplayerConfig,
        TradingPair,
    )

    queue = AsyncioQueue(capacity=256)
    rep = MarketDataReplayer(MarketDataReplayerConfig(
        exchange="BINANCE", ticker=TradingPair(base="BTC", quote="USDT"),
        file_path=str(directory)), queue)
    got = 0

    async def drain() -> None:
        nonlocal got
        while True:
            await queue.poll()
            got += 1

    consumer = asyncio.create_task(drain())
    await rep.start()
    await rep._background_task  # ends at the end of the file
    while not queue._queue.empty():
        await asyncio.sleep(0.001)
    consumer.cancel()
    return got


# ---------------------------------------------------------------- the scale-out broker

_scale_kafka: Any = None


def scale_broker(root: Path) -> str:
    """A broker for the scale-out cases with Kafka's default initial rebalance delay (3 s);
    `BENCH_SCALE_BOOTSTRAP` names an existing one instead."""
    global _scale_kafka
    import os

    from ttxt_kafka.local_kafka import LocalKafka

    given = os.environ.get("BENCH_SCALE_BOOTSTRAP")
    if given:
        return given
    _scale_kafka = LocalKafka(state_dir=root / "kafka-scale", initial_rebalance_delay_ms=3000)
    return str(_scale_kafka.start(timeout=180.0))


def stop_scale_broker() -> None:
    global _scale_kafka
    if _scale_kafka is not None:
        _scale_kafka.stop()
        _scale_kafka = None


# ---------------------------------------------------------------- timing


@dataclass
class Case:
    name: str
    group: str
    run: Callable[[], float]  # does one round, returns the seconds of its timed part
    samples: list[float] = field(default_factory=list)  # seconds


def run_rounds(cases: list[Case], rounds: int) -> None:
    """Round-robin (A B C, A B C, ...) after one untimed warm-up round, so a noisy spell on a
    shared machine hits every case alike."""
    for i in range(rounds + 1):
        for case in cases:
            gc.collect()
            if not gc_in_timed_region():
                gc.disable()
            try:
                elapsed = case.run()
            finally:
                gc.enable()
            if i:
                case.samples.append(elapsed)


def _rate(case: Case, n: int) -> float:
    return n / statistics.median(case.samples)


# ---------------------------------------------------------------- the benchmark


def run() -> tuple[Report, list[str]]:
    from benchmarks import ours_recorder as ours
    from ttxt_kafka import testing

    logging.getLogger("aiokafka").setLevel(logging.ERROR)
    n = int_from_env("BENCH_RECORD_EVENTS", 100_000)
    rounds = rounds_from_env(3)
    data = make_book_data(n_deltas=n)
    report = Report(BENCH, BASELINE, params={"events": n, "levels_per_delta": 10,
                                             "rounds": rounds})
    root = Path(tempfile.mkdtemp(prefix="bench-recorder-"))
    lines: list[str] = []
    try:
        inp = ours.prepare(data)
        try:
            events = seed_events(data)
            seed_dir = root / "seed"
            # The seed logs every batch and chunk (its logger is set up when it is imported).
            logging.getLogger("TTXT_V2").setLevel(logging.WARNING)
        except ImportError as exc:
            events = []
            report.unavailable.append(Unavailable("seed", f"ttxt2 not installed ({exc})"))
        bootstrap = testing.kafka_bootstrap_for_tests()
        asyncio.run(ours.fill_topic(bootstrap, inp))
        files = root / "ours"
        ours.record_files(inp, files)  # what the replay cases read
        recorded = ours.stored_records(files)
        assert len(recorded) == n

        def seed_rec() -> float:
            shutil.rmtree(seed_dir, ignore_errors=True)
            seed_dir.mkdir(parents=True)
            t0 = time.perf_counter()
            asyncio.run(seed_record(seed_dir, events))
            return time.perf_counter() - t0

        def seed_rep() -> float:
            seed_concatenate(seed_dir)  # untimed: makes the file name its replayer opens
            t0 = time.perf_counter()
            got = asyncio.run(seed_replay(seed_dir))
            assert got == n, f"seed replayed {got} of {n}"
            return time.perf_counter() - t0

        def ours_files() -> float:
            out = ours.fresh_dir(root, "ours-files")
            t0 = time.perf_counter()
            ours.record_files(inp, out)
            return time.perf_counter() - t0

        def ours_kafka() -> float:
            out = ours.fresh_dir(root, "ours-kafka")
            t0 = time.perf_counter()
            written = asyncio.run(ours.record_from_kafka(bootstrap, inp, out))
            elapsed = time.perf_counter() - t0
            assert written == n, f"recorded {written} of {n}"
            return elapsed

        def timed(fn: Callable[[], int]) -> Callable[[], float]:
            def run_case() -> float:
                t0 = time.perf_counter()
                got = fn()
                elapsed = time.perf_counter() - t0
                assert got == n, f"{got} events instead of {n}"
                return elapsed
            return run_case

        def bare() -> float:
            topic = f"{inp.prefix}.bare.b{time.time_ns()}"
            asyncio.run(ours.bare_producer(bootstrap, recorded, topic))
            return ours.last_timed()

        def bare_batches() -> float:
            topic = f"{inp.prefix}.bare.c{time.time_ns()}"
            asyncio.run(ours.bare_batches(bootstrap, recorded, topic))
            return ours.last_timed()

        def to_kafka() -> float:
            asyncio.run(ours.replay_to_kafka(bootstrap, files, inp.prefix))
            return ours.last_timed()

        def bare_consume() -> float:
            t0 = time.perf_counter()
            got = asyncio.run(ours.bare_consume(bootstrap, inp, n))
            elapsed = time.perf_counter() - t0
            assert got == n, f"consumed {got} of {n}"
            return elapsed

        def files_codec(codec: str) -> Callable[[], float]:
            def run_case() -> float:
                out = ours.fresh_dir(root, f"ours-files-{codec}")
                t0 = time.perf_counter()
                ours.record_files(inp, out, codec)
                return time.perf_counter() - t0
            return run_case

        # Scale-out: the records BENCH_SCALE_COPIES times over a 6-partition topic, recorded by
        # one process, then by two processes in one group (a directory each), on a broker of
        # its own with Kafka's default initial rebalance delay (3 s: members that start
        # together are assigned their shares together, as on a production cluster; the
        # other broker forms groups at once, which hands the first member every partition
        # until the second joins). Timed from the last member's report of its assignment.
        scale_bootstrap = scale_broker(root)
        scale_topic = f"{inp.prefix}.scale.book"
        n_scale = asyncio.run(ours.fill_partitioned(scale_bootstrap, inp, scale_topic,
                                                    int_from_env("BENCH_SCALE_COPIES", 6)))
        scale_split: dict[int, list[list[int]]] = {1: [], 2: []}
        scale_wall: dict[int, list[float]] = {1: [], 2: []}

        def scale(members: int) -> Callable[[], float]:
            def run_case() -> float:
                run = uuid.uuid4().hex[:8]
                outs = [ours.fresh_dir(root, f"scale{members}-{i}") for i in range(members)]
                elapsed, wall = ours.record_processes(scale_bootstrap, scale_topic, outs,
                                                      f"{inp.prefix}-x{members}-{run}")
                scale_split[members].append(ours.exactly_once(outs, scale_topic, n_scale, 6))
                scale_wall[members].append(wall)
                return elapsed
            return run_case

        cases = [
            Case("bare aiokafka consumer", "consume", bare_consume),
            Case("ours, files", "record", ours_files),
            Case("ours, files, zstandard", "record", files_codec("zstandard")),
            Case("ours, files, null", "record", files_codec("null")),
            Case("ours, Kafka", "record", ours_kafka),
            Case("decode alone", "replay", timed(lambda: ours.decode_alone(inp.values))),
            Case("ours, records", "replay", timed(lambda: ours.replay_raw(files))),
            Case("ours, iter", "replay",
                 timed(lambda: asyncio.run(ours.replay_typed_iterator(files)))),
            Case("ours, queue", "replay",
                 timed(lambda: asyncio.run(ours.replay_typed_queue(files)))),
            Case("bare aiokafka", "kafka", bare),
            Case("bare aiokafka, batches", "kafka", bare_batches),
            Case("ours, files -> Kafka", "kafka", to_kafka),
            Case("recorder x1", "scale", scale(1)),
            Case("recorder x2", "scale", scale(2)),
        ]
        if events:
            seed_rec()  # so that the replay case has a recording even before its first round
            cases[0:0] = [Case("seed", "record", seed_rec)]
            cases.insert(3, Case("seed", "replay", seed_rep))
        run_rounds(cases, rounds)

        seed_bytes = (sum(p.stat().st_size for p in seed_dir.glob("BINANCE_BTC_USDT_*.bin"))
                      if events else 0)
        codec_bytes = {}
        for codec in ("deflate", "zstandard", "null"):
            out = ours.fresh_dir(root, f"codec-{codec}")
            ours.record_files(inp, out, codec)
            codec_bytes[codec] = ours.file_bytes(out)
        lines = _summary(cases, n, seed_bytes, codec_bytes, report)
        lines += _limits(cases, n, n_scale, scale_split, scale_wall)
    finally:
        stop_scale_broker()
        shutil.rmtree(root, ignore_errors=True)
        testing.stop()
    return report, lines


def _summary(cases: list[Case], n: int, seed_bytes: int,
             codec_bytes: dict[str, tuple[int, int]], report: Report) -> list[str]:
    by = {(c.group, c.name): c for c in cases}
    for c in cases:
        report.results.append(Result(f"{c.name}", c.group, "µs/event",
                                     statistics.median(c.samples) / n * 1e6,
                                     [s / n * 1e6 for s in c.samples]))

    def rate(group: str, name: str) -> float | None:
        c = by.get((group, name))
        return _rate(c, n) if c else None

    def row(what: str, value: float | None, base: float | None, target: float | None,
            unit: str = "ev/s", higher: bool = True) -> str:
        if value is None:
            return f"| {what} | not run | | |"
        shown = f"{value:,.0f} {unit}" if unit == "ev/s" else f"{value:.1f} {unit}"
        if base:
            ratio = value / base if higher else base / value
            verdict = "" if target is None else (" ✓" if ratio >= target else
                                                 f" ✗ (target {target:g}×)")
            shown_ratio = f"{ratio:.2f}×" if ratio < 10 else f"{ratio:,.1f}×"
            return f"| {what} | {shown} | {shown_ratio} | {verdict.strip() or '—'} |"
        return f"| {what} | {shown} | | |"

    seed_rec, seed_rep = rate("record", "seed"), rate("replay", "seed")
    bare = rate("kafka", "bare aiokafka")
    bare_b = rate("kafka", "bare aiokafka, batches")
    default = codec_bytes["deflate"][0] / n
    lines = [
        "| | median | vs seed / baseline | target |",
        "|---|---:|---:|---|",
        row("seed: record (queue -> files)", seed_rec, None, None),
        row("ours: record, file stage (fetched records -> fsynced files)",
            rate("record", "ours, files"), seed_rec, 50),
        row("ours: record, end to end (topic -> fsynced files, committed)",
            rate("record", "ours, Kafka"), seed_rec, 50),
        row("seed: bytes per event on disk", seed_bytes / n if seed_bytes else None, None,
            None, "B"),
        row("ours: bytes per event (deflate level 1, the default)", default,
            seed_bytes / n if seed_bytes else None, 4, "B", higher=False),
        row("ours: bytes per event (zstandard)", codec_bytes["zstandard"][0] / n,
            seed_bytes / n if seed_bytes else None, None, "B", higher=False),
        row("ours: bytes per event (null: no compression)", codec_bytes["null"][0] / n,
            seed_bytes / n if seed_bytes else None, None, "B", higher=False),
        row("seed: replay into the process (typed events -> AsyncioQueue)", seed_rep, None,
            None),
        row("ours: replay into the process, typed events -> AsyncioQueue",
            rate("replay", "ours, queue"), seed_rep, 100),
        row("ours: replay into the process, typed events (async iterator)",
            rate("replay", "ours, iter"), seed_rep, 100),
        row("ours: replay into the process, records as on Kafka (no decoding)",
            rate("replay", "ours, records"), seed_rep, 100),
        row("bare aiokafka producer, send() per record, the same records", bare, None, None),
        row("bare aiokafka producer, batch API, the same records", bare_b, None, None),
        row("ours: replay files -> Kafka, vs bare send()", rate("kafka", "ours, files -> Kafka"),
            bare, 0.8),
        row("ours: replay files -> Kafka, vs bare batch API",
            rate("kafka", "ours, files -> Kafka"), bare_b, 0.8),
    ]
    idx = codec_bytes["deflate"][1] / n
    lines.append("")
    lines.append(f"Index beside the files: {idx:.1f} B/event more. {n:,} events, median of "
                 f"{len(cases[0].samples)} rounds; spreads (max-min)/median: " + ", ".join(
                     f"{c.group}/{c.name} {_spread(c):.0%}" for c in cases) + ".")
    return lines


def _limits(cases: list[Case], n: int, n_scale: int, split: dict[int, list[list[int]]],
            wall: dict[int, list[float]]) -> list[str]:
    """Issue 18's figures: each against its limit, measured in the same run."""
    by = {(c.group, c.name): c for c in cases}

    def rate(group: str, name: str, events: int = n) -> float:
        return events / statistics.median(by[(group, name)].samples)

    def row(what: str, value: float, limit_name: str, limit: float, target: float) -> str:
        ratio = value / limit
        verdict = "met" if ratio >= target else "missed"
        return (f"| {what} | {value:,.0f} ev/s | {limit_name} {limit:,.0f} ev/s | "
                f"{ratio:.2f}× | ≥ {target:g}× — {verdict} |")

    rounds = len(cases[0].samples)
    x1, x2 = rate("scale", "recorder x1", n_scale), rate("scale", "recorder x2", n_scale)
    lines = [
        "", f"### Against the limits (issue 18), median of {rounds} rounds", "",
        "| | ours | limit | ratio | target |", "|---|---:|---:|---:|---|",
        row("recorder, end to end from Kafka (topic -> fsynced files, committed)",
            rate("record", "ours, Kafka"), "bare aiokafka consumer (getmany)",
            rate("consume", "bare aiokafka consumer"), 0.7),
        row(f"recorder x2 processes, one group, 6 partitions, {n_scale:,} events",
            x2, "recorder x1", x1, 1.6),
        row("replay files -> typed events in the process (async iterator)",
            rate("replay", "ours, iter"), "decode alone", rate("replay", "decode alone"), 0.8),
        "",
        "File stage by codec: " + ", ".join(
            f"{name} {rate('record', case):,.0f} ev/s" for name, case in (
                ("deflate-1 (default)", "ours, files"), ("zstandard", "ours, files, zstandard"),
                ("null", "ours, files, null"))) + ".",
        "Records per directory, x2 (every round checked exactly once from the block "
        f"indexes): {split[2]}.",
        "x1 / x2 from starting the processes to the last exit (start-up and the group's "
        f"formation included): {n_scale / statistics.median(wall[1]):,.0f} / "
        f"{n_scale / statistics.median(wall[2]):,.0f} ev/s "
        f"({statistics.median(wall[1]) / statistics.median(wall[2]):.2f}×).",
    ]
    return lines


def _spread(c: Case) -> float:
    m = statistics.median(c.samples)
    return (max(c.samples) - min(c.samples)) / m if m else 0.0


def main() -> None:
    report, lines = run()
    print("\n## Recorder and replayer vs the seed (ttxt2 0.1.4)\n")
    print(", ".join(f"{k}={v}" for k, v in report.params.items()) + "\n")
    print("\n".join(lines))
    for u in report.unavailable:
        print(f"- {u.name}: not run ({u.reason})")
    path = write_json(report)
    print(f"\n(results: {path})")


if __name__ == "__main__":
    main()
