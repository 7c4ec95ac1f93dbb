"""What the per-exchange normalizers share: JSON parsing, symbol lookup, the error contract.

A normalizer is pure: `normalizer(raw, receive_ts)` -> list of events, where `raw` is a frame
as received (str or bytes) or an already parsed object, and `receive_ts` the local receive time
in microseconds. No I/O, no clock, no state besides the symbol map it was built with, so it is
tested with a captured message and nothing else. A frame it cannot read raises
`MalformedMessage`; an error the exchange reports raises `ExchangeMessageError`; control frames
(acks, pongs) give no events.

Frames are decoded with msgspec into typed `msgspec.Struct`s that mirror the exchange's
documented messages (`connectors/<exchange>/messages.py`): parsing and type checking are one C
pass that keeps only the fields used, and a frame of the wrong shape (a missing field, a number
where a price string belongs, an unknown event type) is refused with msgspec's message naming
the field. Shapes the typed decoders do not cover (acks, pongs, method answers, already parsed
objects) take a slower path through `parse`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import msgspec

from ttxt_kafka.events import Event

from .errors import MalformedMessage
from .symbols import SymbolMap, guess_base_quote, normalized_symbol

Raw = str | bytes | bytearray | Mapping[str, Any]

# What a normalizer's own code may raise on a frame of a shape it did not expect.
FRAME_ERRORS = (KeyError, TypeError, ValueError, AttributeError, IndexError)

_json_decode = msgspec.json.Decoder().decode
_MISSING = re.compile(r"^Object missing required field `([^`]*)`")


def parse(raw: Raw) -> Any:
    """The frame as a JSON object (frames that already are objects pass through).

    msgspec, the library of the typed decoders: one JSON parser for every frame. Strings stay
    exact `str`, numbers `int` (or `float`, which the typed decoders refuse for prices)."""
    if isinstance(raw, str | bytes | bytearray):
        try:
            return _json_decode(raw)
        except msgspec.DecodeError as exc:
            raise MalformedMessage(f"not JSON ({exc}): {_head(raw)}") from None
    return raw


def _head(raw: Any, n: int = 120) -> str:
    text = raw if isinstance(raw, str) else repr(raw)
    return text[:n] + ("..." if len(text) > n else "")


def malformed(raw: Any, exc: BaseException) -> MalformedMessage:
    """A MalformedMessage naming what was missing or wrong, with the start of the frame.

    msgspec's validation messages name the field and its path (`Expected `str`, got `float` -
    at `$.data.p``); a missing field reads `missing field 'p' - at `$.data``, as for a dict."""
    if isinstance(exc, msgspec.ValidationError):
        what = _MISSING.sub(r"missing field '\1'", str(exc))
    elif isinstance(exc, msgspec.DecodeError):
        what = f"not JSON ({exc})"
    elif isinstance(exc, KeyError):
        what = f"missing field {exc}"
    else:
        what = f"{type(exc).__name__}: {exc}"
    return MalformedMessage(f"{what} in {_head(raw)}")


def convert(raw: Raw, obj: Any, into: Any) -> Any:
    """`obj` (parsed JSON) as the typed message `into`, or MalformedMessage naming the field."""
    try:
        return msgspec.convert(obj, into)
    except msgspec.ValidationError as exc:
        raise malformed(raw, exc) from None


class BaseNormalizer:
    """Holds the venue name and the native -> normalized symbol map."""

    venue: str = ""

    def __init__(self, symbols: SymbolMap | Mapping[str, str] | None = None) -> None:
        if isinstance(symbols, SymbolMap):
            names: Mapping[str, str] = symbols.to_normalized
        else:
            names = symbols or {}
        self._names: dict[str, str] = dict(names)

    def symbol(self, native: str) -> str:
        """Normalized symbol of a native one; unknown ones are guessed once and remembered."""
        name = self._names.get(native)
        if name is None:
            base, quote = guess_base_quote(native)
            name = self._names[native] = normalized_symbol(base, quote) if quote else native
        return name

    def __call__(self, raw: Raw, receive_ts: int) -> list[Event]:
        raise NotImplementedError
