"""The merge: exchange-time order, stable, a partition's own order kept — and the block-wise
merge gives exactly the record-wise one."""

from __future__ import annotations

import random
from typing import Any

from ttxt_kafka.replayer.merge import merge_by_time, merge_runs


def _inputs(rng: random.Random) -> list[list[list[dict[str, Any]]]]:
    inputs = []
    for i in range(rng.randint(1, 5)):
        ts = sorted(rng.randint(0, 30) for _ in range(rng.randint(0, 40)))
        if ts and rng.random() < 0.2:
            rng.shuffle(ts)  # an exchange whose timestamps step back
        records = [{"ts": t, "id": (i, k)} for k, t in enumerate(ts)]
        blocks, k = [], 0
        while k < len(records):
            n = rng.randint(1, 7)
            blocks.append(records[k:k + n])
            k += n
        inputs.append(blocks)
    return inputs


def test_merge_is_by_time_stable_and_keeps_each_input_in_order() -> None:
    rng = random.Random(7)
    for _ in range(300):
        inputs = _inputs(rng)
        flat = [[r for b in blocks for r in b] for blocks in inputs]
        merged = list(merge_by_time(iter(f) for f in flat))  # type: ignore[arg-type]
        assert sorted(r["id"] for r in merged) == sorted(r["id"] for f in flat for r in f)
        for i, f in enumerate(flat):  # each input's own order
            assert [r for r in merged if r["id"][0] == i] == f
        if all(f == sorted(f, key=lambda r: r["ts"]) for f in flat):
            # monotone inputs: a stable sort by time, ties by input number
            assert merged == sorted(merged, key=lambda r: (r["ts"], r["id"][0]))
        runs = merge_runs(iter(blocks) for blocks in inputs)  # type: ignore[arg-type]
        assert [r for run in runs for r in run] == merged
