"""The simulator's names for Coinbase streams (publication keys): `<channel>.<PRODUCT>` for the
product channels (`level2.BTC-USD`, `market_trades.BTC-USD`, `candles.BTC-USD`,
`ticker.BTC-USD`); heartbeats are the protocol's own (one a second per subscribed connection).

Every message a connection carries is stamped with that connection's next `sequence_num` when
it is queued for it (`Stamp`), so a message the fault injector drops afterwards leaves a gap in
the numbers, as a message lost on the way would.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ttxt_kafka.connectors.coinbase import endpoints as ep
from ttxt_kafka.simulator.feeds import UnknownStream

PRODUCT_CHANNELS = (ep.LEVEL2, ep.TRADES, ep.CANDLES, ep.TICKER)
_SEQ = re.compile(r'"sequence_num":\d+')
_HEAD = 256  # the counter sits near the start of every message


@dataclass(frozen=True)
class Stream:
    channel: str
    product: str


def key_of(channel: str, product: str) -> str:
    return f"{channel}.{product}"


def parse(name: str) -> Stream:
    channel, _, product = name.partition(".")
    if channel not in PRODUCT_CHANNELS or not product:
        raise UnknownStream(name)
    return Stream(channel, product)


class Stamp:
    """One connection's `sequence_num` counter."""

    __slots__ = ("next",)

    def __init__(self) -> None:
        self.next = 0

    def __call__(self, payload: str) -> str:
        """The payload with the next number in place of the one it carries."""
        n = self.next
        self.next = n + 1
        head = _SEQ.sub(f'"sequence_num":{n}', payload[:_HEAD], count=1)
        return head + payload[_HEAD:]
