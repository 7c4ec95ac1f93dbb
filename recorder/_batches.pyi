"""Types of the Kafka record batch reader in C (`_batches.c`)."""

from typing import Any

class KafkaRecord(tuple[Any, ...]):
    __match_args__: tuple[str, ...]
    offset: int
    timestamp: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes | None], ...]

def records(data: Any, start: int, end: int, count: int, base_offset: int, first_ts: int,
            max_ts: int, log_append_time: bool, min_offset: int) -> list[KafkaRecord]: ...
