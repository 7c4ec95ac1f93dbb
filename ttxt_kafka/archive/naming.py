"""Names of the recorder's file streams and files: the one place they are made and parsed.

A stream is one ticker of one market: `<EXCHANGE>[_<MARKET>]_<BASE>_<QUOTE>`.

The venue (`ttxt_kafka.topics`) is `<exchange>[_<market>]`. Its exchange part comes first; a
market part is kept, uppercased, except `spot`, which is the default market and is dropped:

    binance        BTC/USDT  ->  BINANCE_BTC_USDT
    binance_usdm   BTC/USDT  ->  BINANCE_USDM_BTC_USDT
    bybit_spot     BTC/USDT  ->  BYBIT_BTC_USDT
    bybit_linear   BTC/USDT  ->  BYBIT_LINEAR_BTC_USDT
    okx_swap       BTC/USDT  ->  OKX_SWAP_BTC_USDT

So spot streams are named as in the seed (`BINANCE_BTC_USDT`) whether the venue spells its spot
market out or not, and a derivatives market never shares a stream with spot. Anything other than
letters and digits in a symbol becomes `_` (`BTC/USDT:USDT` -> `BTC_USDT_USDT`). Records with no
usable symbol (a garbage value with no key) go to `<EXCHANGE>[_<MARKET>]_UNKNOWN`.

Files: `<stream>_<start>.avro`, `<start>` the exchange time of the file's first record in UTC,
`YYYYMMDDTHHMMSS.ffffffZ`, e.g. `BINANCE_BTC_USDT_20231114T221320.123456Z.avro`; a `-<n>` suffix
before `.avro` separates files that would otherwise get the same name. Beside each file its
block index, `<file>.idx`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path

SPOT_MARKET = "spot"
UNKNOWN_SYMBOL = "UNKNOWN"
SUFFIX = ".avro"
INDEX_SUFFIX = ".idx"
_MAX_SYMBOL = 64

_NOT_ALNUM = re.compile(r"[^A-Z0-9]+")
_FILE = re.compile(
    r"^(?P<stream>[A-Z0-9][A-Z0-9_]*)_(?P<start>\d{8}T\d{6}\.\d{6}Z)(?:-(?P<n>\d+))?\.avro$"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _clean(text: str) -> str:
    return _NOT_ALNUM.sub("_", text.upper()).strip("_")


@lru_cache(maxsize=65_536)
def stream_name(venue: str, symbol: str) -> str:
    """The file stream of one venue's ticker (see the module doc for the rule)."""
    exchange, _, market = venue.partition("_")
    parts = [_clean(exchange) or "VENUE"]
    if market and market.lower() != SPOT_MARKET:
        parts.append(_clean(market))
    parts.append(_clean(symbol[:_MAX_SYMBOL]) or UNKNOWN_SYMBOL)
    return "_".join(p for p in parts if p)


def format_time(ts_us: int) -> str:
    """`20231114T221320.123456Z` for a time in microseconds."""
    return (_EPOCH + timedelta(microseconds=ts_us)).strftime("%Y%m%dT%H%M%S.%fZ")


def file_name(stream: str, start_us: int, n: int = 0) -> str:
    return f"{stream}_{format_time(start_us)}{f'-{n}' if n else ''}{SUFFIX}"


def parse_file_name(name: str) -> tuple[str, int] | None:
    """(stream, start µs) of a recorder file name, None for any other name."""
    m = _FILE.match(name)
    if m is None:
        return None
    start = datetime.strptime(m["start"], "%Y%m%dT%H%M%S.%fZ").replace(tzinfo=UTC)
    return m["stream"], (start - _EPOCH) // timedelta(microseconds=1)


def index_path(path: Path) -> Path:
    return path.with_name(path.name + INDEX_SUFFIX)
