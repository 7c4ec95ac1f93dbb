"""Where the shared exchange fixtures are, for the simulator tests.

`TTXT_FIXTURES` wins; otherwise `../shared/fixtures` relative to the repository, then the same
relative path from each folder above it (so a clone in a worktree folder finds it too). A missing
fixture skips the test with the path it looked for, except under `CI=true`, where it fails.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def fixtures_root() -> Path:
    env = os.environ.get("TTXT_FIXTURES")
    if env:
        return Path(env)
    for folder in REPO.parents:
        candidate = folder / "shared" / "fixtures"
        if candidate.is_dir():
            return candidate
    return REPO.parent / "shared" / "fixtures"


def fixture(relative: str) -> Path:
    """Path of a fixture file; skips (or fails under CI=true) when it is not there."""
    path = fixtures_root() / relative
    if not path.exists():
        msg = f"fixture {relative} not found at {path} (set TTXT_FIXTURES to the fixtures folder)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(msg)
        pytest.skip(msg)
    return path


_BINANCE_WS = "ws_combined_depth100ms_bookTicker_kline1m_aggTrade"
BINANCE_SPOT_WS = f"binance/live_spot_{_BINANCE_WS}__cryptofeed_BINANCE.ws.1.0.txt"
BINANCE_SPOT_DEPTH = (
    "binance/live_spot_rest_depth_snapshots_limit1000__cryptofeed_BINANCE.http.0.0.txt"
)
BINANCE_SPOT_INFO = "binance/live_spot_rest_exchangeInfo__cryptofeed_BINANCE.0.txt"
BINANCE_USDM_WS = f"binance/live_usdm_{_BINANCE_WS}__cryptofeed_BINANCE_FUTURES.ws.1.0.txt"
BINANCE_USDM_DEPTH = (
    "binance/live_usdm_rest_depth_snapshots__cryptofeed_BINANCE_FUTURES.http.0.0.txt"
)
BYBIT_CAPTURE = (
    "bybit/live_v5_public_linear_spot_orderbook200_publicTrade_kline1_tickers"
    "__cryptofeed_v3_BYBIT.jsonl"
)
