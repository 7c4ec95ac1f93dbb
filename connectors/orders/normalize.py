"""Helpers shared by the private-stream normalizers: parsing, errors, exact decimal strings.

The normalizers follow the connector framework's contract (`connectors.base.normalizer`, on
the connectors branch): `normalizer(raw, receive_ts) -> list[Event]`, pure, a symbol map given
at construction, `MalformedMessage` for a frame it cannot read, no events for control frames.
`PrivateNormalizer` mirrors that base class (same constructor, `symbol()` and call signature)
so that when both branches meet it is replaced by it, and `MalformedPrivateMessage` by
`MalformedMessage`.

Exactness: values pass through as the exchange's strings. Where a value must be derived
(Binance's `free + locked`, a size without its sign, an average price from cumulative
quote / quantity) it is computed with `Decimal` and written back in plain notation.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from decimal import Context, Decimal, InvalidOperation
from typing import Any

from ttxt_kafka.events import Event

Raw = str | bytes | bytearray | Mapping[str, Any]

# Quote assets tried, longest first, to split an unknown native symbol (fallback only).
_QUOTES = ("FDUSD", "USDT", "USDC", "BUSD", "TUSD", "USD", "EUR", "TRY", "BTC", "ETH", "BNB")

# An average price rarely terminates: it is given to 34 significant digits (decimal128).
_AVERAGE = Context(prec=34)

PARSE_ERRORS = (KeyError, TypeError, ValueError, AttributeError, IndexError, InvalidOperation)


class MalformedPrivateMessage(ValueError):
    """A private-stream frame that cannot be turned into events (bad JSON, missing fields)."""


class PrivateStreamError(Exception):
    """The exchange reported an error on the private stream (e.g. authentication refused)."""

    def __init__(self, exchange: str, code: str, message: str) -> None:
        super().__init__(f"{exchange} error {code}: {message}")
        self.exchange = exchange
        self.code = code
        self.message = message


def parse(raw: Raw) -> Any:
    if isinstance(raw, str | bytes | bytearray):
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise MalformedPrivateMessage(f"not JSON ({exc}): {head(raw)}") from None
    return raw


def head(raw: Raw, n: int = 120) -> str:
    text = raw if isinstance(raw, str) else repr(raw)
    return text[:n] + ("..." if len(text) > n else "")


def malformed(raw: Raw, exc: BaseException) -> MalformedPrivateMessage:
    what = f"missing field {exc}" if isinstance(exc, KeyError) else f"{type(exc).__name__}: {exc}"
    return MalformedPrivateMessage(f"{what} in {head(raw)}")


class PrivateNormalizer:
    """Venue name and the native -> normalized symbol map (see the module docstring)."""

    venue: str = ""

    def __init__(self, symbols: Mapping[str, str] | None = None) -> None:
        self._names: dict[str, str] = dict(symbols or {})

    def symbol(self, native: str) -> str:
        """Normalized symbol of a native one; unknown ones are guessed once and remembered."""
        name = self._names.get(native)
        if name is None:
            name = self._names[native] = guess_symbol(native)
        return name

    def __call__(self, raw: Raw, receive_ts: int) -> list[Event]:
        raise NotImplementedError


def guess_symbol(native: str) -> str:
    for quote in _QUOTES:
        if native.endswith(quote) and len(native) > len(quote):
            return f"{native[: -len(quote)]}/{quote}"
    return native


# ---------------------------------------------------------------- exact values


def us(ms: Any) -> int:
    """Exchange milliseconds (int or digit string) -> microseconds."""
    return int(ms) * 1000


def plain(value: Decimal) -> str:
    """A decimal in plain notation, keeping its exponent (`Decimal("1.50")` -> "1.50")."""
    return format(value, "f")


def is_zero(text: Any) -> bool:
    """Empty, None, or a number equal to zero ("0", "0.00000")."""
    if text is None or text == "":
        return True
    return Decimal(str(text)) == 0


def nonzero(text: Any) -> str | None:
    """The value as a string, or None when the exchange sends ""/0 for "not set"."""
    return None if is_zero(text) else str(text)


def add(a: str, b: str) -> str:
    return plain(Decimal(a) + Decimal(b))


def unsigned(text: str) -> str:
    """A signed amount's absolute value, textually exact ("-10.5" -> "10.5")."""
    return text[1:] if text.startswith("-") else text.lstrip("+")


def average(cum_quote: str, cum_qty: str) -> str | None:
    """Average fill price = cumulative quote / cumulative quantity (None before any fill)."""
    qty = Decimal(cum_qty)
    if not qty:
        return None
    return plain(_strip(_AVERAGE.divide(Decimal(cum_quote), qty)))


def _strip(value: Decimal) -> Decimal:
    """Trailing zeros of the fraction removed, never scientific notation."""
    sign, digits, exp = value.as_tuple()
    assert isinstance(exp, int)
    digits_list = list(digits)
    while exp < 0 and len(digits_list) > 1 and digits_list[-1] == 0:
        digits_list.pop()
        exp += 1
    return Decimal((sign, tuple(digits_list), exp))
