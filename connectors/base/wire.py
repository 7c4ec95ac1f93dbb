"""Request parameters as exchanges take them, for every REST connector: one text form of a
value (booleans lowercase, decimals plain, floats refused: a price never passes through one),
the query string and the compact JSON body. What is sent is what is signed."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any
from urllib.parse import quote

Params = Mapping[str, object] | Iterable[tuple[str, object]]


def param_text(value: object) -> str:
    """A parameter value as exchanges expect it: booleans lowercase, decimals plain."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, float):
        raise TypeError("floats are not sent to exchanges: use a decimal string")
    return str(value)


def encode_query(params: Params) -> str:
    """`name=value&...` in the given order, every character but `A-Za-z0-9_.-~` percent-encoded
    as UTF-8."""
    items = params.items() if isinstance(params, Mapping) else params
    return "&".join(f"{quote(k, safe='')}={quote(param_text(v), safe='')}" for k, v in items)


def json_body(payload: Mapping[str, Any]) -> str:
    """A POST body: compact JSON, decimals as plain strings."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False, default=param_text)
