"""Helpers shared by the private-stream normalizers: the parse errors they catch and exact
decimal strings.

The normalizers follow the connector framework's contract (`ttxt_kafka.connectors.base.normalizer`):
`normalizer(raw, receive_ts) -> list[Event]`, pure, a symbol map given at construction,
`MalformedMessage` for a frame it cannot read, `ExchangeMessageError` for an error the exchange
reports (a refused auth), no events for control frames. They derive from `BaseNormalizer` and
use its `parse` / `malformed`.

Exactness: values pass through as the exchange's strings. Where a value must be derived
(Binance's `free + locked`, a size without its sign, an average price from cumulative
quote / quantity) it is computed with `Decimal` and written back in plain notation.
"""

from __future__ import annotations

from decimal import Context, Decimal, InvalidOperation
from typing import Any

# An average price rarely terminates: it is given to 34 significant digits (decimal128).
_AVERAGE = Context(prec=34)

PARSE_ERRORS = (KeyError, TypeError, ValueError, AttributeError, IndexError, InvalidOperation)


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
