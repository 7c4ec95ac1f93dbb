"""The README's command table names every `ttxt` command, and nothing that is not one."""

from __future__ import annotations

import argparse
import re
import shlex
import subprocess
from pathlib import Path

import pytest

from ttxt_kafka.cli import build_parser, main

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


def readme_commands() -> list[str]:
    """Every `ttxt ...` command in the README's sh/bash code blocks, continuation lines joined
    (comments stay: shlex drops them)."""
    text = README.read_text(encoding="utf-8")
    out = []
    for block in re.findall(r"^```(?:sh|bash)\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL):
        joined = re.sub(r"\\\n\s*", " ", block)
        out += [line.strip() for line in joined.splitlines() if line.strip().startswith("ttxt ")]
    return out


def readme_demo_commands() -> list[str]:
    """The README commands that end by themselves on a local broker: on the demo's recording
    (`demo-out/`), or bounded (`--check`, `--until-end`, `--once`). tests/test_demo.py runs each
    of them, exactly as written, after the demo (from a folder with demo-out/ and examples/,
    like the repository after `make demo`); tests/test_readme_tours.py runs the two tours."""
    bounded = ("--check", "--until-end", "--once")
    return [c for c in readme_commands()
            if "demo-out/" in c or (any(b in shlex.split(c, comments=True) for b in bounded)
                                    and "--bootstrap" not in c)]


def test_every_readme_command_parses() -> None:
    parser = build_parser()
    checked, bad = 0, []
    for command in readme_commands():
        args = [a for a in shlex.split(command, comments=True)[1:] if a != "&"]  # & : background
        if any("..." in a or a.startswith("<") for a in args):
            continue  # a template, not a command
        try:
            parser.parse_args(args)
        except SystemExit:
            bad.append(command)
        checked += 1
    assert bad == [], "README commands that do not parse:\n" + "\n".join(bad)
    assert checked >= 30


def test_the_readme_runs_its_recorder_replay_and_backtest_commands_on_the_demo_data() -> None:
    commands = readme_demo_commands()
    for wanted in ("ttxt files demo-out/data/", "ttxt replay --files demo-out/data/",
                   "ttxt backtest ttxt_kafka.strategies.examples.market_maker:MarketMaker"):
        assert any(c.startswith(wanted) for c in commands), wanted
    assert not [c for c in readme_commands() if "SOL/USDT" in c or "--files data/" in c]


@pytest.mark.parametrize("argv", [
    ["connect", "{tmp}/missing.yaml"],
    ["run", "{tmp}/missing.yaml"],
    ["files", "{tmp}/missing"],
    ["replay", "--files", "{tmp}", "--print"],
])
def test_errors_have_one_style_across_commands(argv: list[str], tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    code = main([a.replace("{tmp}", str(tmp_path)) for a in argv])
    err = capsys.readouterr().err
    assert code != 0
    assert err.startswith("ttxt: error: ") and err.count("ttxt: error: ") == 1, err


def test_make_demo_says_each_set_up_step() -> None:
    plan = subprocess.run(["make", "-n", "-B", "setup", "demo"], cwd=README.parent,
                          capture_output=True, text=True, timeout=60).stdout
    steps = [line for line in plan.splitlines() if line.startswith('echo "==>')]
    assert [s.split(":", 1)[0] for s in steps[:3]] == [
        'echo "==> setup 1/3', 'echo "==> setup 2/3', 'echo "==> setup 3/3']
    assert "creating the environment" in steps[1] and "installing" in steps[2]
    assert any("fetches" in s and "Kafka" in s for s in steps)
    assert "pip install --quiet -e" not in plan  # pip's progress is shown


def test_the_readme_says_what_best_bid_returns() -> None:
    from ttxt_kafka.book import Book
    from ttxt_kafka.events import OrderBook, UpdateType

    book = Book()
    book.update(OrderBook(venue="v", symbol="A/B", exchange_ts=1, receive_ts=1,
                          update_type=UpdateType.SNAPSHOT, bids=[["1.50", "2"]],
                          asks=[["1.60", "3"]]))
    assert book.best_bid() == ("1.50", "2") and book.best_ask() == ("1.60", "3")
    text = README.read_text(encoding="utf-8")
    assert "`best_bid()`, `best_ask()` (a `(price, qty)`\ntuple of the exchange's strings" in text
