"""What a backtest remembers for its report: fills, PnL samples over time, the mid's path.

Per (venue, symbol): the ledger (exact PnL), every fill with the position and realized PnL
after it, a PnL sample every `sample_us` of exchange time and after each fill (exact, for
`equity.csv`), and the mid each time it changes (as floats: they are only drawn, never
accounted — compact arrays, 16 bytes a change).
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass, field
from decimal import Decimal

from ttxt_kafka.events import Fill

from .instruments import split_symbol
from .ledger import SymbolLedger

Key = tuple[str, str]


@dataclass(frozen=True, slots=True)
class Sample:
    ts: int
    mid: Decimal | None
    position: Decimal
    realized: Decimal
    unrealized: Decimal
    fees: Decimal
    total: Decimal


@dataclass(frozen=True, slots=True)
class FillRow:
    fill: Fill
    position: Decimal  # after the fill
    realized: Decimal  # cumulative, after the fill


@dataclass
class SymbolTrack:
    ledger: SymbolLedger
    mid: Decimal | None = None
    fills: list[FillRow] = field(default_factory=list)
    samples: list[Sample] = field(default_factory=list)
    mid_ts: array = field(default_factory=lambda: array("q"))  # type: ignore[type-arg]
    mid_px: array = field(default_factory=lambda: array("d"))  # type: ignore[type-arg]

    def sample(self, ts: int) -> Sample:
        led, mid = self.ledger, self.mid
        s = Sample(ts, mid, led.position, led.realized, led.unrealized(mid),
                   led.fees_value(mid), led.total(mid))
        if self.samples and self.samples[-1].ts == ts:
            self.samples[-1] = s  # one sample per instant: the state after it
        else:
            self.samples.append(s)
        return s


class Tracker:
    def __init__(self, sample_us: int) -> None:
        self.sample_us = sample_us
        self.tracks: dict[Key, SymbolTrack] = {}
        self._next_sample: int | None = None

    def track(self, venue: str, symbol: str) -> SymbolTrack:
        key = (venue, symbol)
        found = self.tracks.get(key)
        if found is None:
            base, quote = split_symbol(symbol)
            found = self.tracks[key] = SymbolTrack(SymbolLedger(venue, symbol, base, quote))
        return found

    def on_mid(self, venue: str, symbol: str, ts: int, mid: Decimal | None) -> None:
        track = self.track(venue, symbol)
        if mid is None or mid == track.mid:
            return
        track.mid = mid
        track.mid_ts.append(ts)
        track.mid_px.append(float(mid))

    def on_fill(self, fill: Fill) -> None:
        track = self.track(fill.venue, fill.symbol)
        track.ledger.fill(fill)
        track.fills.append(FillRow(fill, track.ledger.position, track.ledger.realized))
        track.sample(fill.exchange_ts)

    def due(self, ts: int) -> int | None:
        """The latest sampling boundary at or before `ts` not sampled yet, if any (one per
        call: across a gap in the data nothing changed, one sample says it)."""
        if self._next_sample is None:
            self._next_sample = ts - ts % self.sample_us + self.sample_us
            return None
        if ts < self._next_sample:
            return None
        boundary = ts - ts % self.sample_us
        self._next_sample = boundary + self.sample_us
        return boundary

    def sample_all(self, ts: int) -> None:
        for track in self.tracks.values():
            if track.mid is not None or track.fills:
                track.sample(ts)

