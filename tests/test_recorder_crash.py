"""Exactly once into the files: the recorder is SIGKILLed at 10 random moments while a producer
keeps producing, and restarted each time. At the end the files hold every produced record once,
in order (the test prints the lost and doubled counts: both must be 0)."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from recorder_helpers import (
    REPO,
    ensure_history_topics,
    fresh_prefix,
    market_records,
    read_with_fastavro,
)

from ttxt_kafka.archive.files import list_files
from ttxt_kafka.bus.kafka_queue import producer_defaults
from ttxt_kafka.replayer import FileSource

pytestmark = pytest.mark.kafka

KILLS = 10
RATE = 2000  # records per second the producer keeps up


async def _keep_producing(bootstrap: str, prefix: str, stop: asyncio.Event,
                          placed: dict[tuple[str, int, int], bytes]) -> None:
    """Produce in small batches until told to stop; note where each record landed."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **producer_defaults())
    await producer.start()
    i = 0
    try:
        while not stop.is_set():
            batch = market_records(prefix, 20, venues=["binance", "bybit_linear"],
                                   symbols=["BTC/USDT", "ETH/USDT"], t0=1_700_000_000_000_000
                                   + i * 1000)
            futures = [await producer.send(r.topic, r.value, key=r.key,
                                           headers=list(r.headers), timestamp_ms=r.timestamp_ms)
                       for r in batch]
            for r, meta in zip(batch, await asyncio.gather(*futures), strict=True):
                placed[(meta.topic, meta.partition, meta.offset)] = r.value
            i += len(batch)
            await asyncio.sleep(len(batch) / RATE)
    finally:
        await producer.stop()


def _recorder(bootstrap: str, prefix: str, out: Path, log: Path,
              *extra: str) -> subprocess.Popen[bytes]:
    with log.open("ab") as err:  # a file, not a pipe: a killed process never blocks on it
        return subprocess.Popen(
            [sys.executable, "-m", "recorder", "--out", str(out), "--bootstrap", bootstrap,
             "--prefix", prefix, "--group", f"{prefix}-rec", "--block-size", "50",
             "--max-delay", "0.1", *extra],
            cwd=REPO, stdout=subprocess.DEVNULL, stderr=err)


async def test_sigkill_at_10_random_moments_loses_and_doubles_nothing(
    kafka_bootstrap: str, tmp_path: Path,
) -> None:
    seed = int(os.environ.get("TTXT_CRASH_SEED", time.time_ns() % 1_000_000))
    rng = random.Random(seed)
    prefix = fresh_prefix()
    topics = [f"{prefix}.{v}.{c}" for v in ("binance", "bybit_linear")
              for c in ("book", "trades", "bbo")]
    await ensure_history_topics(kafka_bootstrap, topics)
    out = tmp_path / "rec"
    log = tmp_path / "recorder.log"
    placed: dict[tuple[str, int, int], bytes] = {}
    stop = asyncio.Event()
    producing = asyncio.create_task(_keep_producing(kafka_bootstrap, prefix, stop, placed))
    sizes = []
    try:
        for n in range(KILLS):
            proc = _recorder(kafka_bootstrap, prefix, out, log)
            before = sum(p.stat().st_size for p in list_files(out))
            if n % 2:  # every other kill lands while it writes, however slow its start-up
                deadline = time.monotonic() + 60
                while (sum(p.stat().st_size for p in list_files(out)) <= before
                       and time.monotonic() < deadline and proc.poll() is None):
                    await asyncio.sleep(0.05)
                await asyncio.sleep(rng.uniform(0.0, 0.5))
            else:  # from mid-start-up (imports, recovery, group join) to well into recording
                await asyncio.sleep(rng.uniform(0.3, 2.5))
            assert proc.poll() is None, log.read_text()
            proc.send_signal(signal.SIGKILL)
            await asyncio.to_thread(proc.wait)
            sizes.append(sum(p.stat().st_size for p in list_files(out)))
    finally:
        stop.set()
        await producing
    # The last run reads what is left and stops.
    last = _recorder(kafka_bootstrap, prefix, out, log, "--until-end")
    assert await asyncio.to_thread(last.wait, 120) == 0, log.read_text()

    found = Counter((r["topic"], r["partition"], r["offset"]) for _, r in read_with_fastavro(out))
    lost = len(set(placed) - set(found))
    doubled = sum(n - 1 for n in found.values() if n > 1)
    unknown = len(set(found) - set(placed))
    print(f"\nSIGKILL x{KILLS} (seed {seed}): {len(placed):,} produced, {sum(found.values()):,} "
          f"in the files; lost {lost}, doubled {doubled}; files grew {sizes}")
    if lost:
        missing = sorted(set(placed) - set(found))
        ends: dict[tuple[str, int], int] = {}
        for t, p, o in placed:
            ends[(t, p)] = max(ends.get((t, p), -1), o)
        print("lost:", missing[:20], "partition ends:", {k: ends[k] for k in {
            (t, p) for t, p, _ in missing}})
    assert (lost, doubled, unknown) == (0, 0, 0)
    # Most kills hit a recorder that was writing (not one still starting up).
    assert sum(b > a for a, b in zip([0, *sizes], sizes, strict=False)) >= 3

    # In order: each (ticker, partition) chain holds its offsets strictly increasing, and the
    # bytes are the produced ones.
    source = FileSource(out)
    for chain in source.chains():
        offsets = []
        for r in source.iter_chain(chain):
            assert r["value"] == placed[(r["topic"], r["partition"], r["offset"])]
            offsets.append(r["offset"])
        assert offsets == sorted(set(offsets)), f"{chain.stream} {chain.topic}"
