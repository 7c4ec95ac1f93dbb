"""Bybit's trading parts for the registry: the gateway (REST, or the trade WebSocket when
`trading.ws_trading`) and the private stream (order, execution, wallet; position on linear)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ttxt_kafka.credentials import Credentials

from ..trading.build import exchange_clock, private_stream_common
from .gateway import BybitGateway
from .normalizer_private import BybitPrivateNormalizer
from .private_stream import BybitPrivateStream

if TYPE_CHECKING:
    from ..trading.trader import Trader


def gateway(trader: Trader, credentials: Credentials) -> BybitGateway:
    c, cfg = trader.connector, trader.config
    trade_ws = (cfg.endpoints.trade_ws or f"{c.ws_base}/v5/trade") if cfg.ws_trading else None
    return BybitGateway(
        venue=c.venue, credentials=credentials, rest_base=c.rest_base, trade_ws=trade_ws,
        symbols=c.symbols, clock_ms=exchange_clock(c), recv_window_ms=cfg.recv_window_ms,
        timeout=c.config.rest_timeout, limiter=c.rest.limiter)


def private_stream(trader: Trader, credentials: Credentials) -> BybitPrivateStream:
    c, cfg = trader.connector, trader.config
    topics = ["order", "execution", "wallet"] + (["position"] if c.spec.derivatives else [])
    return BybitPrivateStream(url=cfg.endpoints.private_ws or f"{c.ws_base}/v5/private",
                              credentials=credentials, clock_ms=exchange_clock(c),
                              topics=topics, heartbeat=c.config.heartbeat_interval,
                              normalizer=BybitPrivateNormalizer(c.symbols, account_venue=c.venue),
                              **private_stream_common(trader))
