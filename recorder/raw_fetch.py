"""The recorder's consumer reads fetched record batches in C, past aiokafka's per-record objects.

aiokafka turns every fetched record into a ConsumerRecord through two Python functions and
three objects, ≈ 2 µs a record: as much as the recorder's whole routing and writing, and the
limit of a bare consumer. The recorder needs none of it: only offset, timestamp, key, value and
headers, which `_batches.records` reads straight from a batch's bytes (one small struct and the
value's bytes per record).

How it plugs in: aiokafka's fetcher wraps each partition's fetched bytes in `MemoryRecords` and
those in `PartitionRecords`, which the consumer iterates. `install()` replaces the two names in
aiokafka's fetcher module: `MemoryRecords` by a subclass that keeps its bytes, `PartitionRecords`
by a function that returns `RawPartitionRecords` for a consumer whose value deserializer is
`RAW_VALUES` and aiokafka's own class for every other consumer (whose records are untouched).
Everything else — fetching, positions, rebalances, errors — is aiokafka's. `install()` checks
that aiokafka's fetcher is the one this was written against (0.12 to 0.14) and declines
otherwise; `RAW_VALUES` is then an identity deserializer and the recorder gets ConsumerRecords,
which it reads the same way (the two are compared by the tests).

What `RawPartitionRecords` does per batch is what aiokafka's `PartitionRecords` does: the CRC
check (`check_crcs`), aborted transactions skipped under read_committed, control batches
skipped, records below the fetch offset skipped, decompression with aiokafka's codecs.
Legacy (v0/v1) message sets, which a current broker only sends for topics written in those
formats long ago, go to aiokafka's class.

One difference: a `RawPartitionRecords` advances the consumer's position a batch at a time, so
the recorder takes all of a fetch at once (`getmany` without `max_records`).
"""

from __future__ import annotations

import inspect
import itertools
import logging
import struct
from collections.abc import Callable, Iterator
from typing import Any

from aiokafka import errors as kafka_errors

_native_records: Callable[..., list[Any]] | None
try:
    from ._batches import records as _native_records
except ImportError:  # no C compiler at install: aiokafka's records (correct, slower)
    _native_records = None

log = logging.getLogger(__name__)

# The v2 batch header (Kafka's DefaultRecordBatch): base offset, length, partition leader
# epoch, magic, crc, attributes, last offset delta, first and max timestamps, producer id,
# producer epoch, base sequence, record count.
_HEADER = struct.Struct(">qiibIhiqqqhii")
_LOG_OVERHEAD = 12  # base offset and length: the bytes not counted in the length
_MAGIC_AT = 16
_CRC_FROM = 21  # the CRC covers the batch from its attributes on
_CODEC_MASK, _LOG_APPEND_TIME, _TRANSACTIONAL, _CONTROL = 0x07, 0x08, 0x10, 0x20
_READ_COMMITTED = 1
_ABORT = 0  # a control record's type (its key: version int16, type int16)
# PartitionRecords' parameters in the aiokafka versions this was written against.
_EXPECTED = ["tp", "records", "aborted_transactions", "fetch_offset", "key_deserializer",
             "value_deserializer", "check_crcs", "isolation_level"]


def RAW_VALUES(value: bytes | None) -> bytes | None:  # noqa: N802 - a marker, used as a value
    """The recorder consumer's value deserializer: marks it for `RawPartitionRecords` (and
    leaves values as they are where `install()` declined). A consumer so marked must take
    whole fetches: `getmany()` without `max_records`, never `getone()` (the position moves a
    batch at a time)."""
    return value


try:
    from aiokafka.record._crecords.cutil import crc32c_cython as _crc32c
except ImportError:  # pragma: no cover - aiokafka without its extensions
    from aiokafka.record.util import calc_crc32c as _crc32c  # type: ignore[assignment]


def _decompress(codec: int, data: bytes) -> bytes:
    from aiokafka import codec as codecs
    if codec == 1:
        return codecs.gzip_decode(data)
    if codec == 2:
        return codecs.snappy_decode(data)
    if codec == 3:
        return codecs.lz4_decode(data)
    if codec == 4:
        return codecs.zstd_decode(data)
    raise kafka_errors.UnsupportedCodecError(f"Unknown compression codec {codec:#04x}")


def only_v2_batches(data: bytes) -> bool:
    """Every complete batch in the fetched bytes is a v2 record batch (what `records` reads)."""
    pos, n = 0, len(data)
    while n - pos > _MAGIC_AT:
        if data[pos + _MAGIC_AT] != 2:
            return False
        length = int.from_bytes(data[pos + 8:pos + 12], "big", signed=True)
        if length <= 0:
            return False  # corrupt: aiokafka's class says so
        pos += _LOG_OVERHEAD + length
    return True


class RawPartitionRecords:
    """One partition's fetched records for aiokafka's `FetchResult`: an iterator of KafkaRecords
    (offset, timestamp, key, value, headers), with `next_fetch_offset`."""

    def __init__(self, tp: Any, data: bytes, aborted_transactions: Any, fetch_offset: int,
                 check_crcs: bool, isolation_level: int) -> None:
        self._tp = tp
        self._data = data
        self._aborted_transactions = sorted(aborted_transactions or [], key=lambda x: x[1])
        self._aborted_producers: set[int] = set()
        self._check_crcs = check_crcs
        self._isolation_level = isolation_level
        self.next_fetch_offset = fetch_offset
        self._records = itertools.chain.from_iterable(self._batches())

    def __iter__(self) -> Iterator[Any]:
        return self._records  # aiokafka's getall iterates this: C speed per record

    def __next__(self) -> Any:
        return next(self._records)

    def _batches(self) -> Iterator[list[Any]]:
        data, tp = self._data, self._tp
        crc32c = _crc32c if self._check_crcs else None
        pos, n = 0, len(data)
        while n - pos >= _LOG_OVERHEAD:
            end = pos + _LOG_OVERHEAD + int.from_bytes(data[pos + 8:pos + 12], "big",
                                                        signed=True)
            if end > n:
                break  # the fetch ends inside a batch: the next fetch starts there
            if end - pos < _HEADER.size:
                raise kafka_errors.CorruptRecordException(
                    f"{tp}: a record batch shorter than its header at offset "
                    f"{self.next_fetch_offset}")
            (base_offset, _, _, magic, crc, attributes, last_delta, first_ts, max_ts,
             producer_id, _, _, count) = _HEADER.unpack_from(data, pos)
            if magic != 2:
                raise kafka_errors.CorruptRecordException(f"{tp}: a v{magic} message set")
            if crc32c is not None and crc32c(memoryview(data)[pos + _CRC_FROM:end]) != crc:
                raise kafka_errors.CorruptRecordException(f"Invalid CRC - {tp}")
            next_offset = base_offset + last_delta + 1
            start, pos = pos + _HEADER.size, end
            codec = attributes & _CODEC_MASK
            section = data
            if codec:
                try:
                    section = _decompress(codec, data[start:end])
                except kafka_errors.UnsupportedCodecError:
                    raise
                except Exception as exc:  # each codec library has its own errors
                    raise kafka_errors.CorruptRecordException(
                        f"{tp}: the batch at offset {base_offset} does not decompress: "
                        f"{exc!r}") from exc
                start, end = 0, len(section)
            where = (section, start, end, count, base_offset, first_ts, max_ts,
                     bool(attributes & _LOG_APPEND_TIME))
            if self._isolation_level == _READ_COMMITTED and producer_id >= 0:
                self._consume_aborted_up_to(base_offset)
                if attributes & _CONTROL and self._is_abort_marker(self._read(where,
                                                                              base_offset)):
                    self._aborted_producers.discard(producer_id)
                if attributes & _TRANSACTIONAL and producer_id in self._aborted_producers:
                    self.next_fetch_offset = next_offset
                    continue
            if attributes & _CONTROL:
                self.next_fetch_offset = next_offset
                continue
            got = self._read(where, self.next_fetch_offset)
            # Before the yield: the consumer takes all of them (see the module's docstring).
            self.next_fetch_offset = next_offset
            if got:
                yield got

    def _read(self, where: tuple[Any, ...], min_offset: int) -> list[Any]:
        """The records of one batch (`_batches.records`), a corrupt one an aiokafka error."""
        assert _native_records is not None
        try:
            return _native_records(*where, min_offset)
        except ValueError as exc:
            raise kafka_errors.CorruptRecordException(f"{self._tp}: {exc}") from exc

    def _consume_aborted_up_to(self, batch_offset: int) -> None:
        aborted = self._aborted_transactions
        while aborted and aborted[0][1] <= batch_offset:
            self._aborted_producers.add(aborted.pop(0)[0])

    @staticmethod
    def _is_abort_marker(control: list[Any]) -> bool:
        if not control:
            raise kafka_errors.KafkaError("Control batch did not contain any records")
        key = control[0].key
        return key is not None and len(key) >= 4 and struct.unpack_from(">h", key, 2)[0] == _ABORT


_installed: bool | None = None


def install() -> bool:
    """Let consumers with `value_deserializer=RAW_VALUES` read batches in C (once per process;
    False where it cannot: no C module, or an aiokafka fetcher unlike the expected one)."""
    global _installed
    if _installed is not None:
        return _installed
    _installed = False
    if _native_records is None:
        log.info("the C batch reader is not built: the recorder reads aiokafka's records")
        return False
    try:
        from aiokafka.consumer import fetcher
        original_records = fetcher.PartitionRecords
        original_memory = fetcher.MemoryRecords
        params = list(inspect.signature(original_records).parameters)
    except (ImportError, AttributeError, TypeError, ValueError) as exc:
        log.info("aiokafka's fetcher is not the expected one (%s): the recorder reads "
                 "aiokafka's records", exc)
        return False
    if params != _EXPECTED:
        log.info("aiokafka's PartitionRecords takes %s: the recorder reads aiokafka's records",
                 params)
        return False

    class KeepingBytes(original_memory):  # type: ignore[misc,valid-type]
        """aiokafka's MemoryRecords, which also keeps the fetched bytes."""

        def __init__(self, data: bytes) -> None:
            super().__init__(data)
            self.data = data

    def partition_records(tp: Any, records: Any, aborted_transactions: Any, fetch_offset: int,
                          key_deserializer: Any, value_deserializer: Any, check_crcs: bool,
                          isolation_level: int) -> Any:
        if (value_deserializer is RAW_VALUES and isinstance(records, KeepingBytes)
                and only_v2_batches(records.data)):
            return RawPartitionRecords(tp, records.data, aborted_transactions, fetch_offset,
                                       check_crcs, isolation_level)
        return original_records(tp, records, aborted_transactions, fetch_offset,
                                key_deserializer, value_deserializer, check_crcs,
                                isolation_level)

    fetcher.MemoryRecords = KeepingBytes  # type: ignore[misc]
    fetcher.PartitionRecords = partition_records  # type: ignore[misc,assignment]
    _installed = True
    return True
