"""Client order ids: each exchange's rules, and the id we make when a command has none.

The generated id is derived from the command id (`ttxt-` + 31 hex digits of its SHA-256): a
command redelivered after a crash gets the same id again, so the connector can ask the exchange
whether that order already exists, and the exchange's own duplicate check refuses a second copy.
It fits every registered exchange's rule: 36 characters of `[A-Za-z0-9_-]`, or, where the
exchange's `ClientIdRule` demands a prefix and fewer characters (Gate.io: `t-` and at most 30),
that prefix, `ttxt-` and as many hex digits as fit (`t-ttxt-` + 23: 92 bits); for an exchange
whose rule still refuses it (OKX: letters and digits only), the compact form (32 letters and
digits).
"""

from __future__ import annotations

import hashlib
import re

from ttxt_kafka import venues

MAX_LENGTH = 36
COMPACT_LENGTH = 32  # letters and digits only, for exchanges that allow no more (OKX)
PREFIX = "ttxt-"

# The generated ids use only what every exchange's rule accepts.
_PORTABLE = re.compile(r"^[A-Za-z0-9_-]{1,36}$")


def client_order_id_for(command_id: str, prefix: str = PREFIX,
                        exchange: str | None = None) -> str:
    """The client order id of a command that did not name one (stable across redeliveries);
    `exchange` (registered): shaped by its rule's required prefix and length, and where its
    rule refuses that (OKX: 1-32 letters and digits) made compact: the prefix's letters and
    digits and the digest, 32 characters in all."""
    if not _PORTABLE.match(prefix + "0") or len(prefix) > MAX_LENGTH - 8:
        raise ValueError(f"client order id prefix {prefix!r}: use at most 28 of [A-Za-z0-9_-]")
    length = MAX_LENGTH
    if exchange is not None:
        rule = venues.of_exchange(exchange)[0].client_ids
        prefix, length = rule.required_prefix + prefix, min(length, rule.max_length)
    digest = hashlib.sha256(command_id.encode()).hexdigest()
    cid = prefix + digest[: length - len(prefix)]
    if exchange is None or client_order_id_problem(cid, exchange) is None:
        return cid
    compact = re.sub(r"[^A-Za-z0-9]", "", prefix)
    return compact + digest[: COMPACT_LENGTH - len(compact)]


def client_order_id_problem(client_order_id: str, exchange: str | None) -> str | None:
    """Why an exchange would refuse this client order id, or None if it is fine (the rule is
    the exchange's `VenueSpec.client_ids`; no exchange: the portable rule)."""
    if exchange is None:
        return None if _PORTABLE.match(client_order_id) else (
            f"client order id {client_order_id!r} must be 1-36 characters of letters, digits, "
            "_ and -")
    return venues.of_exchange(exchange)[0].client_ids.problem(client_order_id)
