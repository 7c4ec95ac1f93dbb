"""`ttxt export`: recorded files into Parquet tables for research tools."""

from __future__ import annotations

import argparse
from pathlib import Path

from .common import CliError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "export", help="export recorded files as Parquet tables (trades, book, bbo, klines)",
        description="Export the recorder's files as tidy Parquet tables for pandas, polars or "
                    "DuckDB: OUT/<table>/venue=V/pair=BASE-QUOTE/date=YYYY-MM-DD/part-N.parquet, "
                    "prices and quantities as exact decimal(38, 18), times as UTC timestamps. "
                    "Times: ISO 8601 (UTC unless a zone is given) or seconds / ms / µs since "
                    "the epoch.",
    )
    p.add_argument("--files", type=Path, metavar="DIR", required=True,
                   help="a recorder directory")
    p.add_argument("--format", choices=["parquet"], default="parquet",
                   help="the output format (parquet)")
    p.add_argument("--out", type=Path, metavar="OUT", required=True,
                   help="the output directory (tables are added under it)")
    p.add_argument("--since", metavar="T", help="from this time on (inclusive)")
    p.add_argument("--until", metavar="T", help="up to this time (exclusive)")
    p.add_argument("--venue", action="append", metavar="V", help="only this venue (repeatable)")
    p.add_argument("--symbol", action="append", metavar="S",
                   help="only this symbol, BASE/QUOTE (repeatable)")
    p.add_argument("--channel", action="append", metavar="C",
                   choices=["book", "trades", "bbo", "klines"],
                   help="only this channel (repeatable; default: all four)")
    p.add_argument("--skip-corrupt", action="store_true",
                   help="skip corrupted blocks (and count them) instead of stopping")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ttxt_kafka.replayer import CorruptBlockError, Selection, parse_time
    from ttxt_kafka.replayer.parquet import ExportError, channels_exported, export_parquet

    try:
        since = parse_time(args.since) if args.since else None
        until = parse_time(args.until) if args.until else None
        selection = Selection.of(args.venue, args.symbol,
                                 args.channel or list(channels_exported()), since, until)
        stats = export_parquet(args.files, args.out, selection, skip_corrupt=args.skip_corrupt)
    except (ValueError, FileNotFoundError, ExportError) as exc:
        raise CliError(str(exc)) from None
    except CorruptBlockError as exc:
        raise CliError(f"{exc} (use --skip-corrupt to go on without it)") from None
    tables = ", ".join(f"{t} {n:,} rows" for t, n in sorted(stats.rows.items())) or "no rows"
    print(f"exported {stats.events:,} events from {args.files} to {args.out}: {tables} in "
          f"{len(stats.files)} files, {stats.seconds:.2f} s ({stats.rate:,.0f} events/s)")
    if stats.undecodable:
        print(f"skipped {stats.undecodable:,} undecodable records")
    if stats.events == 0:
        print("error: nothing matched the selection: check --venue/--symbol/--channel and the "
              "time range (`ttxt files DIR` lists what the files hold)")
        return 1
    return 0
