"""`ttxt tail TOPIC`: print a topic's records decoded, one JSON object per line.

The Avro-aware kcat: `{"type": "OrderBook", "venue": ..., "bids": [["60000.1", "1.5"]], ...}`.
Records that do not decode are reported on stderr and counted; tailing goes on.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from aiokafka import AIOKafkaConsumer, TopicPartition

from ..admin import cluster_metadata, start_or_close
from ..cluster import client_options
from ..codec import DEFAULT_CODEC, CodecError
from ..render import event_to_dict
from .common import CliError, add_bootstrap_arg, resolve_bootstrap, until_stopped


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("tail", help="print a topic's records decoded, one JSON per line")
    p.add_argument("topic")
    add_bootstrap_arg(p)
    p.add_argument("--from-beginning", action="store_true",
                   help="start at the oldest record (default: only new records)")
    p.add_argument("--max", type=int, metavar="N", help="stop after N records")
    p.add_argument("--until-end", action="store_true",
                   help="stop at the end of the topic as it was when tail started")
    p.add_argument("--meta", action="store_true",
                   help="add _topic, _partition, _offset, _key and _ts to each line")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    bootstrap = resolve_bootstrap(args.bootstrap)
    try:
        result, stopped = asyncio.run(until_stopped(_tail(bootstrap, args)))
    except KeyboardInterrupt:  # before the loop took the signal over
        return 130
    if stopped or result is None:
        return 128 + (stopped or 2)  # the consumer closed cleanly; the shell's code for the signal
    printed, bad = result
    if bad:
        print(f"ttxt tail: {bad} undecodable record(s) skipped", file=sys.stderr)
    return 0


async def _tail(bootstrap: str, args: argparse.Namespace) -> tuple[int, int]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False,
        auto_offset_reset="earliest" if args.from_beginning else "latest", **client_options(),
    )
    await start_or_close(consumer)
    printed = bad = 0
    try:
        metadata = await cluster_metadata(consumer)
        partitions = metadata.partitions_for_topic(args.topic)
        if not partitions:
            raise CliError(f"topic {args.topic!r} does not exist on {bootstrap}")
        tps = [TopicPartition(args.topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        if args.from_beginning:
            await consumer.seek_to_beginning(*tps)
        else:
            await consumer.seek_to_end(*tps)
        end = await consumer.end_offsets(tps) if args.until_end else {}
        while True:
            if args.until_end and await _reached_end(consumer, end):
                break
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                for r in records:
                    if args.until_end and r.offset >= end[TopicPartition(r.topic, r.partition)]:
                        continue
                    try:
                        line = event_to_dict(DEFAULT_CODEC.decode(r.value or b""))
                    except CodecError as exc:
                        bad += 1
                        print(f"ttxt tail: {r.topic}[{r.partition}]@{r.offset}: {exc}",
                              file=sys.stderr)
                        continue
                    if args.meta:
                        line.update(_topic=r.topic, _partition=r.partition, _offset=r.offset,
                                    _key=(r.key or b"").decode(errors="replace"),
                                    _ts=r.timestamp)
                    print(json.dumps(line, separators=(",", ":")), flush=True)
                    printed += 1
                    if args.max is not None and printed >= args.max:
                        return printed, bad
    finally:
        await consumer.stop()
    return printed, bad


async def _reached_end(consumer: AIOKafkaConsumer, end: dict[TopicPartition, int]) -> bool:
    for tp, offset in end.items():
        if await consumer.position(tp) < offset:
            return False
    return True
