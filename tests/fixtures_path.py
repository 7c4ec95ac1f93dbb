"""Where the shared exchange fixtures are, and the names of the captures the tests use.

`TTXT_FIXTURES` wins; otherwise `../shared/fixtures` relative to the repository, then the same
relative path from each folder above it (so a clone in a worktree folder finds it too). A missing
fixture skips the test with the path it looked for, except under `CI=true`, where it fails.
Fixtures are read in place, never copied into the project.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

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
        pytest.skip(msg, allow_module_level=True)  # also from a module-level parametrization
    return path


# A `//` comment: outside strings only (the string alternative is matched first and kept).
_COMMENT = re.compile(r'("(?:[^"\\]|\\.)*")|//[^\n]*')


def strip_jsonc(text: str) -> str:
    """JSON from the docs' commented code blocks: `//` comments and trailing commas removed.
    The Binance USD-M ACCOUNT_UPDATE example also has a full-width comma (U+FF0C) between two
    objects: a typo of the docs, replaced by a comma (outside strings it has no other use)."""
    text = _COMMENT.sub(lambda m: m.group(1) or "", text)
    text = re.sub(r'("(?:[^"\\]|\\.)*")|\uff0c', lambda m: m.group(1) or ",", text)
    return re.sub(r'("(?:[^"\\]|\\.)*")|,(\s*[}\]])', lambda m: m.group(1) or m.group(2), text)


def load_json(relative: str) -> Any:
    """A fixture's JSON (`.jsonc` and commented `.json` docs examples included)."""
    return json.loads(strip_jsonc(fixture(relative).read_text(encoding="utf-8")))


# The live captures the simulator and connector tests replay (see MANIFEST.md).
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
BINANCE_USDM_INFO = "binance/live_usdm_rest_exchangeInfo__cryptofeed_BINANCE_FUTURES.0.txt"
BYBIT_CAPTURE = (
    "bybit/live_v5_public_linear_spot_orderbook200_publicTrade_kline1_tickers"
    "__cryptofeed_v3_BYBIT.jsonl"
)
BITGET_SPOT_WS = (
    "bitget/live_ws_V1_spot_books_checksum_trade_candle_ticker__cryptofeed_BITGET.ws.1.0.txt"
)
BITGET_MIX_WS = (
    "bitget/live_ws_V1_mix_books_checksum_trade_candle_ticker__cryptofeed_BITGET.ws.2.0.txt"
)
BITGET_REST = "bitget/live_rest_V1_products_contracts__cryptofeed_BITGET.0.txt"
OKX_WS = "okx/live_ws_v5_public_books_checksum_trades_tickers__cryptofeed_OKX.ws.1.0.txt"
