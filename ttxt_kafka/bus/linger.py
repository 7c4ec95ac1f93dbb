"""Linger per channel: which of a KafkaQueue's producers each topic's records go through.

aiokafka's `linger_ms` is per producer: the shortest time between two requests to a broker, for
every topic at once. So a queue that sends some channels unbatched and batches the others runs
one producer per linger class (one per distinct linger), and every record of one topic goes
through the same producer, so the order of each partition holds.

Defaults (`DEFAULT_LINGER_MS`): what a trader waits on is sent at once (linger 0) — `book` and
`bbo` (the market a strategy reacts to), `orders` (a strategy's commands on their way to the
connector), `executions` (order acks, order status, fills), `account` (wallets and positions
after a fill) and `status` (connection state, book resyncs: a consumer must learn that a book
is broken as soon as the fresh snapshot arrives). All but `book` and `bbo` are a few records a
second, so sending them at once costs nothing. `trades`, `klines` and `instruments` keep the 5 ms
of batching (`BATCHED_LINGER_MS`): high volume (trades) or nobody waits on a millisecond
(candles, reference data), and batching is what keeps the connector's CPU low at 10,000
records a second.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..topics import CHANNELS

BATCHED_LINGER_MS = 5
LOW_LATENCY_CHANNELS = ("book", "bbo", "status", "orders", "executions", "account")
DEFAULT_LINGER_MS: dict[str, int] = {
    ch: 0 if ch in LOW_LATENCY_CHANNELS else BATCHED_LINGER_MS for ch in CHANNELS}


class LingerError(ValueError):
    """A per-channel linger that cannot work (an unknown channel, a negative value)."""


def check_linger(where: str, value: Any) -> int:
    """`value` as a linger in ms: a whole number >= 0, else LingerError naming `where`."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise LingerError(f"{where}: linger must be a whole number of milliseconds >= 0, "
                          f"got {value!r}")
    return value


def channel_lingers(producer_options: Mapping[str, Any] | None = None,
                    per_channel: Mapping[str, int] | None = None) -> tuple[dict[str, int], int]:
    """Each channel's linger, and the linger of topics that are no channel (dead letters).

    `per_channel` (the config's `kafka.linger_ms`) wins; then a producer-wide `linger_ms` in
    `producer_options` (the config's `kafka.producer.linger_ms`, the one setting there was
    before lingers per channel) sets every other channel, as it always did; else the defaults."""
    options = producer_options or {}
    if "linger_ms" in options:
        every = check_linger("producer.linger_ms", options["linger_ms"])
        lingers = dict.fromkeys(CHANNELS, every)
        other = every
    else:
        lingers = dict(DEFAULT_LINGER_MS)
        other = BATCHED_LINGER_MS
    for channel, ms in (per_channel or {}).items():
        if channel not in CHANNELS:
            raise LingerError(f"linger_ms: unknown channel {channel!r} (channels: "
                              f"{', '.join(CHANNELS)})")
        lingers[channel] = check_linger(f"linger_ms.{channel}", ms)
    return lingers, other


def linger_classes(lingers: Mapping[str, int], other: int,
                   channels: Iterable[str] | None) -> tuple[int, ...]:
    """The lingers a queue needs a producer for, lowest first: those of the channels it
    publishes (None: every channel), or `other`'s alone when it names none."""
    names = CHANNELS if channels is None else tuple(channels)
    classes = sorted({lingers[ch] for ch in names if ch in lingers})
    return tuple(classes) or (other,)


def topic_channel(topic: str) -> str:
    """A topic's channel: its last dotted part (live and replay topics alike)."""
    return topic.rsplit(".", 1)[-1]
