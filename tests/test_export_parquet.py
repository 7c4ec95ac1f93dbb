"""`ttxt export --format parquet`: the recorded files as tables that polars and DuckDB read, with
the same rows and exact values as a replay of the same files."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import polars as pl
import pytest
from backtest_helpers import T0_MS, record_files, synthetic_market
from recorder_helpers import ttxt

from ttxt_kafka.events import BBO, Kline, OrderBook, Trades
from ttxt_kafka.replayer import FileSource, Selection
from ttxt_kafka.replayer.parquet import ExportError, ParquetExporter, export_parquet
from ttxt_kafka.replayer.sinks import Decoder

DAY_MS = 86_400_000


def _extras(venue: str, symbol: str, n: int) -> list[BBO | Kline]:
    """BBOs and klines beside the synthetic book and trades, the last on the next day."""
    out: list[BBO | Kline] = []
    native = symbol.replace("/", "")
    for i in range(n):
        ts = (T0_MS + i * 1000 + (DAY_MS if i == n - 1 else 0)) * 1000
        head = dict(venue=venue, symbol=symbol, native_symbol=native, exchange_ts=ts,
                    receive_ts=ts + 300, sequence=i)
        out.append(BBO(**head, bid_price=f"100.{i:02d}", bid_qty="1.5",  # type: ignore[arg-type]
                       ask_price=f"100.{i + 1:02d}", ask_qty="0.000000000000000001"))
        out.append(Kline(**head, interval="1m", open_time=ts - 60_000_000,  # type: ignore[arg-type]
                         close_time=ts - 1, open="100", high="101.5", low="99.25",
                         close=f"100.{i:02d}", volume="12.345", quote_volume=None,
                         trade_count=i, closed=i % 2 == 0))
    return out


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    events = (synthetic_market("binance", "BTC/USDT", steps=1500)
              + synthetic_market("bybit_linear", "ETH/USDT", steps=500, seed=3)
              + _extras("binance", "BTC/USDT", 40))
    return record_files(events, tmp_path_factory.mktemp("files"))


def _replayed(directory: Path, selection: Selection | None = None) -> list[object]:
    decode = Decoder()
    return [e for r in FileSource(directory, selection) if (e := decode(r)) is not None]


def test_tables_match_the_replay(recorded: Path, tmp_path: Path) -> None:
    stats = export_parquet(recorded, tmp_path)
    events = _replayed(recorded)
    trades = [t for e in events if isinstance(e, Trades) for t in e.trades]
    levels = [lv for e in events if isinstance(e, OrderBook) for lv in e.bids + e.asks]
    bbos = [e for e in events if isinstance(e, BBO)]
    klines = [e for e in events if isinstance(e, Kline)]
    assert trades and levels and bbos and klines
    assert stats.rows == {"trades": len(trades), "book": len(levels), "bbo": len(bbos),
                          "klines": len(klines)}
    assert stats.skipped == {"InstrumentInfo": 2}  # not a table: counted, said

    # polars, Hive partitions from the paths
    pt = pl.read_parquet(tmp_path / "trades", hive_partitioning=True)
    assert pt.height == len(trades)
    assert set(pt["venue"].unique()) == {"binance", "bybit_linear"}
    assert set(pt["pair"].unique()) == {"BTC-USDT", "ETH-USDT"}
    assert pt.schema["price"] == pl.Decimal(38, 18)
    assert sum(pt["qty"].to_list(), Decimal(0)) == sum((Decimal(t.qty) for t in trades),
                                                        Decimal(0))
    first = pt.sort(["venue", "trade_time", "trade_id"]).row(0, named=True)
    expected = min((t for e in events if isinstance(e, Trades) and e.venue == "binance"
                    for t in e.trades), key=lambda t: (t.exchange_ts, t.trade_id))
    assert (first["trade_id"], first["price"], first["qty"]) == (
        expected.trade_id, Decimal(expected.price), Decimal(expected.qty))
    assert first["trade_time"].timestamp() * 1_000_000 == expected.exchange_ts

    # DuckDB: the book's level changes, exact sums, per update type
    con = duckdb.connect()
    glob = str(tmp_path / "book" / "**" / "*.parquet")
    n, qty_sum, snapshots = con.execute(
        f"select count(*), sum(qty), count(distinct message) filter (update_type='SNAPSHOT') "
        f"from read_parquet('{glob}', hive_partitioning=true)").fetchone()
    assert n == len(levels)
    assert Decimal(qty_sum) == sum((Decimal(q) for _, q in levels), Decimal(0))
    assert snapshots == 2
    bbo = con.execute(
        f"select bid_price, ask_qty, date from read_parquet("
        f"'{tmp_path / 'bbo' / '**' / '*.parquet'}', hive_partitioning=true) "
        f"order by exchange_time").fetchall()
    assert [(Decimal(b), Decimal(a)) for b, a, _ in bbo] == [
        (Decimal(e.bid_price), Decimal(e.ask_qty)) for e in bbos]
    assert Decimal(bbo[0][1]) == Decimal("1e-18")  # the smallest step stays exact
    assert {str(d) for _, _, d in bbo} == {"2023-11-14", "2023-11-15"}  # one partition a day
    closed = con.execute(f"select count(*) filter (closed), max(trade_count) from read_parquet("
                         f"'{tmp_path / 'klines' / '**' / '*.parquet'}')").fetchone()
    assert closed == (20, 39)


def test_selection_and_the_command_line(recorded: Path, tmp_path: Path) -> None:
    since, until = T0_MS + 20_000, T0_MS + 60_000
    out = tmp_path / "out"
    result = ttxt("export", "--files", str(recorded), "--format", "parquet", "--out", str(out),
                  "--venue", "binance", "--channel", "trades", "--since", str(since),
                  "--until", str(until))
    assert result.returncode == 0, result.stderr
    assert "events/s" in result.stdout
    assert sorted(p.name for p in out.iterdir()) == ["trades"]
    expected = [t for e in _replayed(recorded, Selection.of(["binance"], None, ["trades"],
                                                           since * 1000, until * 1000))
                if isinstance(e, Trades) for t in e.trades]
    table = pl.read_parquet(out / "trades", hive_partitioning=True)
    assert table.height == len(expected) > 0
    assert table["trade_id"].to_list() == [t.trade_id for t in expected]

    nothing = ttxt("export", "--files", str(recorded), "--out", str(tmp_path / "none"),
                   "--venue", "okx_spot")
    assert nothing.returncode == 1 and "nothing matched" in nothing.stdout
    missing = ttxt("export", "--files", str(tmp_path / "absent"), "--out", str(out))
    assert missing.returncode == 2 and "is not a directory" in missing.stderr


def test_a_value_that_would_be_rounded_is_refused(tmp_path: Path) -> None:
    exporter = ParquetExporter(tmp_path)
    bbo = _extras("binance", "BTC/USDT", 1)[0]
    assert isinstance(bbo, BBO)
    bbo.bid_qty = "0.0000000000000000001"  # 19 decimals
    exporter.add(bbo)
    with pytest.raises(ExportError, match="cannot be written exactly"):
        exporter.close()
