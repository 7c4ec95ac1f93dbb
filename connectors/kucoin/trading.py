"""KuCoin's trading parts for the registry: the REST gateway (HF orders) and the private
stream (orders, balances)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ttxt_kafka.credentials import Credentials

from ..trading.build import exchange_clock, private_stream_common
from .gateway import KucoinGateway, signing_client
from .normalizer_private import KucoinPrivateNormalizer
from .private_stream import KucoinPrivateStream

if TYPE_CHECKING:
    from ..trading.trader import Trader


def gateway(trader: Trader, credentials: Credentials) -> KucoinGateway:
    c = trader.connector
    return KucoinGateway(
        venue=c.venue, credentials=credentials, rest_base=c.rest_base, symbols=c.symbols,
        clock_ms=exchange_clock(c), timeout=c.config.rest_timeout, limiter=c.rest.limiter)


def private_stream(trader: Trader, credentials: Credentials) -> KucoinPrivateStream:
    c = trader.connector
    credentials.require_passphrase("KuCoin")
    rest = signing_client(credentials, c.rest_base, exchange_clock(c),
                          timeout=c.config.rest_timeout, retries=2)
    return KucoinPrivateStream(rest=rest, normalizer=KucoinPrivateNormalizer(c.symbols),
                               **private_stream_common(trader))
