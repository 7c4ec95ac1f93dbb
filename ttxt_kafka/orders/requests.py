"""Exchange requests as values: what the translators produce and the connector sends.

A `RestCall` is unsigned; the connector signs it at send time (signatures carry a timestamp)
with the exchange's `auth` module and sends exactly the string it signed. A `WsCall` is one
Bybit trade-API operation; `ttxt_kafka.connectors.bybit.orders.ws_message` turns it into the frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class RestCall:
    method: str
    path: str
    params: tuple[tuple[str, str], ...] = ()  # query string, in this order
    body: dict[str, Any] | None = None  # JSON body (Bybit POST)
    signed: bool = True
    weight: int = 1

    def param(self, name: str) -> str | None:
        return next((v for k, v in self.params if k == name), None)


@dataclass(frozen=True, slots=True)
class WsCall:
    op: str  # order.create | order.amend | order.cancel
    args: dict[str, Any] = field(default_factory=dict)
    req_id: str = ""
