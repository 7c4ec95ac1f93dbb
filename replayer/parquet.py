"""Recorded files -> Parquet tables for research tools (pandas, polars, DuckDB, Spark).

    ttxt export --files data/ --format parquet --out research/

One tidy table per kind of market data, Hive-partitioned so readers prune by path:

    research/trades/venue=binance/pair=BTC-USDT/date=2023-11-14/part-0.parquet
    research/book/...    one row per level change (update type, sequence, side, level, price, qty)
    research/bbo/...     one row per best bid/offer
    research/klines/...  one row per kline update (interval, open/close time, OHLCV, closed)

Prices and quantities are `decimal128(38, 18)` columns: exact (a value with more than 18
decimals is refused, never rounded) and numeric, so DuckDB and polars compute on them without a
cast. Strings would be exact too but every query would start with a cast, and a float column
would not be exact. Times are UTC microsecond timestamps: `exchange_time` (the event's),
`receive_time` (ours) and, per table, `trade_time` / `open_time` / `close_time`. The partition
keys `venue`, `pair` (BASE-QUOTE, path-safe) and `date` (of the exchange time, UTC) live in the
paths, as Hive partitioning wants; `symbol` (BASE/QUOTE) and `native_symbol` are columns.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from ttxt_kafka.events import BBO, Event, Kline, OrderBook, Trades

from .files import FileSource
from .selection import Selection
from .sinks import Decoder

TABLES = ("trades", "book", "bbo", "klines")
ROWS_PER_FILE = 500_000  # a part file is written when a partition holds this many rows


class ExportError(Exception):
    """Nothing to export, or a value that cannot be written exactly."""


def _pyarrow() -> Any:
    try:
        import pyarrow as pa
    except ImportError:  # pragma: no cover - pyarrow is a dependency of the test/parquet extras
        raise ExportError("Parquet export needs pyarrow: pip install 'ttxt-kafka[parquet]'"
                          ) from None
    return pa


def _schemas(pa: Any) -> dict[str, Any]:
    price = pa.decimal128(38, 18)
    ts = pa.timestamp("us", tz="UTC")
    head = [("symbol", pa.string()), ("native_symbol", pa.string()), ("exchange_time", ts),
            ("receive_time", ts), ("sequence", pa.int64())]
    return {
        "trades": pa.schema([*head, ("trade_time", ts), ("trade_id", pa.string()),
                             ("side", pa.string()), ("price", price), ("qty", price)]),
        "book": pa.schema([*head, ("update_type", pa.string()), ("first_sequence", pa.int64()),
                           ("prev_sequence", pa.int64()), ("checksum", pa.int64()),
                           ("message", pa.int64()), ("side", pa.string()),
                           ("level", pa.int32()), ("price", price), ("qty", price)]),
        "bbo": pa.schema([*head, ("bid_price", price), ("bid_qty", price),
                          ("ask_price", price), ("ask_qty", price)]),
        "klines": pa.schema([*head, ("interval", pa.string()), ("open_time", ts),
                             ("close_time", ts), ("open", price), ("high", price),
                             ("low", price), ("close", price), ("volume", price),
                             ("quote_volume", price), ("trade_count", pa.int64()),
                             ("closed", pa.bool_())]),
    }


def _dec(text: str | None) -> Decimal | None:
    return None if text is None or text == "" else Decimal(text)


def _head(e: Event) -> list[Any]:
    return [e.symbol, e.native_symbol, e.exchange_ts, e.receive_ts, e.sequence]


def _trades(e: Trades, _: int) -> list[list[Any]]:
    return [[*_head(e), t.exchange_ts, t.trade_id, t.side.value, _dec(t.price), _dec(t.qty)]
            for t in e.trades]


def _book(e: OrderBook, message: int) -> list[list[Any]]:
    head = [*_head(e), e.update_type.value, e.first_sequence, e.prev_sequence, e.checksum,
            message]
    return [[*head, side, level, _dec(px), _dec(qty)]
            for side, levels in (("bid", e.bids), ("ask", e.asks))
            for level, (px, qty) in enumerate(levels)]


def _bbo(e: BBO, _: int) -> list[list[Any]]:
    return [[*_head(e), _dec(e.bid_price), _dec(e.bid_qty), _dec(e.ask_price),
             _dec(e.ask_qty)]]


def _kline(e: Kline, _: int) -> list[list[Any]]:
    return [[*_head(e), e.interval, e.open_time, e.close_time, _dec(e.open), _dec(e.high),
             _dec(e.low), _dec(e.close), _dec(e.volume), _dec(e.quote_volume), e.trade_count,
             e.closed]]


_ROWS: dict[type[Event], tuple[str, Callable[[Any, int], list[list[Any]]]]] = {
    Trades: ("trades", _trades), OrderBook: ("book", _book), BBO: ("bbo", _bbo),
    Kline: ("klines", _kline),
}


@dataclass
class ExportStats:
    events: int = 0  # events exported
    skipped: Counter[str] = field(default_factory=Counter)  # other event types, by type
    undecodable: int = 0
    rows: Counter[str] = field(default_factory=Counter)  # by table
    files: list[Path] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


class _Partition:
    """Rows of one (table, venue, pair, date), written as part files."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.rows: list[list[Any]] = []
        self.parts = 0


class ParquetExporter:
    def __init__(self, out: Path, rows_per_file: int = ROWS_PER_FILE) -> None:
        self.pa = _pyarrow()
        import pyarrow.parquet as pq

        self.pq = pq
        self.out = out
        self.rows_per_file = rows_per_file
        self.schemas = _schemas(self.pa)
        self.stats = ExportStats()
        self._partitions: dict[tuple[str, str, str, str], _Partition] = {}
        self._messages: defaultdict[tuple[str, str], int] = defaultdict(int)

    def add(self, event: Event) -> None:
        kind = _ROWS.get(type(event))
        if kind is None:
            self.stats.skipped[event.type_name] += 1
            return
        table, rows_of = kind
        message = self._messages[(event.venue, event.symbol)]
        self._messages[(event.venue, event.symbol)] = message + 1
        date = datetime.fromtimestamp(event.exchange_ts / 1e6, UTC).date().isoformat()
        pair = event.symbol.replace("/", "-")
        key = (table, event.venue, pair, date)
        part = self._partitions.get(key)
        if part is None:
            part = self._partitions[key] = _Partition(
                self.out / table / f"venue={event.venue}" / f"pair={pair}" / f"date={date}")
        part.rows.extend(rows_of(event, message))
        self.stats.events += 1
        if len(part.rows) >= self.rows_per_file:
            self._write(table, part)

    def _write(self, table: str, part: _Partition) -> None:
        if not part.rows:
            return
        schema = self.schemas[table]
        columns = list(zip(*part.rows, strict=True))
        try:
            arrays = [self.pa.array(col, type=f.type) for col, f in zip(columns, schema,
                                                                          strict=True)]
        except (self.pa.ArrowInvalid, self.pa.ArrowTypeError) as exc:
            raise ExportError(f"{part.directory}: a value cannot be written exactly as "
                              f"decimal(38, 18): {exc}") from exc
        part.directory.mkdir(parents=True, exist_ok=True)
        path = part.directory / f"part-{part.parts}.parquet"
        self.pq.write_table(self.pa.Table.from_arrays(arrays, schema=schema), path,
                            compression="zstd")
        self.stats.rows[table] += len(part.rows)
        self.stats.files.append(path)
        part.parts += 1
        part.rows = []

    def close(self) -> ExportStats:
        for (table, *_), part in sorted(self._partitions.items()):
            self._write(table, part)
        return self.stats


def export_parquet(directory: Path, out: Path, selection: Selection | None = None, *,
                   skip_corrupt: bool = False, rows_per_file: int = ROWS_PER_FILE
                   ) -> ExportStats:
    """Every selected record of a recorder directory into Parquet tables under `out`."""
    source = FileSource(directory, selection, skip_corrupt=skip_corrupt)
    exporter = ParquetExporter(out, rows_per_file)
    decode = Decoder()
    t0 = time.perf_counter()
    for chain in source.chains():
        for records in source.iter_chain_blocks(chain):
            for record in records:
                event = decode(record)
                if event is not None:
                    exporter.add(event)
    stats = exporter.close()
    stats.undecodable = decode.undecodable
    stats.seconds = time.perf_counter() - t0
    return stats


def channels_exported() -> Iterable[str]:
    """The recorder channels that become tables (book, trades, bbo, klines)."""
    return ("book", "trades", "bbo", "klines")
