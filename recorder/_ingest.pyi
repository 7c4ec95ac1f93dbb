"""Types of the recorder's fast way in C (`_ingest.c`)."""

from collections.abc import Sequence
from typing import Any

def run(records: Sequence[Any], start: int, key: Any, prefix: bytes, headers: Any, p: int,
        check: Any, body: int, const_a: bytes, const_b: bytes, parts: list[bytes], count: int,
        nbytes: int, lo: int, hi: int, last: int, last_ms: int | None, ms_bytes: bytes,
        block_size: int, block_bytes: int
        ) -> tuple[int, int, int, int, int, int, int, int | None, bytes, bool]: ...

def set_record_type(cls: type | None) -> None: ...
