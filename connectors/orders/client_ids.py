"""Client order ids: each exchange's rules, and the id we make when a command has none.

The generated id is derived from the command id (`ttxt-` + 31 hex digits of its SHA-256): a
command redelivered after a crash gets the same id again, so the connector can ask the exchange
whether that order already exists, and the exchange's own duplicate check refuses a second copy.
It fits both exchanges' rules (36 characters of `[A-Za-z0-9_-]`).
"""

from __future__ import annotations

import hashlib
import re

MAX_LENGTH = 36
PREFIX = "ttxt-"

# Binance spot and USD-M: newClientOrderId must match this (documented pattern).
BINANCE_PATTERN = re.compile(r"^[\.A-Z\:/a-z0-9_-]{1,36}$")
# Prefixes Binance USD-M gives its own orders (liquidation, ADL, settlement): never ours.
BINANCE_RESERVED = ("autoclose-", "adl_autoclose", "settlement_autoclose-")
# Bybit orderLinkId: at most 36 characters, letters, digits, dashes and underscores.
BYBIT_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,36}$")


def client_order_id_for(command_id: str, prefix: str = PREFIX) -> str:
    """The client order id of a command that did not name one (stable across redeliveries)."""
    if not BYBIT_PATTERN.match(prefix + "0") or len(prefix) > MAX_LENGTH - 8:
        raise ValueError(f"client order id prefix {prefix!r}: use at most 28 of [A-Za-z0-9_-]")
    digest = hashlib.sha256(command_id.encode()).hexdigest()
    return prefix + digest[: MAX_LENGTH - len(prefix)]


def client_order_id_problem(client_order_id: str, exchange: str) -> str | None:
    """Why an exchange would refuse this client order id, or None if it is fine."""
    if exchange == "binance":
        if not BINANCE_PATTERN.match(client_order_id):
            return (f"client order id {client_order_id!r} must be 1-36 characters of "
                    "letters, digits and . : / _ -")
        if client_order_id.startswith(BINANCE_RESERVED):
            return f"client order id {client_order_id!r} uses a prefix Binance reserves"
        return None
    if exchange == "bybit":
        if not BYBIT_PATTERN.match(client_order_id):
            return (f"client order id {client_order_id!r} must be 1-36 characters of "
                    "letters, digits, _ and -")
        return None
    raise ValueError(f"no client order id rules for exchange {exchange!r}")
