"""OKX's trading parts for the registry: the REST gateway and the private stream (orders,
account; positions for swaps)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ttxt_kafka.credentials import Credentials

from ..trading.build import exchange_clock, private_stream_common
from .endpoints import INST_TYPES, PRIVATE_WS_PATH
from .gateway import OkxGateway
from .normalizer_private import OkxPrivateNormalizer
from .private_stream import OkxPrivateStream

if TYPE_CHECKING:
    from ..trading.trader import Trader


def gateway(trader: Trader, credentials: Credentials) -> OkxGateway:
    c = trader.connector
    return OkxGateway(
        venue=c.venue, inst_type=INST_TYPES[c.spec.category], credentials=credentials,
        rest_base=c.rest_base, symbols=c.symbols, clock_ms=exchange_clock(c),
        timeout=c.config.rest_timeout, limiter=c.rest.limiter)


def private_stream(trader: Trader, credentials: Credentials) -> OkxPrivateStream:
    c, cfg = trader.connector, trader.config
    return OkxPrivateStream(
        url=cfg.endpoints.private_ws or f"{c.ws_base}{PRIVATE_WS_PATH}", credentials=credentials,
        clock_ms=exchange_clock(c), inst_type=INST_TYPES[c.spec.category],
        normalizer=OkxPrivateNormalizer(c.symbols, account_venue=c.venue),
        **private_stream_common(trader))
