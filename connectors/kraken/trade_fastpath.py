"""Kraken v2 trade pushes read straight from the frame's text.

Trades are Kraken's busiest channel and its v2 pushes have one fixed shape (the docs' key
order): `{"channel":"trade","type":"update","data":[{"symbol":…,"side":…,"price":<number>,
"qty":<number>,"ord_type":…,"trade_id":<int>,"timestamp":"…Z"},…]}`. Matching that shape with
one compiled pattern per trade takes each number's exact digits from the text itself (no JSON
tree, no float, nothing to re-read) and the time's minute from a cache. Anything else, or a
number with more decimals than the pair's precision, returns None and the general decoder
reads the frame, so this path only ever agrees with it (tests compare both on every frame).

The same reader is compiled from `_trades.c` when the package is installed (`hatch_build.py`);
it is what runs (`NATIVE`), at about a third of the pattern's cost per frame. This module's
pattern is the reference it is tested against, and what runs where no C compiler was found.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ttxt_kafka.events import Event, Side, new_trade, new_trades

try:
    from ._trades import Reader as _NativeReader
except ImportError:  # built without a C compiler: the pattern below reads every frame
    _NativeReader = None  # type: ignore[assignment, misc]
NATIVE = _NativeReader is not None

PREFIX = '{"channel":"trade","type":"update","data":['
_START = len(PREFIX)
# One trade object, then "," (another follows) or "]}" (the frame ends).
_TRADE = re.compile(
    r'\{"symbol":"([A-Z0-9./]+)","side":"(buy|sell)",'
    r'"price":(0|[1-9][0-9]*)(?:\.([0-9]+))?,"qty":(0|[1-9][0-9]*)(?:\.([0-9]+))?,'
    r'"ord_type":"[a-z]+","trade_id":([0-9]+),'
    r'"timestamp":"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}):([0-9]{2})\.([0-9]{6})Z"\}'
    r'(,|\]\}\Z)')
_SIDES = {"buy": Side.BUY, "sell": Side.SELL}
_ZEROS = ["0" * n for n in range(32)]
_MINUTES: dict[str, int] = {}  # "2023-10-06T17:35" -> its µs since the epoch


def _minute(text: str) -> int | None:
    """µs since the epoch of "2023-10-06T17:35"; None if that is no date and time."""
    if len(_MINUTES) > 10_000:
        _MINUTES.clear()
    try:
        moment = datetime.fromisoformat(text + ":00+00:00")
    except ValueError:
        return None
    us = _MINUTES[text] = int(moment.timestamp()) * 1_000_000
    return us


def _fixed(whole: str, frac: str | None, places: int) -> str | None:
    """Digits with exactly `places` decimals; None when they carry more (the general path
    then says so as a malformed frame)."""
    if frac is None:
        return f"{whole}.{_ZEROS[places]}" if places else whole
    n = len(frac)
    if n <= places:
        return f"{whole}.{frac}{_ZEROS[places - n]}"
    if frac[places:].strip("0"):
        return None
    return f"{whole}.{frac[:places]}" if places else whole


class TradeReader:
    """Reads trade pushes for one normalizer (its venue, pair precisions and names)."""

    def __init__(self, venue: str, places: dict[str, tuple[int, int]],
                 default_places: tuple[int, int], name: Callable[[str], str]) -> None:
        self.venue = venue
        self.places = places
        self.default_places = default_places
        self.name = name
        # The Trades events of a trade push (one per symbol), or None when the frame is not in
        # the documented shape (the caller decodes it in full). The compiled reader also leaves
        # a push that mixes symbols (none in the captures) to the decoder.
        self.read: Callable[[str, int], list[Event] | None] = self.read_by_pattern
        if _NativeReader is not None:
            self.read = _NativeReader(venue, places, default_places, name, Side.BUY, Side.SELL,
                                      new_trade, new_trades)

    def read_by_pattern(self, raw: str, receive_ts: int) -> list[Event] | None:
        if not raw.startswith(PREFIX):
            return None
        pos = _START
        trades: list[Any] = []
        first = ""
        grouped: dict[str, list[Any]] | None = None  # made only if a push mixes symbols
        places = self.places
        while True:
            m = _TRADE.match(raw, pos)
            if m is None:
                return None
            native, side, p_whole, p_frac, q_whole, q_frac, tid, minute, sec, micro, end = \
                m.groups()
            pp, qp = places.get(native, self.default_places)
            # the common case inline: fewer decimals than the pair's precision
            if p_frac is not None and len(p_frac) <= pp:
                price: str | None = f"{p_whole}.{p_frac}{_ZEROS[pp - len(p_frac)]}"
            else:
                price = _fixed(p_whole, p_frac, pp)
            if q_frac is not None and len(q_frac) <= qp:
                qty: str | None = f"{q_whole}.{q_frac}{_ZEROS[qp - len(q_frac)]}"
            else:
                qty = _fixed(q_whole, q_frac, qp)
            if price is None or qty is None:
                return None
            base = _MINUTES.get(minute)
            if base is None and (base := _minute(minute)) is None:
                return None
            trade = new_trade(tid, price, qty, _SIDES[side], base + int(sec + micro))
            if not first:
                first = native
            if native == first and grouped is None:
                trades.append(trade)
            else:
                if grouped is None:
                    grouped = {first: trades}
                grouped.setdefault(native, []).append(trade)
            if end != ",":
                break
            pos = m.end()
        venue, name = self.venue, self.name
        if grouped is None:
            return [new_trades(venue, name(first), first, trade.exchange_ts, receive_ts, None,
                               trades)]
        return [new_trades(venue, name(native), native, batch[-1].exchange_ts, receive_ts,
                           None, batch) for native, batch in grouped.items()]
