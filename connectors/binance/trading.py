"""Binance's trading parts for the registry: the gateway and the private streams a trader
runs (spot: the WebSocket API's user data subscription; USD-M: a listen key stream)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ttxt_kafka.credentials import Credentials

from ..trading.build import exchange_clock, private_stream_common
from .gateway import BinanceGateway
from .normalizer_private import BinanceSpotPrivateNormalizer, BinanceUsdmPrivateNormalizer
from .user_stream import SPOT_WS_API, BinanceSpotUserStream, BinanceUsdmUserStream

if TYPE_CHECKING:
    from ..trading.trader import Trader


def gateway(trader: Trader, credentials: Credentials) -> BinanceGateway:
    c, cfg = trader.connector, trader.config
    return BinanceGateway(
        venue=c.venue, credentials=credentials, rest_base=c.rest_base, symbols=c.symbols,
        clock_ms=exchange_clock(c), recv_window_ms=cfg.recv_window_ms,
        timeout=c.config.rest_timeout, limiter=c.rest.limiter)


def spot_private_stream(trader: Trader, credentials: Credentials) -> BinanceSpotUserStream:
    c, cfg = trader.connector, trader.config
    overridden = c.config.endpoints.ws is not None  # the simulator serves it on the same host
    url = cfg.endpoints.private_ws or (f"{c.ws_base}/ws-api/v3" if overridden else SPOT_WS_API)
    return BinanceSpotUserStream(url=url, credentials=credentials, clock_ms=exchange_clock(c),
                                 normalizer=BinanceSpotPrivateNormalizer(c.symbols),
                                 **private_stream_common(trader))


def usdm_private_stream(trader: Trader, credentials: Credentials) -> BinanceUsdmUserStream:
    c, cfg = trader.connector, trader.config
    assert isinstance(trader.gateway, BinanceGateway)  # listen keys come from the REST API
    return BinanceUsdmUserStream(ws_base=cfg.endpoints.private_ws or c.ws_base,
                                 gateway=trader.gateway,
                                 keepalive_interval=cfg.keepalive_interval,
                                 normalizer=BinanceUsdmPrivateNormalizer(c.symbols),
                                 **private_stream_common(trader))
