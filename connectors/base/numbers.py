"""Impossible numbers are malformed frames: the one check every venue's events go through.

A price or quantity is accepted only as a plain decimal string (`123`, `0.001`; no sign, no
exponent, no `inf`/`nan`, no spaces), a price must be positive, a quantity must not be negative
(qty 0 deletes a level), and neither may have more digits than the instrument allows:

* fractional digits (trailing zeros aside: Binance pads `65000.01000000`) at most those of the
  instrument's tick size (prices) or lot size (quantities), or the venue's asset precision
  (`VenueSpec.asset_decimals`: 8 on Binance, Bybit and Bitget, 10 on Gate.io, which prints
  amounts such as `16.4700000000`; `MIN_DECIMALS`, 10, where no venue is given), whichever is
  more. `InstrumentInfo` does not carry the asset precision, and real books carry numbers finer
  than the current order filters (Binance's captured NKNUSDT book has qty `11979.3` with a lot
  step of 1 and price `0.25974` with a tick of 0.0001; Gate.io's books have quantities such as
  `153.1893464532`), so the filters alone would refuse genuine updates. 18 integer digits + 10
  decimals = 28 significant digits, the precision of Python's default Decimal context:
  arithmetic on an accepted number is exact;
* at most `MAX_INT_DIGITS` integer digits (no traded price or size has 19: a 400-digit price is
  a broken frame, not a market).

`NumberChecker(instruments)(event)` returns None for a sane event, or the reason it is refused.
The connector base applies it to every event a normalizer produces (one place for every venue):
a refused book update breaks the book (resync); any other refused event is skipped; both are
counted as malformed and logged at a bounded rate.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping

from ttxt_kafka.events import BBO, Event, InstrumentInfo, Kline, OrderBook, Trades

MAX_INT_DIGITS = 18
MIN_DECIMALS = 10
_PLAIN = re.compile(r"(?:0|[1-9][0-9]{0,17})(?:\.([0-9]*?)0*)?")  # 17 = MAX_INT_DIGITS - 1
_MAX_FRACTION = 18  # where the instrument is unknown


@functools.cache
def _fits(decimals: int) -> Callable[[str], object]:
    """`fullmatch` of the plain decimals with at most `decimals` fractional digits besides
    trailing zeros: the whole check of a string in one C call (the fast path)."""
    return re.compile(rf"(?:0|[1-9][0-9]{{0,17}})(?:\.[0-9]{{0,{decimals}}}0*)?").fullmatch


def _decimals(step: str | None) -> int:
    """Fractional digits a step such as `0.01000000` allows (2); unknown steps allow the max."""
    if not step or not _PLAIN.fullmatch(step):
        return _MAX_FRACTION
    m = _PLAIN.fullmatch(step)
    assert m is not None
    return len(m.group(1) or "")


def check_number(value: object, what: str, decimals: int, positive: bool) -> str | None:
    """None if `value` is a sane price (positive=True) or quantity, else why not."""
    if not isinstance(value, str):
        return f"{what} {value!r} is not a decimal string"
    m = _PLAIN.fullmatch(value)
    if m is None:
        if value.startswith("-") and _PLAIN.fullmatch(value[1:]):
            return f"{what} {value} is negative"
        return f"{what} {_short(value)} is not a plain decimal of at most {MAX_INT_DIGITS} digits"
    frac = m.group(1) or ""
    if len(frac) > decimals:
        return f"{what} {_short(value)} has more than {decimals} decimals"
    if positive and not value.strip("0."):
        return f"{what} {value} is not positive"
    return None


def _short(value: str) -> str:
    return repr(value) if len(value) <= 40 else repr(value[:20] + "..." + value[-8:])


class NumberChecker:
    """The check, with the precision of each instrument (by native symbol)."""

    def __init__(self, instruments: Iterable[InstrumentInfo] | Mapping[str, InstrumentInfo] = (),
                 min_decimals: int = MIN_DECIMALS) -> None:
        """`min_decimals`: the venue's asset precision (`VenueSpec.asset_decimals`)."""
        infos = instruments.values() if isinstance(instruments, Mapping) else instruments
        # native symbol -> (price decimals, qty decimals)
        self._precision: dict[str, tuple[int, int]] = {
            i.native_symbol: (max(_decimals(i.tick_size), min_decimals),
                              max(_decimals(i.lot_size), min_decimals))
            for i in infos}

    def precision(self, native: str) -> tuple[int, int]:
        return self._precision.get(native, (_MAX_FRACTION, _MAX_FRACTION))

    def __call__(self, ev: Event) -> str | None:
        """None if every price and quantity of the event is sane, else the first problem."""
        cls = ev.__class__
        if cls is OrderBook:
            return self.book(ev)  # type: ignore[arg-type]
        pd, qd = self.precision(ev.native_symbol)
        if cls is Trades:
            fp, fq = _fits(pd), _fits(qd)
            for t in ev.trades:  # type: ignore[attr-defined]
                price, qty = t.price, t.qty
                if (type(price) is str and type(qty) is str and fp(price) and fq(qty)
                        and price.strip("0.") and qty.strip("0.")):
                    continue  # the fast path: both plain, within precision, positive
                why = (check_number(t.price, "price", pd, True)
                       or check_number(t.qty, "qty", qd, True))
                if why:
                    return why
            return None
        if cls is BBO:
            b: BBO = ev  # type: ignore[assignment]
            # An empty side of a BBO reads price 0 / qty 0 on some venues: allowed together.
            for price, qty, side in ((b.bid_price, b.bid_qty, "bid"),
                                     (b.ask_price, b.ask_qty, "ask")):
                empty = isinstance(price, str) and not price.strip("0.")
                why = (check_number(price, f"{side} price", pd, not empty)
                       or check_number(qty, f"{side} qty", qd, False))
                if why:
                    return why
            return None
        if cls is Kline:
            k: Kline = ev  # type: ignore[assignment]
            for name in ("open", "high", "low", "close"):
                why = check_number(getattr(k, name), name, pd, True)
                if why:
                    return why
            return None
        return None

    def book(self, ev: OrderBook) -> str | None:
        pd, qd = self.precision(ev.native_symbol)
        fp, fq = _fits(pd), _fits(qd)
        for side, levels in (("bid", ev.bids), ("ask", ev.asks)):
            for level in levels:
                price, qty = level[0], level[1]
                # The fast path: both plain, within precision, price not zero.
                if (type(price) is str and type(qty) is str and fp(price) and fq(qty)
                        and price.strip("0.")):
                    continue
                return (check_number(price, f"{side} price", pd, True)
                        or check_number(qty, f"{side} qty", qd, False)
                        or f"{side} level {level!r} refused")
        return None
