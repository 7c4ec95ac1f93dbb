"""`ttxt files DIR`: the recorder's files with their time span, event count and size.

The listing checks each file's index against the file (its blocks' positions and the file
size) and says when the index is stale; `--verify` also reads and decodes every block. A
damaged file (or, with --verify, a block that does not decode) makes the exit code 1."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from .common import CliError

if TYPE_CHECKING:
    from ttxt_kafka.archive.files import FileInfo


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("files", help="list recorded files: time span, events, size")
    p.add_argument("dir", type=Path)
    p.add_argument("--json", action="store_true", help="one JSON object per file")
    p.add_argument("--verify", action="store_true",
                   help="read and decode every block (slower): finds corrupt blocks that the "
                        "index hides")
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


def _index_note(info: FileInfo) -> str | None:
    """Why the file's index does not describe the file (None: it does)."""
    from ttxt_kafka.archive.index import load_index
    from ttxt_kafka.archive.naming import index_path

    if info.header is None:
        return None
    idx = index_path(info.path)
    if not idx.exists():
        return "no index (read by scanning the blocks)"
    loaded = load_index(idx)
    if loaded == info.entries:
        return None
    end = loaded[-1].end if loaded else info.header.size
    return (f"index stale: it covers {len(loaded)} block(s) up to byte {end:,}, the file has "
            f"{len(info.entries)} readable block(s) and {info.size:,} bytes")


def _verify(info: FileInfo) -> list[tuple[int, str]]:
    """Every block read and decoded, checked against its index entry: what is wrong."""
    from ttxt_kafka.archive.blocks import entry_of, read_block_at

    if info.header is None:
        return []
    problems = []
    with info.path.open("rb") as fo:
        for e in info.entries:
            try:
                got = entry_of(read_block_at(fo, e.pos, info.header, info.size), e.pos,
                               info.header)
            except Exception as exc:  # any decoding failure is damage
                problems.append((e.pos, f"corrupt block ({type(exc).__name__}: {exc})"))
                continue
            if got != e:
                problems.append((e.pos, "block does not match its index entry"))
    return problems


def run(args: argparse.Namespace) -> int:
    from ttxt_kafka.archive.files import list_files, scan_file

    if not args.dir.is_dir():
        raise CliError(f"{args.dir} is not a directory")
    infos = [info for p in list_files(args.dir) if (info := scan_file(p)) is not None]
    stale = {i.path: _index_note(i) for i in infos}
    if args.verify:
        for i in infos:
            i.damage.extend(_verify(i))
    damaged = [i for i in infos if i.damage]
    code = 1 if damaged else 0
    if args.json:
        for i in infos:
            print(json.dumps({
                "file": i.path.name, "stream": i.stream, "events": i.count,
                "blocks": len(i.entries), "bytes": i.size, "min_ts": i.min_ts,
                "max_ts": i.max_ts, "codec": i.header.codec if i.header else None,
                "torn_bytes": i.torn_bytes,
                "damage": [{"pos": pos, "problem": what} for pos, what in i.damage],
                "index": stale[i.path] or "ok", "verified": bool(args.verify),
            }))
        return code
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
        if stale[i.path]:
            notes.insert(0, f"  {stale[i.path]}")
        note = "".join(notes)
        print(f"{i.path.name:<{width}}  {_time(i.min_ts):<23}  {_time(i.max_ts):<23}  "
              f"{i.count:>11,}  {_size(i.size):>9}  {per:>7}{note}")
    total = sum(i.count for i in infos)
    size = sum(i.size for i in infos)
    streams = len({i.stream for i in infos})
    print(f"{len(infos)} files, {streams} streams, {total:,} events, {_size(size)}"
          + (", every block read and decoded" if args.verify else ""))
    if damaged:
        print(f"ttxt: error: {len(damaged)} damaged file(s): "
              + ", ".join(i.path.name for i in damaged), file=sys.stderr)
    elif not args.verify:
        print("(blocks checked against the index only: --verify reads every block)")
    return code
