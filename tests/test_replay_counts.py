"""`ttxt replay`'s counts agree: the header counts records (before any skip), the last line
says how many were events and how many were skipped, and the two add up."""

from __future__ import annotations

from pathlib import Path

from recorder_helpers import ttxt
from test_recorder_format import record, write

from ttxt_kafka.codec import encode
from ttxt_kafka.events import OrderBook, UpdateType

T0 = 1_700_000_000_000_000


def test_the_header_counts_records_and_the_end_accounts_for_the_skipped(tmp_path: Path) -> None:
    records = []
    for i in range(10):
        if i % 3 == 2:  # archived raw: not a ttxt event (the recorder keeps such records)
            records.append({**record(i), "type": "", "value": b"not avro %d" % i})
        else:
            book = OrderBook(venue="binance", symbol="BTC/USDT", exchange_ts=T0 + i,
                             receive_ts=T0 + i, sequence=i, update_type=UpdateType.SNAPSHOT,
                             bids=[["1", "1"]], asks=[["2", "1"]])
            records.append({**record(i), "value": encode(book)})
    write(tmp_path, [records])
    result = ttxt("replay", "--files", str(tmp_path), "--print", "--no-progress")
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == 7
    assert "ttxt replay: 10 records to stdout" in result.stderr
    assert ("ttxt replay: 10 records in " in result.stderr
            and "/s): 7 events; 3 record(s) that are not ttxt events skipped" in result.stderr)
