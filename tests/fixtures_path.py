"""Where the shared exchange fixtures are (same API as the simulator's `tests/sim_fixtures.py`).

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
        pytest.skip(msg)
    return path


# A `//` comment: outside strings only (the string alternative is matched first and kept).
_COMMENT = re.compile(r'("(?:[^"\\]|\\.)*")|//[^\n]*')


def strip_jsonc(text: str) -> str:
    """JSON from the docs' commented code blocks: `//` comments removed. The Binance USD-M
    ACCOUNT_UPDATE example also has a full-width comma (U+FF0C) between two objects: a typo of
    the docs, replaced by a comma (outside strings there is no other use for it)."""
    text = _COMMENT.sub(lambda m: m.group(1) or "", text)
    return re.sub(r'("(?:[^"\\]|\\.)*")|\uff0c', lambda m: m.group(1) or ",", text)


def load_json(relative: str) -> Any:
    """A fixture's JSON (`.jsonc` and commented `.json` docs examples included)."""
    return json.loads(strip_jsonc(fixture(relative).read_text(encoding="utf-8")))
