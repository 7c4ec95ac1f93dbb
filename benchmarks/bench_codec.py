"""Codec: put an event on the wire and get it back — encode and decode rates, events/s.

Three events (``benchmarks/codec_data.py``, seeded, Binance-like strings): a 10-level book delta
(5 bids + 5 asks), a 3-trade batch and a 1-minute kline; ``BENCH_CODEC_EVENTS`` (default 10,000)
distinct events of each. Every library does what it really does with such an event:

- **ours**: ``ttxt_kafka.codec.encode(event)`` -> Avro single-object bytes; ``decode(bytes)`` ->
  the typed event (``benchmarks/ours_codec.py``);
- **seed** (ttxt2): its recorder's ``msgpack.packb(asdict(BaseEvent))``; its replayer's msgpack +
  ``dacite`` back into ``BaseEvent`` (``benchmarks/peers/seed_codec.py``);
- **cryptofeed**: its Kafka backend's ``to_dict(numeric_type=...)`` + yapic ``json.dumpb``; a
  consumer's ``json.loads`` back to a dict (``benchmarks/peers/cryptofeed_codec.py``). The
  headline row uses the backend's default ``numeric_type=float``; a second row ``str``.

Units: one event is one book delta, one batch of 3 trades, one kline — for every library, so
rows compare the same unit (cryptofeed sends a batch as 3 messages; its rate counts batches).
Native objects and encoded bytes are built outside the timed regions; encode and decode are
timed separately, interleaved across libraries, median of ``BENCH_ROUNDS`` rounds.
``bytes/event`` is the mean encoded value size (Kafka record overhead not included).

Before timing, every library's decoded events are checked (untimed): against its own native
objects (a faithful round trip) and against the input's prices, quantities, sides and OHLCV
(the same content for every library). ``numbers`` says how prices come back: ``exact strings``
(verbatim), ``strings`` (equal in value, not verbatim) or ``floats``.

Run: ``make bench`` (all benchmarks) or ``.bench-venv/bin/python -m benchmarks.bench_codec``.
"""

from __future__ import annotations

import gc
import importlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any, Protocol

from benchmarks.codec_data import (
    KINDS,
    CodecData,
    Content,
    Kind,
    expected_content,
    make_codec_data,
)
from benchmarks.common import (
    Case,
    Report,
    Unavailable,
    gc_in_timed_region,
    int_from_env,
    measure_all,
    print_report,
    rounds_from_env,
    write_json,
)

BENCH = "codec"
BASELINE = "seed"

LABELS: dict[Kind, str] = {
    "book": "10-level book delta",
    "trades": "3-trade batch",
    "kline": "kline",
}


class CodecAdapter(Protocol):
    """What each ``*_codec.py`` module's ``adapter(**options)`` returns."""

    def build(self, kind: Kind, items: Sequence[Any]) -> list[Any]:
        """Untimed: the library's native objects for the input items."""

    def encoder(self, kind: Kind) -> Callable[[Any], Any]:
        """native -> bytes (or a list of bytes when the library sends several messages)."""

    def decoder(self, kind: Kind) -> Callable[[Any], Any]:
        """encoded -> what a consumer of the library gets back."""

    def content(self, kind: Kind, decoded: Any) -> Content:
        """Untimed: the decoded event's prices, quantities, ... (see ``codec_data.Content``)."""

    def check(self, kind: Kind, natives: list[Any], encoded: list[Any],
              decoded: list[Any]) -> str | None:
        """Untimed: None if decoding gave back the natives (and the adapter is faithful)."""


@dataclass(frozen=True)
class Contender:
    name: str
    module: str
    options: dict[str, Any] = field(default_factory=dict)
    note: str = ""


def _contenders() -> list[Contender]:
    return [
        Contender("seed", "benchmarks.peers.seed_codec"),
        Contender("cryptofeed", "benchmarks.peers.cryptofeed_codec",
                  {"numeric_type": float}, "numeric_type=float, default"),
        Contender("cryptofeed, str", "benchmarks.peers.cryptofeed_codec",
                  {"numeric_type": str}, "numeric_type=str"),
        Contender("ours", "benchmarks.ours_codec"),
    ]


@dataclass
class Prepared:
    """One library, one event kind: everything the timed loops need, built once."""

    natives: list[Any]
    encoded: list[Any]
    encode: Callable[[Any], Any]
    decode: Callable[[Any], Any]
    size: float  # mean encoded bytes per event
    numbers: str


def _size(encoded: Any) -> int:
    return sum(map(len, encoded)) if isinstance(encoded, list) else len(encoded)


def _leaves(x: Any) -> Iterator[Any]:
    if isinstance(x, list | tuple):
        for v in x:
            yield from _leaves(v)
    else:
        yield x


def compare(expected: Content, got: Content) -> tuple[str | None, set[str]]:
    """(problem or None, how numbers came back: {"exact strings", "strings", "floats", ...})."""
    want, have = list(_leaves(expected)), list(_leaves(got))
    if len(want) != len(have):
        return f"{len(have)} values, expected {len(want)}", set()
    kinds: set[str] = set()
    for w, h in zip(want, have, strict=True):
        if isinstance(w, bool) or w in ("BUY", "SELL"):  # closed flag, trade side
            if h != w:
                return f"{h!r} != {w!r}", kinds
            continue
        try:
            value = Decimal(repr(h)) if isinstance(h, float) else Decimal(h)
        except (InvalidOperation, TypeError, ValueError):
            return f"{h!r} is not a number (expected {w})", kinds
        if value != Decimal(w):
            return f"{h!r} != {w} (not the same number)", kinds
        if isinstance(h, float):
            kinds.add("floats")
        elif isinstance(h, str):
            kinds.add("exact strings" if h == w else "strings")
        else:
            kinds.add(type(h).__name__)
    return None, kinds


def _numbers(kinds: set[str]) -> str:
    for label in ("floats", "strings", "Decimal"):
        if label in kinds:
            return label
    return "exact strings" if kinds == {"exact strings"} else ", ".join(sorted(kinds))


def prepare(adapter: CodecAdapter, kind: Kind, data: CodecData) -> Prepared | str:
    """Build, encode, decode and check once (untimed); a string says what is wrong."""
    items = data.of(kind)
    natives = adapter.build(kind, items)
    encode, decode = adapter.encoder(kind), adapter.decoder(kind)
    encoded = [encode(x) for x in natives]
    decoded = [decode(b) for b in encoded]
    problem = adapter.check(kind, natives, encoded, decoded)
    if problem:
        return problem
    seen: set[str] = set()
    for i, (item, back) in enumerate(zip(items, decoded, strict=True)):
        problem, kinds = compare(expected_content(kind, item), adapter.content(kind, back))
        if problem:
            return f"event {i}: {problem}"
        seen |= kinds
    size = sum(map(_size, encoded)) / len(encoded)
    return Prepared(natives, encoded, encode, decode, size, _numbers(seen))


def _loop(fn: Callable[[Any], Any], items: list[Any]) -> None:
    for x in items:
        fn(x)


def _const(x: list[Any]) -> list[Any]:
    return x


def run(data: CodecData | None = None, rounds: int | None = None) -> Report:
    n = int_from_env("BENCH_CODEC_EVENTS", 10_000)
    data = data or make_codec_data(n)
    rounds = rounds or rounds_from_env()
    report = Report(
        bench=BENCH,
        baseline=BASELINE,
        params={"events": f"{len(data.book)} of each kind", "rounds": rounds,
                "gc": "on" if gc_in_timed_region() else "off"},
    )
    prepared: dict[tuple[str, Kind], Prepared] = {}
    contenders = _contenders()
    for c in contenders:
        try:
            adapter: CodecAdapter = importlib.import_module(c.module).adapter(**c.options)
        except ImportError as exc:
            report.unavailable.append(Unavailable(c.name, f"import failed: {exc}"))
            continue
        for kind in KINDS:
            try:
                got = prepare(adapter, kind, data)
            except Exception as exc:  # a broken adapter costs its rows, not the whole table
                got = f"raised {type(exc).__name__}: {exc}"
            if isinstance(got, str):
                report.unavailable.append(
                    Unavailable(f"{c.name} ({LABELS[kind]})", f"failed the check: {got}"))
            else:
                prepared[c.name, kind] = got

    cases: list[Case[Any]] = []
    for kind in KINDS:
        for direction in ("encode", "decode"):
            for c in contenders:
                p = prepared.get((c.name, kind))
                if p is None:
                    continue
                fn, items = (p.encode, p.natives) if direction == "encode" else (
                    p.decode, p.encoded)
                cases.append(Case(
                    name=c.name,
                    metric=f"{direction} {LABELS[kind]}",
                    run=partial(_loop, fn),
                    setup=partial(_const, items),  # nothing is mutated: same input each round
                    ops=len(items),
                    unit="ev/s",
                    note=c.note,
                    extra={"bytes/event": f"{p.size:.0f}", "numbers": p.numbers},
                ))
    # The prepared objects (~10^5, every library's natives and bytes) live through all rounds;
    # freezing them keeps the untimed gc.collect() before each round from walking them again
    # (it took ~0.3 s a call, most of this bench's wall time). Timed regions are unaffected.
    gc.freeze()
    try:
        report.results = measure_all(cases, rounds=rounds)
    finally:
        gc.unfreeze()
    return report


NOTES = """\
One event = one book delta / one batch of 3 trades / one kline, for every library (cryptofeed
sends a batch as 3 messages: its trade rows are batches/s and bytes per batch). Decode gives:
ours a typed event, seed a typed `BaseEvent` (dacite), cryptofeed a `dict` (no typed object).
bytes/event: the encoded Kafka value, mean; numbers: how prices/quantities come back."""


def main() -> None:
    report = run()
    print_report(report, "Codec: encode / decode one event (events/s, higher is better)")
    print("\n" + NOTES)
    path = write_json(report)
    print(f"\n(results: {path})")


if __name__ == "__main__":
    main()
