"""Gate.io's trading parts for the registry: the REST gateway and the private stream."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ttxt_kafka.credentials import Credentials

from ..trading.build import exchange_clock, private_stream_common
from . import endpoints as ep
from .gateway import GateGateway
from .normalizer_private import GatePrivateNormalizer
from .private_stream import GatePrivateStream

if TYPE_CHECKING:
    from ..trading.trader import Trader


def gateway(trader: Trader, credentials: Credentials) -> GateGateway:
    c = trader.connector
    return GateGateway(venue=c.venue, credentials=credentials, rest_base=c.rest_base,
                       symbols=c.symbols, clock_ms=exchange_clock(c),
                       timeout=c.config.rest_timeout, limiter=c.rest.limiter)


def private_stream(trader: Trader, credentials: Credentials) -> GatePrivateStream:
    c, cfg = trader.connector, trader.config
    return GatePrivateStream(
        url=cfg.endpoints.private_ws or ep.ws_url(c.ws_base), credentials=credentials,
        clock_ms=exchange_clock(c),
        heartbeat=c.heartbeat_interval or c.spec.heartbeat.client_ping or 20.0,
        normalizer=GatePrivateNormalizer(c.symbols, account_venue=c.venue),
        **private_stream_common(trader))
