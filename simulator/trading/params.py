"""Reading an order request's parameters the way an exchange does: a missing or malformed
parameter is a `Refusal` carrying the exchange's own code, message and HTTP status."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

_DECIMAL = re.compile(r"^[0-9]{1,20}(\.[0-9]{1,20})?$")


class Refusal(Exception):
    def __init__(self, code: int, message: str, status: int = 400) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status


def text(params: Mapping[str, Any], name: str, missing: Refusal | None = None) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        if missing is not None:
            raise missing
        return None
    return str(value)


def scalar(value: Any) -> str | None:
    """A JSON parameter as text: None when absent or empty; "invalid" for a boolean, a float or
    an object (then refused by the check that reads it, e.g. `decimal`)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        return "invalid"
    return str(value)


def decimal(value: str | None, bad: Refusal) -> Decimal | None:
    """A plain positive decimal string as exchanges accept it, or the refusal."""
    if value is None:
        return None
    if not _DECIMAL.match(value):
        raise bad
    number = Decimal(value)
    if number <= 0:
        raise bad
    return number


def integer(value: str | None, bad: Refusal) -> int | None:
    if value is None:
        return None
    if not value.isdigit():
        raise bad
    return int(value)


