"""MEXC's trading parts for the registry: the REST gateway and the listen-key private stream
(orders, deals, account)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ttxt_kafka.credentials import Credentials

from ..trading.build import exchange_clock, private_stream_common
from .gateway import MexcGateway
from .normalizer_private import MexcPrivateNormalizer
from .private_stream import MexcPrivateStream

if TYPE_CHECKING:
    from ..trading.trader import Trader


def gateway(trader: Trader, credentials: Credentials) -> MexcGateway:
    c, cfg = trader.connector, trader.config
    return MexcGateway(
        venue=c.venue, credentials=credentials, rest_base=c.rest_base, symbols=c.symbols,
        natives=lambda: c.native_symbols, clock_ms=exchange_clock(c),
        recv_window_ms=cfg.recv_window_ms, timeout=c.config.rest_timeout, limiter=c.rest.limiter)


def private_stream(trader: Trader, credentials: Credentials) -> MexcPrivateStream:
    c, cfg = trader.connector, trader.config
    assert isinstance(trader.gateway, MexcGateway)  # listen keys come from the REST API
    return MexcPrivateStream(ws_base=cfg.endpoints.private_ws or c.ws_base,
                             gateway=trader.gateway, keepalive_interval=cfg.keepalive_interval,
                             normalizer=MexcPrivateNormalizer(c.symbols),
                             **private_stream_common(trader))
