"""`ttxt record --out DIR`: the recorder (also `python -m recorder`)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import re
import signal
import sys
from pathlib import Path

from .common import CliError, add_bootstrap_arg, resolve_bootstrap


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from ttxt_kafka.archive.ocf import CODECS, DEFAULT_CODEC
    from ttxt_kafka.recorder.rotation import DEFAULT_ROTATE
    from ttxt_kafka.recorder.service import DEFAULT_GROUP

    p = sub.add_parser(
        "record", help="record market-data topics into per-ticker Avro files",
        description="Compact the market-data topics into one Avro container file stream per "
                    "ticker (<EXCHANGE>_<BASE>_<QUOTE>), exactly once. Stops cleanly on "
                    "Ctrl-C / SIGTERM: the last blocks are written and the offsets committed.",
    )
    p.add_argument("--out", required=True, type=Path, metavar="DIR", help="output directory")
    add_bootstrap_arg(p)
    p.add_argument("--topics", metavar="REGEX",
                   help="topics to record (default: every venue's book, trades, klines, bbo)")
    p.add_argument("--prefix", default="ttxt", help="topic prefix (default: ttxt)")
    p.add_argument("--group", default="", metavar="ID",
                   help=f"consumer group (default: {DEFAULT_GROUP}.<out dir name>.<hash>: one "
                        "per output directory, so a new directory records the whole retained "
                        "history)")
    p.add_argument("--instance-id", metavar="ID",
                   help="static group member id (default: from the host and --out)")
    p.add_argument("--block-size", type=int, default=150, metavar="N",
                   help="records per block (default: 150)")
    p.add_argument("--block-bytes", type=int, default=1 << 20, metavar="N",
                   help="a block is also closed at this many bytes (default: 1 MiB)")
    p.add_argument("--max-delay", type=float, default=1.0, metavar="SECONDS",
                   help="longest time a record waits in memory before it is written "
                        "(default: 1)")
    p.add_argument("--codec", choices=CODECS, default=DEFAULT_CODEC,
                   help=f"block compression (default: {DEFAULT_CODEC}, which every Avro reader "
                        "reads; zstandard: DuckDB and polars refuse it)")
    p.add_argument("--rotate", default=DEFAULT_ROTATE, metavar="SPEC",
                   help=f"new file after a size and/or exchange-time window, e.g. 256MB, 1h, "
                        f"'1h,256MB', none (default: {DEFAULT_ROTATE})")
    p.add_argument("--status-interval", type=float, default=60.0, metavar="SECONDS",
                   help="log a status line this often (default: 60)")
    p.add_argument("--until-end", action="store_true",
                   help="record what the topics hold now, then exit")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ttxt_kafka.bus import KafkaUnavailableError
    from ttxt_kafka.recorder.buffers import FlushPolicy
    from ttxt_kafka.recorder.rotation import RotatePolicy
    from ttxt_kafka.recorder.service import Recorder, RecorderConfig
    from ttxt_kafka.recorder.writer import DirectoryLockedError

    try:
        config = RecorderConfig(
            out_dir=args.out, bootstrap=resolve_bootstrap(args.bootstrap), topics=args.topics,
            group_id=args.group, instance_id=args.instance_id, codec=args.codec,
            rotate=RotatePolicy.parse(args.rotate),
            flush=FlushPolicy(block_size=args.block_size, block_bytes=args.block_bytes,
                              max_delay=args.max_delay),
            until_end=args.until_end, prefix=args.prefix,
            status_interval=args.status_interval,
        )
        re.compile(config.pattern())
    except (ValueError, re.error) as exc:
        raise CliError(str(exc)) from None
    recorder = Recorder(config)
    recorder.announce = lambda line: print(f"ttxt record: {line}", file=sys.stderr, flush=True)
    # This process records and nothing else. It holds up to a fetch of records at a time
    # (50,000 tracked objects), which with the default thresholds (700, 10, 10) sets off
    # collections of the older generations over and over for nothing: the recording path
    # makes no reference cycles. Young objects are collected every 50,000 allocations
    # (measured: a quarter more records per second for one recorder process).
    gc.set_threshold(50_000, 20, 100)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):  # not on Windows
                loop.add_signal_handler(sig, recorder.stop)
        print(f"recording {config.pattern()} into {config.out_dir} "
              f"(group {config.group_id})", file=sys.stderr, flush=True)
        await recorder.run()

    try:
        asyncio.run(main())
    except (DirectoryLockedError, KafkaUnavailableError) as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"writing to {config.out_dir} failed: {exc} (offsets are committed only "
                       f"for what is on disk: restart once fixed, nothing is lost)") from None
    print(f"ttxt record: {recorder.stats.summary()}", file=sys.stderr)
    return 0
