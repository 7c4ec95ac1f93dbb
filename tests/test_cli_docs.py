"""The README's command table names every `ttxt` command, and nothing that is not one."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from ttxt_kafka.cli import build_parser

README = Path(__file__).resolve().parents[1] / "README.md"


def parser_commands() -> set[str]:
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return set(subparsers.choices)


def readme_table_commands() -> set[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Command line\n", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `ttxt ([a-z-]+)", section, flags=re.MULTILINE))


def test_readme_command_table_matches_the_parser() -> None:
    documented, real = readme_table_commands(), parser_commands()
    missing, unknown = real - documented, documented - real
    assert missing == set(), f"commands missing from the README table: {missing}"
    assert unknown == set(), f"README names commands that do not exist: {unknown}"
