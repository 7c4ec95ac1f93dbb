"""The connector's state records: counters, connections, per-symbol book state."""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass, field
from typing import Any

from ttxt_kafka.book import Book

from .book_sync import BookSync
from .ws import WsClient


@dataclass
class ConnectorStats:
    messages: int = 0  # frames received
    events: int = 0  # events published
    book_deltas: int = 0  # deltas applied and published
    book_snapshots: int = 0  # snapshots published (after a sync, and periodic ones)
    malformed: int = 0  # frames that could not be normalized
    exchange_errors: int = 0  # error frames sent by the exchange
    publish_errors: int = 0  # events the queue refused (could not be encoded)
    dropped_deltas: int = 0  # deltas older than the book, ignored per the rules
    gaps: int = 0  # sequence gaps detected
    checksums: int = 0  # exchange checksums compared with the connector's book (and equal)
    checksum_mismatches: int = 0  # exchange checksums that did not match the book
    resyncs: int = 0  # book rebuilds started (gap, stale snapshot, bad data, reconnect)
    stale_snapshots: int = 0  # snapshots older than the stream, fetched again
    syncs: int = 0  # books (re)built
    reconnects: int = 0
    rest_errors: int = 0
    delivery_failures: int = 0  # times the Kafka queue said records could not be delivered
    delivery_resyncs: int = 0  # books resynced because their records may not be in Kafka

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass
class Connection:
    """One WebSocket connection and the native symbols it serves."""

    index: int
    name: str
    symbols: list[str]
    ws: WsClient | None = None
    last_rx: float = 0.0  # monotonic time of the last frame
    generation: int = 0  # bumped on every (re)connect
    close_reason: str = ""  # set by whoever closes the socket on purpose
    data_frames: int = 0
    tasks: set[asyncio.Task[Any]] = field(default_factory=set)


@dataclass
class SymbolState:
    """The connector's view of one book: sync machine, local Book, rebuild bookkeeping."""

    native: str
    symbol: str
    sync: BookSync
    book: Book
    conn: Connection | None = None
    unsynced_since: float | None = None  # monotonic; None while synced
    was_synced: bool = False
    fetching: bool = False  # a snapshot request is in flight
    snapshot_attempts: int = 0
    gate: asyncio.Event | None = None  # set while a snapshot is being published
    # True while a sync's snapshot and BOOK_SYNCED status are being handed to the queue (it
    # may wait, e.g. for a new topic's metadata): `wait_synced` waits for the announcement too
    announcing: bool = False
