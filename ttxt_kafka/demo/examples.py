"""Where the example files are: `examples/` of a source checkout, or the copy in the wheel."""

from __future__ import annotations

from pathlib import Path


def examples_dir() -> Path:
    here = Path(__file__).resolve().parent.parent  # ttxt_kafka/
    for candidate in (here.parent / "examples", here / "_examples"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"no examples folder next to {here} (reinstall ttxt-kafka)")


def example_path(name: str) -> Path:
    return examples_dir() / name
