"""The recorder's file format, names, index and repair — no broker needed."""

from __future__ import annotations

import io
import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from fastavro import reader as avro_reader
from samples import all_samples

from ttxt_kafka.archive import ocf
from ttxt_kafka.archive.files import high_water_marks, list_files, scan_file
from ttxt_kafka.archive.index import load_index
from ttxt_kafka.archive.naming import file_name, index_path, parse_file_name, stream_name
from ttxt_kafka.archive.ocf import (
    CODECS,
    DEFAULT_CODEC,
    FileRecord,
    FormatError,
    RawBlock,
    decode_long,
    decode_records,
    encode_block,
    encode_long,
    parse_block,
)
from ttxt_kafka.archive.peek import peek
from ttxt_kafka.codec import encode
from ttxt_kafka.recorder.rotation import RotatePolicy
from ttxt_kafka.recorder.writer import ArchiveWriter, DirectoryLockedError
from ttxt_kafka.replayer import CorruptBlockError, FileSource, Selection, parse_time
from ttxt_kafka.schemas import plain_times

T0 = 1_700_000_000_000_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def record(offset: int, ts: int | None = None, topic: str = "ttxt.binance.book",
           partition: int = 0, value: bytes | None = None) -> FileRecord:
    return {"ts": T0 + offset * 1000 if ts is None else ts, "type": "OrderBook", "topic": topic,
            "partition": partition, "offset": offset, "timestamp": (T0 + offset * 1000) // 1000,
            "key": b"BTC/USDT", "headers": [{"key": "ttxt-type", "value": b"OrderBook"}],
            "value": value if value is not None else b"v%d" % offset}


def write(directory: Path, blocks: list[list[FileRecord]], stream: str = "BINANCE_BTC_USDT",
          codec: str = DEFAULT_CODEC, policy: RotatePolicy | None = None) -> None:
    w = ArchiveWriter(directory, codec, policy).open()
    try:
        for b in blocks:
            w.write_block(stream, b)
        w.sync()
    finally:
        w.close()


# ---------------------------------------------------------------- names


@pytest.mark.parametrize("venue, symbol, stream", [
    ("binance", "BTC/USDT", "BINANCE_BTC_USDT"),
    ("binance_usdm", "BTC/USDT", "BINANCE_USDM_BTC_USDT"),
    ("bybit_spot", "BTC/USDT", "BYBIT_BTC_USDT"),
    ("bybit_linear", "ETH/USDT", "BYBIT_LINEAR_ETH_USDT"),
    ("okx_swap", "BTC/USDT:USDT", "OKX_SWAP_BTC_USDT_USDT"),
    ("kraken", "", "KRAKEN_UNKNOWN"),
])
def test_stream_names_keep_the_market_of_derivatives(venue: str, symbol: str,
                                                     stream: str) -> None:
    assert stream_name(venue, symbol) == stream


def test_file_names_carry_the_start_time_and_parse_back() -> None:
    name = file_name("BINANCE_USDM_BTC_USDT", T0 + 123_456)
    assert name == "BINANCE_USDM_BTC_USDT_20231114T221320.123456Z.avro"
    assert parse_file_name(name) == ("BINANCE_USDM_BTC_USDT", T0 + 123_456)
    assert parse_file_name(file_name("X_Y", T0, 2)) == ("X_Y", T0)
    assert parse_file_name("notes.txt") is None


def test_rotation_specs() -> None:
    assert RotatePolicy.parse("256MB") == RotatePolicy(256_000_000, None)
    assert RotatePolicy.parse("1h, 1GiB") == RotatePolicy(2**30, 3_600_000_000)
    assert RotatePolicy.parse("none") == RotatePolicy()
    with pytest.raises(ValueError, match="bad rotation"):
        RotatePolicy.parse("1 fortnight")


def test_times_on_the_command_line() -> None:
    assert parse_time("2023-11-14T22:13:20Z") == T0
    assert parse_time("2023-11-14 22:13:20.5") == T0 + 500_000
    assert parse_time("1700000000") == T0
    assert parse_time("1700000000.25") == T0 + 250_000
    assert parse_time("1700000000000") == T0
    assert parse_time("1700000000000000") == T0
    with pytest.raises(ValueError, match="bad time"):
        parse_time("yesterday")


# ---------------------------------------------------------------- bytes


def test_varints_round_trip() -> None:
    for n in (0, 1, -1, 63, -64, 64, 2**31, -(2**63), 2**63 - 1, T0):
        assert decode_long(encode_long(n), 0) == (n, len(encode_long(n)))


def test_peek_reads_type_symbol_and_time_of_every_event_without_decoding() -> None:
    for event in all_samples():
        assert peek(encode(event)) == (event.SCHEMA, event.symbol, event.exchange_ts)
    value = encode(all_samples()[0])
    for bad in (None, b"", b"garbage", b"\xc3\x01" + b"\x00" * 8 + b"??", value[:12],
                b"\xc3\x01" + value[2:10] + b"\x01"):
        assert peek(bad) is None


def test_a_known_fingerprint_whose_body_does_not_decode_is_not_an_event() -> None:
    """Cut short anywhere after the header, or with a byte too many: not an event (issue 19)."""
    for event in all_samples():
        value = encode(event)
        assert peek(value) is not None, type(event).__name__
        for end in range(10, len(value)):
            assert peek(value[:end]) is None, (type(event).__name__, end)
        assert peek(value + b"\x00") is None


def test_the_body_check_agrees_with_a_decoder_on_mutated_bytes() -> None:
    """The skipper and its regular expression say "decodes" exactly when fastavro decodes the
    body completely, on random byte changes of every sample (UTF-8 aside: not checked)."""
    import random

    from fastavro import schemaless_reader

    from ttxt_kafka.archive.skip import compile_checker, compile_skipper
    from ttxt_kafka.registry import REGISTRY

    rng = random.Random(19)
    seen = 0
    for event in all_samples():
        value = encode(event)
        et = REGISTRY.writers[value[2:10]][1]
        checks = (compile_checker(et.schema), compile_skipper(et.schema))
        for _ in range(300):
            data = bytearray(value)
            for _ in range(rng.randint(1, 3)):
                data[rng.randrange(10, len(data))] = rng.randrange(256)
            body = bytes(data)
            fo = io.BytesIO(body)
            fo.seek(10)
            try:
                schemaless_reader(fo, et.parsed, None)
                expected = fo.tell() == len(body)
            except UnicodeDecodeError:
                continue
            except Exception:
                expected = False
            seen += 1
            for check in checks:
                assert check is not None and check(body, 10) == expected, (et.name, body)
    assert seen > 2000



@pytest.mark.parametrize("codec", CODECS)
def test_blocks_round_trip_in_every_codec(codec: str) -> None:
    records = [record(i) for i in range(150)]
    sync = os.urandom(16)
    data = encode_block(records, codec) + sync
    block = parse_block(data, 0, sync)
    assert block.end == len(data)
    assert decode_records(block, codec) == records
    with pytest.raises(FormatError):
        parse_block(data, 0, os.urandom(16))
    with pytest.raises(IndexError):
        parse_block(data[:-5], 0, sync)
    with pytest.raises(FormatError):
        decode_records(RawBlock(151, block.body, block.end), codec)


def test_deflate_blocks_of_isa_l_and_of_zlib_are_one_format(monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    """ISA-L writes the deflate blocks (a dependency: the recorder's speed rests on it); zlib,
    the fallback, reads them, and ISA-L reads zlib's: files of either build read everywhere."""
    import platform
    import zlib

    if platform.machine() in ("x86_64", "AMD64", "aarch64", "arm64"):  # pyproject's marker
        from isal import isal_zlib
    else:  # no wheel there: not a dependency, zlib writes the blocks
        isal_zlib = pytest.importorskip("isal.isal_zlib")
    assert ocf._isal is isal_zlib
    records = [record(i) for i in range(300)]
    raw = b"".join(repr(r).encode() for r in records)
    by_isal = ocf.compress("deflate", raw)
    monkeypatch.setattr(ocf, "_isal", None)
    by_zlib = ocf.compress("deflate", raw)
    assert by_isal != by_zlib  # two encoders, really
    assert zlib.decompress(by_isal, -15) == isal_zlib.decompress(by_zlib, -15) == raw
    for isal in (None, isal_zlib):  # each reader, on each writer's block, and on a cut one
        sync = os.urandom(16)
        for writer in (None, isal_zlib):
            monkeypatch.setattr(ocf, "_isal", writer)
            data = encode_block(records, "deflate") + sync
            monkeypatch.setattr(ocf, "_isal", isal)
            assert decode_records(parse_block(data, 0, sync), "deflate") == records
        with pytest.raises(FormatError, match="does not decompress"):
            ocf.decompress("deflate", by_isal[: len(by_isal) // 2])


@pytest.mark.parametrize("codec", CODECS)
def test_a_plain_fastavro_reader_reads_the_files(tmp_path: Path, codec: str) -> None:
    blocks = [[record(i) for i in range(k, k + 100)] for k in range(0, 1000, 100)]
    write(tmp_path, blocks, codec=codec)
    (path,) = list_files(tmp_path)
    with path.open("rb") as fo:
        avro = avro_reader(fo)
        assert avro.codec == codec
        # The times are annotated (timestamp-micros, the Kafka timestamp -millis): a plain
        # reader shows timestamps.
        assert list(avro) == [{**r, "ts": EPOCH + timedelta(microseconds=r["ts"]),
                               "timestamp": EPOCH + timedelta(milliseconds=r["timestamp"])}
                              for b in blocks for r in b]
    # ... and the index says where each block is and what it holds
    entries = load_index(index_path(path))
    assert [(e.first_offset, e.last_offset, e.count) for e in entries] == [
        (k, k + 99, 100) for k in range(0, 1000, 100)]
    assert entries[-1].end == path.stat().st_size


def test_polars_shows_the_times_as_timestamps(tmp_path: Path) -> None:
    blocks = [[record(i) for i in range(10)]]
    write(tmp_path, blocks, codec="deflate")  # a codec polars reads (not zstandard)
    (path,) = list_files(tmp_path)
    frame = pl.read_avro(path)
    assert frame.schema["ts"] == pl.Datetime("us", "UTC")
    assert frame.schema["timestamp"] == pl.Datetime("ms", "UTC")
    assert frame["ts"].to_list() == [EPOCH + timedelta(microseconds=r["ts"]) for r in blocks[0]]


def test_files_written_before_the_time_annotations_still_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ocf, "SCHEMA_JSON", json.dumps(plain_times(ocf.RECORD_SCHEMA)))
    blocks = [[record(i) for i in range(10)], [record(i) for i in range(10, 15)]]
    write(tmp_path, blocks, codec="deflate")
    monkeypatch.undo()
    (path,) = list_files(tmp_path)
    data = path.read_bytes()
    header = ocf.read_header(data)
    assert b"logicalType" not in header.meta["avro.schema"]  # the old header, as written then
    got, pos = [], header.size
    while pos < len(data):
        block = parse_block(data, pos, header.sync)
        got += decode_records(block, header.codec)
        pos = block.end
    assert got == [r for b in blocks for r in b]  # int microseconds, as ever
    assert all(type(r["ts"]) is int for r in got)


# ---------------------------------------------------------------- repair


def test_a_torn_last_block_is_cut_and_the_file_goes_on(tmp_path: Path) -> None:
    write(tmp_path, [[record(i) for i in range(k, k + 10)] for k in range(0, 50, 10)])
    (path,) = list_files(tmp_path)
    good = path.stat().st_size
    block = encode_block([record(i) for i in range(50, 60)], DEFAULT_CODEC)
    with path.open("ab") as fo:  # a crash in the middle of writing the 6th block
        fo.write(block[: len(block) // 2])
    info = scan_file(path)
    assert info is not None and info.torn_bytes == len(block) // 2 and not info.damage
    assert path.stat().st_size > good  # scanning without repair changes nothing

    w = ArchiveWriter(tmp_path).open()  # what the recorder does at start
    assert path.stat().st_size == good
    assert w.high_water == {("BINANCE_BTC_USDT", "ttxt.binance.book", 0): 49}
    w.write_block("BINANCE_BTC_USDT", [record(i) for i in range(50, 60)])
    w.sync()
    w.close()
    assert list_files(tmp_path) == [path]  # continued in the same file
    with path.open("rb") as fo:
        assert [r["offset"] for r in avro_reader(fo)] == list(range(60))


def test_a_lost_index_is_rebuilt_from_the_file(tmp_path: Path) -> None:
    write(tmp_path, [[record(i) for i in range(k, k + 10)] for k in range(0, 30, 10)])
    (path,) = list_files(tmp_path)
    expected = load_index(index_path(path))
    index_path(path).write_text(expected[0].line() + '{"pos": 12')  # torn line, lines lost
    info = scan_file(path, repair=True)
    assert info is not None and info.entries == expected
    assert load_index(index_path(path)) == expected


def test_a_file_whose_header_never_reached_the_disk_is_removed(tmp_path: Path) -> None:
    path = tmp_path / file_name("BINANCE_BTC_USDT", T0)
    path.write_bytes(b"Obj\x01\x04\x16avro.sch")
    assert scan_file(path, repair=True) is None
    assert not path.exists()


def test_damage_in_the_middle_is_reported_never_cut(tmp_path: Path) -> None:
    write(tmp_path, [[record(i) for i in range(k, k + 10)] for k in range(0, 50, 10)])
    (path,) = list_files(tmp_path)
    entries = load_index(index_path(path))
    size = path.stat().st_size
    _flip(path, entries[2].pos + 8)
    index_path(path).unlink()
    info = scan_file(path, repair=True)
    assert info is not None and path.stat().st_size == size
    assert [pos for pos, _ in info.damage] == [entries[2].pos]
    assert [e.first_offset for e in info.entries] == [0, 10, 30, 40]
    assert high_water_marks([info]) == {("BINANCE_BTC_USDT", "ttxt.binance.book", 0): 49}


def test_corrupt_block_stops_the_replay_with_file_and_byte_or_is_skipped(
    tmp_path: Path,
) -> None:
    write(tmp_path, [[record(i) for i in range(k, k + 10)] for k in range(0, 50, 10)])
    (path,) = list_files(tmp_path)
    entries = load_index(index_path(path))
    _flip(path, entries[2].pos + 8)
    with pytest.raises(CorruptBlockError) as info:
        list(FileSource(tmp_path))
    assert str(path) in str(info.value) and f"at byte {entries[2].pos}" in str(info.value)
    assert info.value.pos == entries[2].pos
    source = FileSource(tmp_path, skip_corrupt=True)
    assert [r["offset"] for r in source] == [*range(20), *range(30, 50)]
    assert source.stats.corrupt_blocks == 1


def test_one_recorder_per_directory(tmp_path: Path) -> None:
    first = ArchiveWriter(tmp_path).open()
    try:
        with pytest.raises(DirectoryLockedError, match=f"pid {os.getpid()}"):
            ArchiveWriter(tmp_path).open()
    finally:
        first.close()
    ArchiveWriter(tmp_path).open().close()


def test_rotation_by_size_and_by_exchange_time_window(tmp_path: Path) -> None:
    blocks = [[record(i, value=os.urandom(1000)) for i in range(k, k + 10)]
              for k in range(0, 100, 10)]
    write(tmp_path / "size", blocks, policy=RotatePolicy.parse("25kB"))
    sizes = [p.stat().st_size for p in list_files(tmp_path / "size")]
    assert len(sizes) > 3 and all(s <= 25_000 + 200 for s in sizes)

    hour = 3_600_000_000
    timed = [[record(k * 10 + i, ts=T0 + k * hour // 2 + i) for i in range(10)]
             for k in range(6)]
    write(tmp_path / "time", timed, policy=RotatePolicy.parse("1h"))
    files = list_files(tmp_path / "time")
    starts = [parse_file_name(p.name)[1] for p in files]  # type: ignore[index]
    assert len(files) == 3 and all(s // hour == starts[0] // hour + n
                                   for n, s in enumerate(starts))


def test_time_range_selection_reads_only_overlapping_blocks(tmp_path: Path) -> None:
    write(tmp_path, [[record(i) for i in range(k, k + 10)] for k in range(0, 100, 10)])
    since, until = T0 + 25_000, T0 + 47_000
    source = FileSource(tmp_path, Selection.of(since=since, until=until))
    assert [r["offset"] for r in source] == list(range(25, 47))
    assert source.stats.blocks == 3  # 20-29, 30-39, 40-49: the others are never read


def _flip(path: Path, pos: int) -> None:
    with path.open("r+b") as fo:
        fo.seek(pos)
        b = fo.read(1)
        fo.seek(pos)
        fo.write(bytes([b[0] ^ 0xFF]))


def test_records_round_trip_through_bytes_io() -> None:
    # encode_block leaves no array framing behind: count + size + body only.
    records = [record(0)]
    data = encode_block(records, "null")
    count, p = decode_long(data, 0)
    size, p = decode_long(data, p)
    assert count == 1 and p + size == len(data)
    assert io.BytesIO(data).read() == data


# ---------------------------------------------------------------- buffering (no broker)


def _consumer_records(topic: str, symbol: str, offsets: range, size: int = 100,
                      partition: int = 0) -> list:
    from aiokafka.structs import ConsumerRecord

    from ttxt_kafka.events import BBO

    out = []
    for o in offsets:
        value = encode(BBO(venue="binance", symbol=symbol, exchange_ts=T0 + o, receive_ts=T0,
                           bid_price="1", bid_qty="1", ask_price="2", ask_qty="x" * size))
        out.append(ConsumerRecord(topic, partition, o, (T0 + o) // 1000, 0, symbol.encode(),
                                  value,
                                  None, 0, len(value), (("ttxt-type", b"BBO"),)))
    return out


def test_a_quiet_ticker_is_written_after_max_delay_and_memory_stays_bounded(
    tmp_path: Path,
) -> None:
    from aiokafka import TopicPartition

    from ttxt_kafka.recorder.buffers import FlushPolicy
    from ttxt_kafka.recorder.compactor import Compactor

    core = Compactor(ArchiveWriter(tmp_path), FlushPolicy(block_size=150, max_delay=1.0,
                                                          max_bytes=200_000)).open()
    try:
        quiet = TopicPartition("ttxt.binance.bbo", 0)
        core.ingest(quiet, _consumer_records(quiet.topic, "BTC/USDT", range(3)), now=100.0)
        assert core.write_ready(now=100.5) == 0  # not full, not old: waits
        assert core.commit_positions() == {quiet: 0}  # nothing durable yet
        assert core.write_ready(now=101.0) == 3  # waited max_delay: written
        assert core.commit_positions() == {quiet: 3}

        # 400 tickers, 2 records each: no buffer is full or old, but together they pass
        # max_bytes, so everything is written rather than held.
        noisy = TopicPartition("ttxt.binance.bbo", 1)
        records = [r for i in range(400)
                   for r in _consumer_records(noisy.topic, f"T{i}/USDT",
                                              range(2 * i, 2 * i + 2), size=400, partition=1)]
        core.ingest(noisy, records, now=200.0)
        assert core.buffers.nbytes > 200_000
        assert core.write_ready(now=200.0) == 800
        assert core.buffers.nbytes == 0
    finally:
        core.close()
    assert len(list_files(tmp_path)) == 401


def test_open_files_are_capped_and_reopened_on_demand(tmp_path: Path) -> None:
    w = ArchiveWriter(tmp_path, max_open=2).open()
    try:
        for k in range(3):
            for s in range(5):
                w.write_block(f"X_S{s}", [record(k * 10 + i) for i in range(10)])
            assert sum(f.is_open for f in w._files.values()) <= 2
        w.sync()
    finally:
        w.close()
    files = list_files(tmp_path)
    assert len(files) == 5
    for path in files:
        with path.open("rb") as fo:
            assert [r["offset"] for r in avro_reader(fo)] == list(range(30))


def test_after_a_failed_write_nothing_more_is_committed(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    from aiokafka import TopicPartition

    from ttxt_kafka.recorder.buffers import FlushPolicy
    from ttxt_kafka.recorder.compactor import Compactor

    core = Compactor(ArchiveWriter(tmp_path), FlushPolicy(block_size=10)).open()
    try:
        tp = TopicPartition("ttxt.binance.bbo", 0)
        core.ingest(tp, _consumer_records(tp.topic, "BTC/USDT", range(10)), now=0.0)
        assert core.write_ready(now=0.0) == 10 and core.commit_positions() == {tp: 10}
        core.ingest(tp, _consumer_records(tp.topic, "BTC/USDT", range(10, 30)), now=0.0)

        def disk_full(*args: object) -> None:
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(core.writer, "write_encoded", disk_full)
        with pytest.raises(OSError, match="No space"):
            core.write_ready(now=0.0)
        # Records 10..29 were taken from the buffers but are not on disk: no commit may
        # move past 10 now (nothing is committed at all).
        assert core.commit_positions() == {}
    finally:
        core.close()


def _routed(records: list[Any]) -> dict[str, list[FileRecord]]:
    """What the recorder must store for the records, per stream, read the slow and sure way
    (`Router.route`: every header peeked, every body checked)."""
    from ttxt_kafka.archive.router import Router

    router = Router()
    expected: dict[str, list[FileRecord]] = {}
    for r in records:
        stream, _, stored = router.route(r)
        expected.setdefault(stream, []).append(stored)
    return expected


@pytest.mark.parametrize("block_size", [1, 7, 150])
def test_the_recorders_own_encoding_gives_fastavros_bytes(tmp_path: Path,
                                                           block_size: int) -> None:
    """The hot path (`archive.encoder`, records encoded without fastavro) writes exactly what
    `encode_block` (fastavro) writes for the same records: events of every type, garbage, a cut
    event, no key, no value, no headers, several headers, a header without value, big offsets,
    negative and zero timestamps, values and keys over 63 bytes (two-byte lengths)."""
    from aiokafka import TopicPartition
    from aiokafka.structs import ConsumerRecord

    from ttxt_kafka.recorder.buffers import FlushPolicy
    from ttxt_kafka.recorder.compactor import Compactor

    values: list[bytes | None] = [encode(e) for e in all_samples()]
    values += [b"garbage", None, encode(all_samples()[0])[:-2], b"x" * 300, b""]
    headers: list[tuple[tuple[str, bytes | None], ...]] = [
        (("ttxt-type", b"OrderBook"),), (), (("a", None), ("b" * 70, b"\x00" * 200))]
    keys = [b"BTC/USDT", None, b"\xff\xfe", b"K" * 100]
    topic, base = "ttxt.binance.book", 2**40
    records = [
        ConsumerRecord(topic, 3, base + i * 977, [1_700_000_000_123, 0, -5][i % 3], 0,
                       keys[i % len(keys)], v, None, 0, 0, headers[i % len(headers)])
        for i, v in enumerate(values * 3)
    ]
    core = Compactor(ArchiveWriter(tmp_path, "null"), FlushPolicy(block_size=block_size)).open()
    try:
        core.ingest(TopicPartition(topic, 3), records, 0.0)
        core.write_ready(everything=True)
    finally:
        core.close()
    expected = _routed(records)
    for path in list_files(tmp_path):
        info = scan_file(path)
        assert info is not None and not info.damage
        raw = path.read_bytes()[info.header.size:]  # type: ignore[union-attr]
        mine = expected[info.stream]
        blocks = [mine[i:i + block_size] for i in range(0, len(mine), block_size)]
        sync = info.header.sync  # type: ignore[union-attr]
        assert raw == b"".join(encode_block(b, "null") + sync for b in blocks), info.stream
        assert [(e.min_ts, e.max_ts) for e in info.entries] == [
            (min(r["ts"] for r in b), max(r["ts"] for r in b)) for b in blocks]
    assert sum(len(v) for v in expected.values()) == len(records)


@pytest.mark.parametrize("native", [True, False], ids=["c", "python"])
def test_the_fast_way_by_key_gives_the_same_bytes_as_reading_every_header(
        tmp_path: Path, native: bool) -> None:
    """Records of a ticker seen before take the fast way (route by key, no header read):
    runs of two tickers interleaved, and in the runs what must leave it — a cut event with
    the ticker's own header, garbage and a missing value under the ticker's key, other
    headers, another symbol under the same key, an event whose body only the skipper can
    check (a 70-byte string), exchange times of every varint length (negative, zero, 8 bytes,
    more) — split over several fetches, one of them re-read (the
    duplicates dropped). The files hold what fastavro writes for the records, once each.
    Twice: with the fast way's usual records taken in C (`recorder/_ingest.c`), and all in
    Python."""
    import dataclasses

    from aiokafka import TopicPartition
    from aiokafka.structs import ConsumerRecord

    from ttxt_kafka.recorder.buffers import FlushPolicy
    from ttxt_kafka.recorder.compactor import Compactor

    book = next(e for e in all_samples() if type(e).__name__ == "OrderBook")
    times = [T0, T0 + 1, -7, 0, 2**62, 5, T0 + 3, T0 - 9]
    ticks: list[tuple[bytes, bytes | None, tuple[tuple[str, bytes], ...]]] = []
    hdr = (("ttxt-type", b"OrderBook"),)
    for i in range(120):
        sym = "BTC/USDT" if (i // 10) % 2 == 0 else "ETH/USDT"
        value: bytes | None = encode(dataclasses.replace(
            book, symbol=sym, exchange_ts=times[i % len(times)] if i % 9 == 0 else T0 + i))
        headers = hdr
        key = sym.encode()
        if i == 33:
            value = value[:-1]  # type: ignore[index]
        elif i == 47:
            value = b"garbage"
        elif i == 51:
            value = None
        elif i == 64:
            headers = (("ttxt-type", b"Other"),)
        elif i == 77:
            value = encode(dataclasses.replace(book, symbol="SOL/USDT", exchange_ts=T0))
        elif i in (86, 87):  # an event the regular expression cannot tell (70-byte price)
            value = encode(dataclasses.replace(book, symbol=sym, exchange_ts=T0 + i,
                                               bids=[["1" * 70, "2"]]))
        ticks.append((key, value, headers))
    topic = "ttxt.binance.book"
    records = [ConsumerRecord(topic, 1, 5000 + i, 1_700_000_000_000 + i // 3, 0, k, v, None,
                              0, 0, h) for i, (k, v, h) in enumerate(ticks)]
    core = Compactor(ArchiveWriter(tmp_path, "null"), FlushPolicy(block_size=7)).open()
    from ttxt_kafka.recorder import compactor

    assert compactor.NATIVE, "recorder/_ingest.c was not compiled"
    core.native = native
    tp = TopicPartition(topic, 1)
    try:
        for lo, hi in ((0, 40), (40, 90), (60, 100), (100, 120)):  # 60..89 read twice
            core.ingest(tp, records[lo:hi], 0.0)
        core.write_ready(everything=True)
        assert core.stats.duplicates == 30 and core.stats.unparsed == 3
    finally:
        core.close()
    expected = _routed(records)
    assert set(expected) == {"BINANCE_BTC_USDT", "BINANCE_ETH_USDT", "BINANCE_SOL_USDT"}
    got: dict[str, bytes] = {}
    for path in list_files(tmp_path):
        info = scan_file(path)
        assert info is not None and not info.damage and info.header is not None
        mine = expected[info.stream]
        blocks = [[r for r in mine if e.first_offset <= r["offset"] <= e.last_offset]
                  for e in info.entries]
        assert sum(len(b) for b in blocks) == len(mine)
        assert [(e.min_ts, e.max_ts) for e in info.entries] == [
            (min(r["ts"] for r in b), max(r["ts"] for r in b)) for b in blocks]
        got[info.stream] = path.read_bytes()[info.header.size:]
        assert got[info.stream] == b"".join(encode_block(b, "null") + info.header.sync
                                            for b in blocks), info.stream
    assert sum(len(v) for v in expected.values()) == len(records)


def test_polars_reads_a_file_of_the_default_codec(tmp_path: Path) -> None:
    """The default codec is one the research tools read (issue 19: polars and DuckDB refuse
    zstandard): a file the recorder's own stage writes with its defaults, read by polars."""
    import polars as pl
    from aiokafka import TopicPartition
    from aiokafka.structs import ConsumerRecord

    from ttxt_kafka.recorder.buffers import FlushPolicy
    from ttxt_kafka.recorder.compactor import Compactor

    values = [encode(e) for e in all_samples() if e.symbol == "BTC/USDT"] * 40
    records = [ConsumerRecord("ttxt.binance.book", 0, i, 1_700_000_000_000 + i, 0, b"BTC/USDT",
                              v, None, 0, 0, (("ttxt-type", b"x"),))
               for i, v in enumerate(values)]
    core = Compactor(ArchiveWriter(tmp_path), FlushPolicy()).open()
    try:
        core.ingest(TopicPartition("ttxt.binance.book", 0), records, 0.0)
        core.write_ready(everything=True)
    finally:
        core.close()
    (path,) = list_files(tmp_path)
    assert scan_file(path).header.codec == DEFAULT_CODEC == "deflate"  # type: ignore[union-attr]
    df = pl.read_avro(path)
    assert df["offset"].to_list() == list(range(len(values)))
    assert df["value"].to_list() == values
    assert df["type"].to_list() == [peek(v).type for v in values]  # type: ignore[union-attr]
    with pytest.raises(Exception, match="zstandard"):  # what the default no longer is
        write(tmp_path / "z", [[record(0)]], codec="zstandard")
        pl.read_avro(next((tmp_path / "z").glob("*.avro")))


@pytest.mark.parametrize("block_size", [5, 150])
def test_the_fast_way_in_c_writes_what_python_writes_on_random_batches(
        tmp_path: Path, block_size: int) -> None:
    """Random runs of three tickers, with what must leave the fast way sprinkled in (cut,
    garbage, no value, other headers, other symbols under a key, times of odd sizes, block and
    byte limits hit mid-batch), fed in random fetch sizes: the files, their indexes' entries and
    the counters are the same with the C run and without it, and with the records read from
    record batches in C (what the recorder's consumer gets) instead of aiokafka's."""
    import dataclasses
    import random

    from aiokafka import TopicPartition
    from aiokafka.structs import ConsumerRecord

    from ttxt_kafka.recorder.buffers import FlushPolicy
    from ttxt_kafka.recorder.compactor import Compactor

    book = next(e for e in all_samples() if type(e).__name__ == "OrderBook")
    rng = random.Random(41)
    syms = ["BTC/USDT", "ETH/USDT", "SOL/USDT"]
    encoded = {s: encode(dataclasses.replace(book, symbol=s, exchange_ts=T0)) for s in syms}
    hdr = (("ttxt-type", b"OrderBook"),)
    records = []
    sym = syms[0]
    for i in range(3000):
        if rng.random() < 0.05:
            sym = rng.choice(syms)
        key: bytes | None = sym.encode()
        headers = hdr
        odd = rng.random()
        if odd < 0.9:
            ts = T0 + i * rng.choice([1, 1000, 1 << 22])
            value: bytes | None = encode(dataclasses.replace(book, symbol=sym, exchange_ts=ts))
        else:
            odd_time = encode(dataclasses.replace(book, symbol=sym,
                                                  exchange_ts=rng.choice([-5, 0, 2**62])))
            value = rng.choice([encoded[sym][:-1], b"garbage", None, encoded[rng.choice(syms)],
                                odd_time])
            if rng.random() < 0.3:
                headers = (("ttxt-type", b"Other"),)
            if rng.random() < 0.1:
                key = None
        stamp = rng.choice([1_700_000_000_000 + i // 7, 0])
        records.append(ConsumerRecord("ttxt.binance.book", 2, 9000 + i, stamp, 0, key, value,
                                      None, 0, 0, headers))
    outcomes = []
    for native, given in ((True, records), (False, records), (True, _read_in_c(records))):
        out = tmp_path / str(len(outcomes))
        core = Compactor(ArchiveWriter(out, "null"),
                         FlushPolicy(block_size=block_size, block_bytes=40_000)).open()
        core.native = native
        tp = TopicPartition("ttxt.binance.book", 2)
        at = 0
        feed = random.Random(7)
        try:
            while at < len(given):
                step = feed.randrange(1, 400)
                core.ingest(tp, given[at:at + step], 0.0)
                core.write_ready(now=0.0)
                at += step
            core.write_ready(everything=True)
        finally:
            core.close()
        files = {}
        for path in list_files(out):
            header = scan_file(path).header  # type: ignore[union-attr]
            assert header is not None  # each file's own sync marker taken out: the blocks
            files[path.name] = path.read_bytes()[header.size:].replace(header.sync, b"|")
        stats = (core.stats.consumed, core.stats.written, core.stats.unparsed,
                 core.stats.blocks)
        outcomes.append((files, stats))
    (c_files, c_stats), (py_files, py_stats), (raw_files, raw_stats) = outcomes
    assert c_stats == py_stats == raw_stats and c_stats[0] == 3000
    assert c_files.keys() == py_files.keys() == raw_files.keys() and len(c_files) >= 3
    for name in c_files:
        assert c_files[name] == py_files[name] == raw_files[name], name


def _read_in_c(records: list[Any]) -> list[Any]:
    """The records as the recorder's consumer gets them from a broker: in record batches of
    varied sizes, read by the C batch reader (`recorder/raw_fetch.py`)."""
    import random

    from aiokafka import TopicPartition
    from aiokafka.record.default_records import DefaultRecordBatchBuilder

    from ttxt_kafka.recorder.raw_fetch import RawPartitionRecords

    rng = random.Random(3)
    data = bytearray()
    at = 0
    while at < len(records):
        chunk = records[at:at + rng.randrange(1, 300)]
        builder = DefaultRecordBatchBuilder(2, 3, 0, -1, -1, -1, 1 << 30)
        for i, r in enumerate(chunk):
            builder.append(i, timestamp=r.timestamp, key=r.key, value=r.value,
                           headers=list(r.headers))
        batch = bytearray(builder.build())
        batch[0:8] = chunk[0].offset.to_bytes(8, "big")
        data += batch
        at += len(chunk)
    tp = TopicPartition(records[0].topic, records[0].partition)
    got = list(RawPartitionRecords(tp, bytes(data), None, records[0].offset, True, 0))
    assert type(got[0]).__name__ == "KafkaRecord" and len(got) == len(records)
    return got


def test_the_fast_way_in_c_leaks_nothing(tmp_path: Path) -> None:
    import dataclasses

    from aiokafka import TopicPartition
    from aiokafka.structs import ConsumerRecord
    from memory_support import memory_left_by

    from ttxt_kafka.recorder import compactor
    from ttxt_kafka.recorder.compactor import Compactor

    assert compactor._native_run is not None
    book = next(e for e in all_samples() if type(e).__name__ == "OrderBook")
    hdr = (("ttxt-type", b"OrderBook"),)
    records = [ConsumerRecord("ttxt.binance.book", 0, i, 1_700_000_000_000 + i, 0, b"BTC/USDT",
                              encode(dataclasses.replace(book, exchange_ts=T0 + i)), None, 0, 0,
                              hdr) for i in range(50)]
    records.append(dataclasses.replace(records[0], value=b"garbage"))  # where a run stops
    core = Compactor(ArchiveWriter(tmp_path, "null")).open()
    try:
        core.ingest(TopicPartition("ttxt.binance.book", 0), records[:1], 0.0)
        route = core._routes[TopicPartition("ttxt.binance.book", 0)][b"BTC/USDT"]
    finally:
        core.close()
    prefix, headers, p, check, body, _, const_a, const_b = route
    parts: list[bytes] = []

    def run() -> None:
        parts.clear()
        got = compactor._native_run(records, 1, b"BTC/USDT", prefix, headers, p, check, body,
                                    const_a, const_b, parts, 0, 0, T0, T0, 0, None, b"",
                                    10**9, 10**12)
        assert got[0] == 50 and len(parts) == 49 * 7

    assert memory_left_by(run, warm_up=20, times=2_000) < 32_000


def test_the_fast_way_in_c_takes_the_batch_readers_records_as_it_takes_aiokafkas(
        tmp_path: Path) -> None:
    """`_ingest.run` reads a KafkaRecord's fields by index (`set_record_type`) and an aiokafka
    ConsumerRecord's by name: on the same records it takes every one of both kinds, with the
    same parts and counters (a wrong index would send each KafkaRecord the slow way)."""
    import dataclasses

    from aiokafka import TopicPartition
    from aiokafka.structs import ConsumerRecord

    from ttxt_kafka.recorder import compactor
    from ttxt_kafka.recorder.compactor import Compactor

    assert compactor._native_run is not None
    book = next(e for e in all_samples() if type(e).__name__ == "OrderBook")
    hdr = (("ttxt-type", b"OrderBook"),)
    theirs = [ConsumerRecord("ttxt.binance.book", 0, 700 + i, 1_700_000_000_000 + i // 3, 0,
                             b"BTC/USDT", encode(dataclasses.replace(book, exchange_ts=T0 + i)),
                             None, 0, 0, hdr) for i in range(60)]
    ours = _read_in_c(theirs)
    outcomes = []
    for records in (theirs, ours):
        core = Compactor(ArchiveWriter(tmp_path / type(records[0]).__name__, "null")).open()
        tp = TopicPartition("ttxt.binance.book", 0)
        try:
            core.ingest(tp, records[:1], 0.0)
            route = core._routes[tp][b"BTC/USDT"]
        finally:
            core.close()
        prefix, headers, p, check, body, _, const_a, const_b = route
        parts: list[bytes] = []
        got = compactor._native_run(records, 1, b"BTC/USDT", prefix, headers, p, check, body,
                                    const_a, const_b, parts, 0, 0, T0, T0, 0, None, b"",
                                    10**9, 10**12)
        outcomes.append((got, parts))
    assert type(ours[0]).__name__ == "KafkaRecord"
    assert outcomes[0][0][0] == 60 and outcomes[0] == outcomes[1]
