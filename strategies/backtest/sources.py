"""Where a backtest's market comes from: the recorder's files, or Kafka topics rewound.

Both give typed events merged in exchange-time order by the replayer (the same merge rules), and
only the channels a backtest uses — market data, status, instrument info — so a recording that
also holds a live run's executions or account does not leak into the simulation.

    file_events("data/", symbols=["BTC/USDT"])                       # ttxt record's files
    kafka_events(bootstrap, r"^ttxt\\.replay\\.run1\\.", since=0)       # replay topics (or live
                                                                     # topics rewound to a time)
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable
from pathlib import Path

from ttxt_kafka.events import Event
from ttxt_kafka.replayer import Decoder, FileSource, KafkaSource, Selection

INPUT_CHANNELS = ("book", "trades", "klines", "bbo", "status", "instruments")


def selection(venues: Iterable[str] | None = None, symbols: Iterable[str] | None = None,
              since: int | None = None, until: int | None = None) -> Selection:
    return Selection.of(sorted(venues or ()), sorted(symbols or ()), list(INPUT_CHANNELS),
                        since, until)


async def file_events(directory: str | Path, *, venues: Iterable[str] | None = None,
                      symbols: Iterable[str] | None = None, since: int | None = None,
                      until: int | None = None, skip_corrupt: bool = False,
                      decoder: Decoder | None = None) -> AsyncIterator[Event]:
    """Typed market events from recorded files (FileNotFoundError for a missing directory)."""
    source = FileSource(Path(directory), selection(venues, symbols, since, until),
                        skip_corrupt=skip_corrupt)
    decode = decoder or Decoder()
    await source.open()
    try:
        async for record in source.records():
            event = decode(record)
            if event is not None:
                yield event
    finally:
        await source.close()


async def kafka_events(bootstrap: str, pattern: str, *, venues: Iterable[str] | None = None,
                       symbols: Iterable[str] | None = None, since: int | None = None,
                       until: int | None = None,
                       decoder: Decoder | None = None) -> AsyncIterator[Event]:
    """Typed market events from the topics matching `pattern` (replay topics
    `ttxt.replay.<run>.<venue>.<channel>`, or the live topics rewound to `since`), from
    `since` (default: the beginning) up to `until` or the topics' end when the read starts."""
    re.compile(pattern)
    source = KafkaSource(bootstrap, pattern, since or 0, selection(venues, symbols, since, until))
    decode = decoder or Decoder()
    await source.open()
    try:
        async for record in source.records():
            event = decode(record)
            if event is not None:
                yield event
    finally:
        await source.close()
