"""`ttxt replay`: recorded files, or topics rewound to a time, into replay topics or stdout."""

from __future__ import annotations

import argparse
import asyncio
import re
import secrets
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .common import CliError, add_bootstrap_arg, resolve_bootstrap, until_stopped

if TYPE_CHECKING:
    from ttxt_kafka.replayer import FileSource
    from ttxt_kafka.replayer.api import Sink
    from ttxt_kafka.replayer.progress import Progress


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "replay", help="replay recorded files or rewound topics into replay topics or stdout",
        description="Replay history merged in exchange-time order: from the recorder's files "
                    "(--files DIR) or from topics rewound to a time (--topics REGEX --since T). "
                    "Output: replay topics <prefix>.replay.<run-id>.<venue>.<channel> (keys, "
                    "timestamps, headers, value bytes unchanged), or decoded JSON lines "
                    "(--print). Times: ISO 8601 (UTC unless a zone is given) or seconds / ms / "
                    "µs since the epoch.",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--files", type=Path, metavar="DIR", help="a recorder directory")
    src.add_argument("--topics", metavar="REGEX", help="topics to rewind (needs --since)")
    p.add_argument("--since", metavar="T", help="from this time on (inclusive)")
    p.add_argument("--until", metavar="T", help="up to this time (exclusive)")
    p.add_argument("--venue", action="append", metavar="V", help="only this venue (repeatable)")
    p.add_argument("--symbol", action="append", metavar="S",
                   help="only this symbol, BASE/QUOTE (repeatable)")
    p.add_argument("--channel", action="append", metavar="C",
                   help="only this channel: book, trades, klines, bbo (repeatable)")
    p.add_argument("--speed", default="max", metavar="max|N",
                   help="max (default), or N times real time following exchange timestamps")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--to-prefix", metavar="P", default=None,
                     help="replay topics under P.replay.<run-id>.* (default prefix: ttxt)")
    out.add_argument("--print", action="store_true", help="print decoded events as JSON lines")
    p.add_argument("--run-id", metavar="ID", help="replay run id (default: time + random)")
    p.add_argument("--skip-corrupt", action="store_true",
                   help="skip corrupted blocks (and count them) instead of stopping")
    p.add_argument("--no-progress", action="store_true", help="no progress lines on stderr")
    add_bootstrap_arg(p)
    p.set_defaults(func=run)


def _run_id() -> str:
    return time.strftime("%Y%m%dt%H%M%S", time.gmtime()) + "-" + secrets.token_hex(2)


def _utc(ts_us: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts_us / 1e6))


def _nothing_matched(directory: Path, source: FileSource) -> str:
    """Why a file replay would replay nothing, with what the directory does hold."""
    if source.span is None:
        return (f"ttxt: error: no recorded data in {directory} (no recorder files: "
                "record with `ttxt record --out DIR` first)")
    lo, hi = source.span
    streams = sorted(source.streams)
    shown = ", ".join(streams[:8]) + (f" and {len(streams) - 8} more" if len(streams) > 8 else "")
    return (f"ttxt: error: nothing matched the selection; {directory} holds "
            f"{source.available:,} events from {_utc(lo)} to {_utc(hi)} ({shown}): pick "
            "--since/--until inside that span, or drop the --venue/--symbol/--channel filters")


def run(args: argparse.Namespace) -> int:
    from ttxt_kafka.bus import KafkaUnavailableError
    from ttxt_kafka.replayer import (
        CorruptBlockError,
        FileSource,
        KafkaSink,
        KafkaSource,
        PrintSink,
        Selection,
        parse_speed,
        parse_time,
        run_replay,
    )
    from ttxt_kafka.replayer.api import Source
    from ttxt_kafka.replayer.progress import Progress

    try:
        since = parse_time(args.since) if args.since else None
        until = parse_time(args.until) if args.until else None
        speed = parse_speed(args.speed)
        selection = Selection.of(args.venue, args.symbol, args.channel, since, until)
        if args.topics is not None:
            re.compile(args.topics)
    except (ValueError, re.error) as exc:
        raise CliError(str(exc)) from None
    if args.topics is not None and since is None:
        raise CliError("--topics needs --since (the time to rewind to)")

    stopping = _Stopping()

    async def main() -> int:
        source: Source
        if args.files is not None:
            try:
                source = FileSource(args.files, selection, skip_corrupt=args.skip_corrupt)
            except FileNotFoundError as exc:
                raise CliError(str(exc)) from None
        else:
            assert since is not None
            source = KafkaSource(resolve_bootstrap(args.bootstrap), args.topics, since,
                                 selection)
        if isinstance(source, FileSource) and source.total == 0:
            print(_nothing_matched(args.files, source), file=sys.stderr)
            return 1
        await source.open()
        try:
            sink: Sink
            if args.print:
                sink = PrintSink()
                where = "stdout"
            else:
                run_id = args.run_id or _run_id()
                sink = KafkaSink(resolve_bootstrap(args.bootstrap), run_id,
                                 args.to_prefix or "ttxt")
                stopping.sink = sink
                topics = await sink.start(source.source_partitions())
                where = f"{len(topics)} topics {args.to_prefix or 'ttxt'}.replay.{run_id}.*"
            stopping.sink, stopping.where, stopping.total = sink, where, source.total
            # Records, not events: counted before the replay, so before any skip (a record that
            # is not a ttxt event, a corrupt block); the last line says how many of them went.
            # Files: exactly the records replayed. Kafka: the records in the time range; a
            # symbol filter (record keys) is applied while reading, so that is an upper bound.
            bound = "at most " if isinstance(source, KafkaSource) and selection.symbols else ""
            print(f"ttxt replay: {bound}{source.total:,} records to {where}", file=sys.stderr,
                  flush=True)
            progress = stopping.progress = None if args.no_progress else Progress(source.total)
            stats = await run_replay(source, sink, speed, progress)
        finally:
            try:
                if stopping.sink is not None:  # stopped before run_replay, which closes it
                    await stopping.sink.close()
            finally:
                await source.close()
        notes = []
        if isinstance(source, FileSource) and source.stats.corrupt_blocks:
            notes.append(f"{source.stats.corrupt_blocks} corrupt block(s) skipped")
        undecodable = getattr(getattr(sink, "decode", None), "undecodable", 0)
        if undecodable:
            notes.append(f"{undecodable} record(s) that are not ttxt events skipped")
        if isinstance(sink, KafkaSink) and sink.errors:
            notes.append(f"{sink.errors} delivery error(s)")
        # Records read, then what became of them: the header's count, accounted for.
        sent = f"{stats.records - undecodable:,} events" if undecodable else "all sent"
        print(f"ttxt replay: {stats.records:,} records in {stats.seconds:.1f}s "
              f"({stats.rate:,.0f}/s): {sent}" + "".join(f"; {n}" for n in notes),
              file=sys.stderr)
        if stats.records == 0:
            print("ttxt: error: nothing matched: no event of the topics is in the "
                  "range (see `ttxt topics` for what they hold)", file=sys.stderr)
            return 1
        return 1 if isinstance(sink, KafkaSink) and sink.errors else 0

    try:
        code, stopped = asyncio.run(until_stopped(main()))
    except KeyboardInterrupt:  # before the loop took the signal over: nothing replayed
        code, stopped = None, signal.SIGINT
    except (CorruptBlockError, KafkaUnavailableError) as exc:
        raise CliError(str(exc)) from None
    if stopped or code is None:
        if stopping.progress is not None and stopping.progress.tty:
            print(file=sys.stderr)
        print(stopping.report(stopped or signal.SIGINT), file=sys.stderr)
        return 128 + (stopped or signal.SIGINT)
    return code


@dataclass
class _Stopping:
    """What a replay stopped by Ctrl-C / SIGTERM says: how far it got, and (into Kafka) that
    every record the sink took was delivered, or how many were not (the sink's close, which
    runs on a stop too, delivers what it took: see KafkaSink)."""

    sink: Sink | None = None
    where: str = ""
    total: int = 0
    progress: Progress | None = None  # its line on a terminal is ended first

    def report(self, signum: int) -> str:
        from ttxt_kafka.replayer import KafkaSink

        head = f"ttxt replay: stopped by {signal.Signals(signum).name}"
        sink = self.sink
        if sink is None or not self.where:
            return f"{head} before anything was replayed" + (
                f" (replay topics may have been created: {sink.prefix}.replay."
                f"{sink.run_id}.*)." if isinstance(sink, KafkaSink) else ".")
        sent = getattr(sink, "sent", 0)
        if not isinstance(sink, KafkaSink):
            return f"{head} after {sent:,} events printed (of {self.total:,} records)."
        done = (f"all {sent - sink.errors:,} delivered" if not sink.errors else
                f"{sent - sink.errors:,} delivered, {sink.errors:,} not (delivery errors)")
        return f"{head}: {sent:,} of {self.total:,} records replayed to {self.where}: {done}."
