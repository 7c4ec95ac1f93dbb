"""`AccountSync`: a command on `ttxt.<venue>.orders` asking the connector for its account now.

The connector answers over REST: one `OrderUpdate` per open order on `.executions`, then the
wallet snapshot(s) (`Wallet`, is_snapshot) and positions on `.account` — the same snapshot it
publishes at start and after every reconnect of its private stream. No `OrderAck`: a sync
places nothing, and doing it twice is harmless.

A custom event registered the documented way (README, "Adding a custom event"): its class, its
schema (kept here, beside the class) and `register_event` with the `orders` channel. Importing
this module (the connector and `ttxt orders` do) makes it encode and decode.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from ttxt_kafka.events import Event
from ttxt_kafka.registry import REGISTRY, register_event

SCHEMA: dict[str, Any] = {
    "type": "record", "name": "AccountSync", "namespace": "ttxt.connectors",
    "doc": "Ask a venue's connector for its open orders and wallet over REST, now.",
    "fields": [
        {"name": "venue", "type": "string"},
        {"name": "symbol", "type": "string"},
        {"name": "native_symbol", "type": "string", "default": ""},
        {"name": "exchange_ts", "type": "long"},
        {"name": "receive_ts", "type": "long"},
        {"name": "sequence", "type": ["null", "long"], "default": None},
        {"name": "command_id", "type": "string"},
    ],
}


@dataclass(slots=True, kw_only=True)
class AccountSync(Event):
    SCHEMA: ClassVar[str] = "AccountSync"

    command_id: str


if AccountSync not in REGISTRY.by_class:
    register_event(AccountSync, SCHEMA, handler="on_account_sync", channel="orders")
