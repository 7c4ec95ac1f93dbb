"""Which gateway and private stream a connector's trading mode and exchange get, and where
they connect: the exchange's own private endpoints, or — when the connector's market-data
endpoints are overridden (the simulator) — the same host, unless `trading.endpoints` says."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ttxt_kafka.events import now_us

from ..base.connector import Connector
from ..base.credentials import Credentials
from .gateway import Gateway
from .paper import PaperGateway
from .private import PrivateStream

if TYPE_CHECKING:
    from .trader import Trader


def exchange_clock(connector: Connector) -> Callable[[], int]:
    """Milliseconds on the exchange's clock (the connector measured the drift at start)."""
    return lambda: (now_us() + (connector.clock_drift_us or 0)) // 1000


def gateway_for(trader: Trader, credentials: Credentials | None) -> Gateway | None:
    c, cfg = trader.connector, trader.config
    if cfg.mode == "off":
        return None
    if cfg.mode == "paper":
        return PaperGateway(venue=c.venue, exchange=c.exchange, symbols=c.symbols, books=c.books,
                            settings=cfg.paper, publish=trader.publish)
    assert credentials is not None
    if c.exchange == "binance":
        from ..binance.gateway import BinanceGateway
        return BinanceGateway(
            venue=c.venue, credentials=credentials, rest_base=c.rest_base, symbols=c.symbols,
            clock_ms=exchange_clock(c), recv_window_ms=cfg.recv_window_ms,
            timeout=c.config.rest_timeout, limiter=c.rest.limiter)
    from ..bybit.gateway import BybitGateway
    trade_ws = (cfg.endpoints.trade_ws or f"{c.ws_base}/v5/trade") if cfg.ws_trading else None
    return BybitGateway(
        venue=c.venue, credentials=credentials, rest_base=c.rest_base, trade_ws=trade_ws,
        symbols=c.symbols, clock_ms=exchange_clock(c), recv_window_ms=cfg.recv_window_ms,
        timeout=c.config.rest_timeout, limiter=c.rest.limiter)


def stream_for(trader: Trader, credentials: Credentials) -> PrivateStream:
    c, cfg = trader.connector, trader.config
    common: dict[str, Any] = {
        "venue": c.venue, "publish": trader.publish, "status": trader.status,
        "on_reconnect": trader.on_reconnect, "initial_delay": c.config.reconnect.initial_delay,
        "max_delay": c.config.reconnect.max_delay}
    overridden = c.config.endpoints.ws is not None
    if c.venue == "binance":
        from ..binance.normalizer_private import BinanceSpotPrivateNormalizer
        from ..binance.user_stream import SPOT_WS_API, BinanceSpotUserStream
        url = cfg.endpoints.private_ws or (f"{c.ws_base}/ws-api/v3" if overridden
                                           else SPOT_WS_API)
        return BinanceSpotUserStream(url=url, credentials=credentials,
                                     clock_ms=exchange_clock(c),
                                     normalizer=BinanceSpotPrivateNormalizer(c.symbols),
                                     **common)
    if c.venue == "binance_usdm":
        from ..binance.gateway import BinanceGateway
        from ..binance.normalizer_private import BinanceUsdmPrivateNormalizer
        from ..binance.user_stream import BinanceUsdmUserStream
        assert isinstance(trader.gateway, BinanceGateway)
        return BinanceUsdmUserStream(ws_base=cfg.endpoints.private_ws or c.ws_base,
                                     gateway=trader.gateway,
                                     keepalive_interval=cfg.keepalive_interval,
                                     normalizer=BinanceUsdmPrivateNormalizer(c.symbols),
                                     **common)
    from ..bybit.normalizer_private import BybitPrivateNormalizer
    from ..bybit.private_stream import BybitPrivateStream
    topics = ["order", "execution", "wallet"] + (["position"] if c.venue == "bybit_linear"
                                                 else [])
    return BybitPrivateStream(url=cfg.endpoints.private_ws or f"{c.ws_base}/v5/private",
                              credentials=credentials, clock_ms=exchange_clock(c),
                              topics=topics, heartbeat=c.config.heartbeat_interval,
                              normalizer=BybitPrivateNormalizer(c.symbols, account_venue=c.venue),
                              **common)
