"""The demo's summary, printed: short, aligned, every number checked rather than claimed."""

from __future__ import annotations

import contextlib
import shutil
import sys
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from ..topics import MARKET_DATA_CHANNELS
from .examples import example_path

if TYPE_CHECKING:
    from .run import DemoResult


def _rel(path: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(path.relative_to(Path.cwd())) + "/"
    return str(path) + "/"


def _size(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"


def _dec(value: Decimal, places: str = "0.0001") -> str:
    return f"{value.quantize(Decimal(places)):+,}"


def _ttxt() -> str:
    """How the reader runs ttxt: the venv's, when that is what runs now."""
    exe = Path(sys.argv[0])
    with contextlib.suppress(ValueError):
        rel = exe.resolve().relative_to(Path.cwd())
        return str(rel) if exe.name == "ttxt" else "ttxt"
    return "ttxt"


def print_summary(r: DemoResult, out: TextIO) -> None:
    def say(text: str = "") -> None:
        out.write(text + "\n")

    say()
    say(f"Events per topic (records on Kafka under {r.prefix}.):")
    width = max((len(t) for t in r.counts), default=20)
    for name, n in sorted(r.counts.items()):
        if n:
            say(f"  {name:<{width}}  {n:>9,}")
    say(f"  {'total':<{width}}  {sum(r.counts.values()):>9,}")
    recorded = sum(n for t, n in r.counts.items() if t.rsplit(".", 1)[-1] in MARKET_DATA_CHANNELS)
    say(f"  The recorder records the market-data channels ({', '.join(MARKET_DATA_CHANNELS)}): "
        f"{recorded:,} of these records, the files' events below; the others (orders, "
        "executions, account, status, instruments, klines_agg) stay on Kafka only.")

    say()
    equal = sum(1 for b in r.books if b.equal)
    say(f"Books verified: {equal}/{len(r.books)} equal level by level, string by string — the "
        "connector's own book = rebuilt from the topic = rebuilt from the recorded files")
    for b in r.books:
        book = b.connector or b.topic or b.files
        bid = book.best_bid() if book else None
        ask = book.best_ask() if book else None
        depth = book.depth() if book else (0, 0)
        verdict = "ok " if b.equal else "MISMATCH"
        say(f"  {verdict} {b.venue + ' ' + b.symbol:<22} bid {bid[0] if bid else '-':>16}  "
            f"ask {ask[0] if ask else '-':>16}  {depth[0]}x{depth[1]} levels")
        if not b.equal:
            for what, other in (("topic", b.topic), ("files", b.files)):
                if other is None or other != b.connector:
                    say(f"      the book rebuilt from the {what} differs")

    say()
    total = sum(i.count for i in r.files)
    size = sum(i.size for i in r.files)
    say(f"Files written: {len(r.files)} in {_rel(r.data_dir)}, {total:,} events, {_size(size)} "
        f"({size / total:.0f} B/event)" if total else f"Files written: none in {_rel(r.data_dir)}")
    for i in r.files:
        say(f"  {i.path.name:<56} {i.count:>8,} events  {_size(i.size):>9}")
    if r.replay is not None:
        rate = r.replay.events / r.replay.seconds if r.replay.seconds else 0
        kinds = ", ".join(f"{n:,} {t}" for t, n in r.replay.by_type.most_common())
        say(f"  replayed: {r.replay.events:,} events in {r.replay.seconds:.2f} s ({rate:,.0f}/s),"
            f" merged by exchange time: {kinds}")

    say()
    if not r.trading:
        say("Market maker: no orders (its venue's connector has no trading section)")
    for t in r.trading:
        c = t.commands
        placed = c.get("CreateOrder", 0)
        say(f"Market maker on {t.venue} ({t.mode}): {placed:,} orders placed, "
            f"{c.get('AmendOrder', 0):,} amended, {c.get('CancelOrder', 0):,} canceled; "
            f"{t.accepted:,} accepted, {t.rejected:,} rejected; {t.fills:,} fills "
            f"(bought {t.bought.normalize():f}, sold {t.sold.normalize():f})")
        if t.reject_reasons:
            reason, n = t.reject_reasons.most_common(1)[0]
            say(f"  most common rejection ({n}): {reason}")
        marks = {k.split(" ", 1)[1]: v for k, v in r.marks.items()
                 if k.startswith(t.venue + " ") and v is not None}
        for symbol, pos in sorted(t.position.items()):
            mark = marks.get(symbol)
            pnl = t.cash[symbol] + pos * mark if mark is not None else None
            quote = symbol.partition("/")[2]
            say(f"  {symbol}: position {_dec(pos, '0.00001')}, cash {_dec(t.cash[symbol], '0.01')}"
                f" {quote}, PnL at the final mid {mark}: "
                f"{_dec(pnl, '0.01') if pnl is not None else '?'} {quote} (fees included)")
        paid = {k: v for k, v in t.fees.items() if v}
        say("  fees paid: " + (", ".join(f"{v.normalize():f} {k}" for k, v in paid.items())
                               if paid else "none (maker fee 0 in the paper account)"))

    say()
    say(f"Candles: {r.candles:,} 1 s and 1 m klines built from trades on "
        f"{r.prefix}.<venue>.klines_agg")
    if r.monitor_lines:
        say(f"Spread monitor: {len(r.monitor_lines):,} lines printed (mid and spread on a top "
            "of book change, at most once a second per symbol) "
            f"({_rel(r.out_dir)}spread_monitor.txt), last: {r.monitor_lines[-1]}")
    if r.backtest is not None:
        b = r.backtest
        bt_pnl = ", ".join(f"{_dec(t['total'], '0.01')} {q}" for q, t in b.totals.items()) or "0"
        say(f"Backtest of the same market maker over the recorded files (ttxt backtest): "
            f"{b.stats.events:,} events, {sum(b.stats.commands.values()):,} commands, "
            f"{b.stats.fills:,} fills, PnL {bt_pnl}; report in {_rel(r.out_dir)}backtest/")
    say(f"Chart: {_file(r.chart)}" if r.chart else f"Chart: {r.chart_note}")
    say(f"Logs: {_rel(r.out_dir)}demo.log (every service's log lines; {len(r.metrics_urls)} "
        "services also served /metrics and /health while they ran, as `ttxt run` does)")
    say(f"Look around: {_ttxt()} top --prefix {r.prefix}   |   {_ttxt()} files "
        f"{_rel(r.data_dir)}   |   {_ttxt()} tail {r.prefix}.binance.book --from-beginning")
    say("-" * min(78, shutil.get_terminal_size((78, 20)).columns))
    say("The same pipeline against the live exchanges (market data from Binance and Bybit, "
        "orders on paper):")
    say(f"  {_ttxt()} run {_example(example_path('pipeline_live.yaml'))}")
    out.flush()


def _file(path: str) -> str:
    with contextlib.suppress(ValueError):
        return str(Path(path).relative_to(Path.cwd()))
    return path


def _example(path: Path) -> str:
    with contextlib.suppress(ValueError):
        return str(path.relative_to(Path.cwd()))
    return str(path)
