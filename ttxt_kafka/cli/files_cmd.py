"""`ttxt files DIR`: the recorder's files with their time span, event count and size."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path

from .common import CliError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("files", help="list recorded files: time span, events, size")
    p.add_argument("dir", type=Path)
    p.add_argument("--json", action="store_true", help="one JSON object per file")
    p.set_defaults(func=run)


def _time(ts_us: int | None) -> str:
    if ts_us is None:
        return "-"
    return datetime.fromtimestamp(ts_us / 1e6, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def _size(n: int) -> str:
    if n < 1000:
        return f"{n} B"
    x = float(n)
    for unit in ("KB", "MB", "GB", "TB"):
        x /= 1000
        if x < 1000 or unit == "TB":
            break
    return f"{x:.1f} {unit}"


def run(args: argparse.Namespace) -> int:
    from ttxt_kafka.archive.files import list_files, scan_file

    if not args.dir.is_dir():
        raise CliError(f"{args.dir} is not a directory")
    infos = [info for p in list_files(args.dir) if (info := scan_file(p)) is not None]
    if args.json:
        for i in infos:
            print(json.dumps({
                "file": i.path.name, "stream": i.stream, "events": i.count,
                "blocks": len(i.entries), "bytes": i.size, "min_ts": i.min_ts,
                "max_ts": i.max_ts, "codec": i.header.codec if i.header else None,
                "torn_bytes": i.torn_bytes,
                "damage": [{"pos": pos, "problem": what} for pos, what in i.damage],
            }))
        return 0
    if not infos:
        print(f"no recorder files in {args.dir}")
        return 0
    width = max(len(i.path.name) for i in infos)
    print(f"{'file':<{width}}  {'from (UTC)':<23}  {'to (UTC)':<23}  {'events':>11}  "
          f"{'size':>9}  {'B/event':>7}")
    for i in infos:
        per = f"{i.size / i.count:.0f}" if i.count else "-"
        notes = [f"  DAMAGED at byte {pos}: {what}" for pos, what in i.damage]
        if i.torn_bytes:
            notes.insert(0, f"  incomplete tail: {i.torn_bytes} bytes (being written, or torn)")
        note = "".join(notes)
        print(f"{i.path.name:<{width}}  {_time(i.min_ts):<23}  {_time(i.max_ts):<23}  "
              f"{i.count:>11,}  {_size(i.size):>9}  {per:>7}{note}")
    total = sum(i.count for i in infos)
    size = sum(i.size for i in infos)
    streams = len({i.stream for i in infos})
    print(f"{len(infos)} files, {streams} streams, {total:,} events, {_size(size)}")
    return 0
