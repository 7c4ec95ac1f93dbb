"""The recorder's batch reader in C (`recorder/raw_fetch.py`, `recorder/_batches.c`) reads what
aiokafka reads: the same records from the same bytes, the same position after them, the same
batches skipped, an error where the bytes are corrupt; and, plugged into aiokafka's fetcher, the
same records from a real broker for the consumer that asks for it, and aiokafka's own for the
others."""

from __future__ import annotations

import asyncio
import random
import struct
import uuid
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.consumer import fetcher
from aiokafka.errors import CorruptRecordException, UnsupportedCodecError
from aiokafka.record.default_records import DefaultRecordBatchBuilder
from aiokafka.record.memory_records import MemoryRecords
from aiokafka.record.util import calc_crc32c

from ttxt_kafka.recorder import raw_fetch
from ttxt_kafka.recorder.raw_fetch import RAW_VALUES, RawPartitionRecords

TP = TopicPartition("ttxt.binance.book", 3)
HDR = (("ttxt-type", b"OrderBook"),)
Rec = tuple[bytes | None, bytes | None, tuple[tuple[str, bytes | None], ...], int]


def _aiokafka_class() -> Any:
    """aiokafka's own PartitionRecords, whether or not install() has replaced the name."""
    cls = fetcher.PartitionRecords
    if isinstance(cls, type):
        return cls
    # install() ran: its function closes over aiokafka's class
    found = [c.cell_contents for c in cls.__closure__ or ()
             if isinstance(c.cell_contents, type) and c.cell_contents.__name__ ==
             "PartitionRecords"]
    assert found, "aiokafka's PartitionRecords not found behind install()"
    return found[0]


def batch(records: list[Rec], base_offset: int, codec: int = 0, log_append_ms: int = 0,
          producer_id: int = -1, transactional: bool = False, control: bool = False) -> bytes:
    """A v2 record batch as a broker serves it (aiokafka's builder; attributes it has no
    argument for set afterwards, the CRC computed again)."""
    builder = DefaultRecordBatchBuilder(
        magic=2, compression_type=codec, is_transactional=int(transactional),
        producer_id=producer_id, producer_epoch=0 if producer_id >= 0 else -1,
        base_sequence=0 if producer_id >= 0 else -1, batch_size=1 << 30)
    for i, (key, value, headers, ts) in enumerate(records):
        builder.append(i, timestamp=ts, key=key, value=value, headers=list(headers))
    raw = bytearray(builder.build())
    raw[0:8] = struct.pack(">q", base_offset)
    attributes = struct.unpack_from(">h", raw, 21)[0]
    if log_append_ms:
        attributes |= 0x08
        struct.pack_into(">q", raw, 35, log_append_ms)
    if control:
        attributes |= 0x20
    struct.pack_into(">h", raw, 21, attributes)
    struct.pack_into(">I", raw, 17, calc_crc32c(bytes(raw[21:])))
    return bytes(raw)


def sample(n: int, seed: int = 1) -> list[Rec]:
    """Keys that repeat and change, null keys and values, empty ones, headers that repeat,
    change, have null values or non-ASCII names, times that go back."""
    rng = random.Random(seed)
    out: list[Rec] = []
    for i in range(n):
        key = rng.choice([b"BTC/USDT", b"BTC/USDT", b"ETH/USDT", None, b""])
        value = rng.choice([None, b"", rng.randbytes(rng.randrange(1, 300))])
        headers = rng.choice([HDR, HDR, (), (("ttxt-type", None),),
                              (("ttxt-type", b"BBO"), ("zeit-ü", b"\x00" * 3))])
        out.append((key, value, headers, 1_700_000_000_000 + rng.randrange(-5, 50) + i))
    return out


def aiokafka_reads(data: bytes, fetch_offset: int = 0, aborted: list[Any] | None = None,
                   isolation_level: int = 0, check_crcs: bool = True) -> tuple[list[Any], int]:
    records = _aiokafka_class()(TP, MemoryRecords(data), aborted, fetch_offset, None, None,
                                check_crcs, isolation_level)
    got = [(r.offset, r.timestamp, r.key, r.value, r.headers) for r in records]
    return got, records.next_fetch_offset


def raw_reads(data: bytes, fetch_offset: int = 0, aborted: list[Any] | None = None,
              isolation_level: int = 0, check_crcs: bool = True) -> tuple[list[Any], int]:
    records = RawPartitionRecords(TP, data, aborted, fetch_offset, check_crcs, isolation_level)
    got = [(r.offset, r.timestamp, r.key, r.value, r.headers) for r in records]
    return got, records.next_fetch_offset


@pytest.mark.parametrize("codec", [0, 1, 2, 3, 4], ids=["none", "gzip", "snappy", "lz4", "zstd"])
@pytest.mark.parametrize("log_append", [False, True], ids=["create-time", "log-append-time"])
def test_the_same_records_as_aiokafka_in_every_codec(codec: int, log_append: bool) -> None:
    recs = sample(600)
    data = b"".join(batch(recs[i:i + 150], 1000 + i, codec,
                          log_append_ms=1_800_000_000_000 + i if log_append else 0)
                    for i in range(0, 600, 150))
    theirs = aiokafka_reads(data)
    assert len(theirs[0]) == 600 and theirs[1] == 1600
    assert raw_reads(data) == theirs
    if log_append:
        assert {t for _, t, *_ in raw_reads(data)[0]} == {1_800_000_000_000 + i
                                                          for i in range(0, 600, 150)}


def test_a_fetch_from_inside_a_batch_and_one_cut_short() -> None:
    """A fetch starting inside a batch skips the records before its offset; a fetch whose
    last batch is cut (the broker fills up to the fetch size) stops before that batch."""
    batches = [batch(sample(100, seed=k), 100 * k) for k in range(3)]
    data = b"".join(batches)
    for fetch_offset in (0, 1, 57, 99, 100, 250, 299):
        # what a broker serves: from the batch holding the offset on
        served = b"".join(batches[fetch_offset // 100:])
        theirs = aiokafka_reads(served, fetch_offset)
        assert theirs[0][0][0] == fetch_offset
        assert raw_reads(served, fetch_offset) == theirs
    cut = data[:-10]
    assert raw_reads(cut) == aiokafka_reads(cut) and raw_reads(cut)[1] == 200


def test_control_batches_and_aborted_transactions_are_skipped_as_aiokafka_skips_them() -> None:
    """read_committed: an aborted producer's batches are dropped up to its abort marker, a
    committed one's kept; read_uncommitted keeps both. Control batches never reach the caller."""
    abort = (b"\x00\x00\x00\x00", b"\x00\x00\x00\x00\x00\x00", (), 1_700_000_000_000)
    commit = (b"\x00\x00\x00\x01", b"\x00\x00\x00\x00\x00\x00", (), 1_700_000_000_000)
    data = b"".join([
        batch(sample(5, 1), 0),
        batch(sample(5, 2), 5, producer_id=7, transactional=True),
        batch(sample(5, 3), 10, producer_id=8, transactional=True),
        batch([abort], 15, producer_id=7, transactional=True, control=True),
        batch([commit], 16, producer_id=8, transactional=True, control=True),
        batch(sample(5, 4), 17, producer_id=7, transactional=True),
        batch([commit], 22, producer_id=7, transactional=True, control=True),
        batch(sample(5, 5), 23),
    ])
    aborted = [(7, 5)]
    for isolation_level in (0, 1):
        theirs = aiokafka_reads(data, 0, aborted, isolation_level)
        assert raw_reads(data, 0, aborted, isolation_level) == theirs
        offsets = [o for o, *_ in theirs[0]]
        assert theirs[1] == 28
        if isolation_level:
            assert offsets == [*range(5), *range(10, 15), *range(17, 22), *range(23, 28)]
        else:
            assert offsets == [*range(15), *range(17, 22), *range(23, 28)]


def test_a_bad_crc_is_an_error_as_in_aiokafka() -> None:
    data = bytearray(batch(sample(20), 0))
    data[100] ^= 0x40
    with pytest.raises(CorruptRecordException, match="CRC"):
        aiokafka_reads(bytes(data))
    with pytest.raises(CorruptRecordException, match="CRC"):
        raw_reads(bytes(data))


def test_damaged_bytes_give_aiokafkas_records_or_an_error_never_others() -> None:
    """4,000 random edits of uncompressed batches, read without the CRC check (which would
    catch them all): where aiokafka reads records, the C reader reads the same ones or says the
    batch is corrupt; where aiokafka fails, the C reader fails too, with CorruptRecordException;
    nothing else is ever raised and nothing crashes (the sanitizer run reads these too).

    One difference, where aiokafka is wrong: a record's attributes are one byte (Kafka's
    DefaultRecord; unused, always 0), which aiokafka reads as a varint, so that an edit setting
    its high bit shifts the rest of the record for aiokafka only. aiokafka reads the edited
    bytes with those bytes cleared."""
    rng = random.Random(5)
    clean = b"".join(batch(sample(30, seed=k), 30 * k) for k in range(3))
    agree = errors = 0
    for _ in range(4000):
        data = bytearray(clean)
        for _ in range(rng.randrange(1, 4)):
            at = rng.randrange(61, len(data))  # the records, mostly (headers: their own tests)
            what = rng.random()
            if what < 0.6:
                data[at] = rng.randrange(256)
            elif what < 0.8:
                del data[at:at + rng.randrange(1, 5)]
            else:
                data[at:at] = rng.randbytes(rng.randrange(1, 5))
        try:
            theirs: Any = aiokafka_reads(_unused_attributes_cleared(data), check_crcs=False)
        except Exception as exc:  # noqa: BLE001 - whatever aiokafka raises, compared below
            theirs = exc
        try:
            mine: Any = raw_reads(bytes(data), check_crcs=False)
        except (CorruptRecordException, UnsupportedCodecError) as exc:
            mine = exc
        if isinstance(mine, UnsupportedCodecError):  # an edit in a batch's attributes
            assert type(theirs) is UnsupportedCodecError
        if isinstance(mine, Exception):
            errors += 1
        else:
            assert mine == theirs
            agree += 1
    assert agree > 100 and errors > 1000  # both kinds were met


def _unused_attributes_cleared(data: bytearray) -> bytes:
    """The bytes with every record's attributes byte set to 0 (walked by the record lengths,
    as far as they lead)."""
    out = bytearray(data)
    pos = 0
    while len(out) - pos >= 61:
        end = pos + 12 + struct.unpack_from(">i", out, pos + 8)[0]
        at = pos + 61
        while pos + 61 <= at < min(end, len(out)):
            length = shift = 0
            while at < end:
                b = out[at]
                at += 1
                length |= (b & 0x7F) << shift
                shift += 7
                if not b & 0x80:
                    break
            length = (length >> 1) ^ -(length & 1)
            if length <= 0 or at >= len(out):
                break
            out[at] = 0
            at += length
        if end <= pos:
            break
        pos = end
    return bytes(out)


def test_the_batch_reader_leaks_nothing() -> None:
    from memory_support import memory_left_by

    from ttxt_kafka.recorder import _batches

    data = batch(sample(50), 0)

    def read() -> None:
        assert len(_batches.records(data, 61, len(data), 50, 0, 0, 0, False, 0)) == 50
        try:  # the last record cut short (pytest.raises would keep each traceback)
            _batches.records(data, 61, len(data) - 3, 50, 0, 0, 0, False, 0)
        except ValueError:
            pass
        else:
            raise AssertionError("a cut record was read")

    assert memory_left_by(read, warm_up=200, times=2000) < 10_000


# ---------------------------------------------------------------- plugged into aiokafka


async def test_against_the_broker_the_consumer_that_asks_gets_c_records_others_aiokafkas(
        kafka_bootstrap: str) -> None:
    """Against the broker, with what the connectors send (lz4 batches of keyed, headed
    records) and transactions (one aborted, one committed): a read_committed consumer with
    RAW_VALUES and one without read the same records, position and all; only the first gets
    the C reader's records."""
    assert raw_fetch.install()
    topic = f"rawfetch{uuid.uuid4().hex[:8]}"
    plain = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, compression_type="lz4",
                             linger_ms=5)
    txn = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, compression_type="lz4",
                           transactional_id=f"{topic}-txn")
    await plain.start()
    await txn.start()
    try:
        for i in range(3000):
            await plain.send(topic, value=b"v%d" % i, key=b"BTC/USDT" if i % 7 else None,
                       headers=list(HDR) if i % 5 else [], timestamp_ms=1_700_000_000_000 + i)
            if i in (1000, 2000):
                await plain.flush()
                async with txn.transaction():
                    await txn.send(topic, value=b"kept%d" % i, key=b"t")
                await txn.begin_transaction()
                await txn.send(topic, value=b"aborted%d" % i, key=b"t")
                await txn.abort_transaction()
        await plain.flush()
    finally:
        await plain.stop()
        await txn.stop()

    async def read(raw: bool) -> tuple[list[Any], set[str], dict[int, int]]:
        options: dict[str, Any] = {"value_deserializer": RAW_VALUES} if raw else {}
        consumer = AIOKafkaConsumer(topic, bootstrap_servers=kafka_bootstrap,
                                    auto_offset_reset="earliest", enable_auto_commit=False,
                                    isolation_level="read_committed", **options)
        await consumer.start()
        got: list[Any] = []
        kinds: set[str] = set()
        try:
            while len(got) < 3002:
                batches = await asyncio.wait_for(consumer.getmany(timeout_ms=500), 30)
                for tp, records in batches.items():
                    kinds.update(type(r).__name__ for r in records)
                    got.extend((tp.partition, r.offset, r.timestamp, r.key, r.value,
                                tuple(r.headers)) for r in records)
            positions = {tp.partition: await consumer.position(tp)
                         for tp in consumer.assignment()}
            return sorted(got, key=lambda r: r[:2]), kinds, positions
        finally:
            await consumer.stop()

    raw, raw_kinds, raw_position = await read(True)
    theirs, their_kinds, their_position = await read(False)
    assert raw_kinds == {"KafkaRecord"} and their_kinds == {"ConsumerRecord"}
    assert raw == theirs and raw_position == their_position
    values = [v for *_, v, _ in raw]
    assert b"kept1000" in values and b"kept2000" in values
    assert not any(v.startswith(b"aborted") for v in values)
