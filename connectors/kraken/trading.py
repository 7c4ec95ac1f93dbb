"""Kraken's trading parts for the registry: the gateway (orders over the authenticated WS v2,
queries and balances over private REST) and the private stream (executions, balances)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ttxt_kafka.credentials import Credentials, CredentialsError

from ..base.errors import ConnectorError
from ..trading.build import private_stream_common
from . import endpoints as ep
from .gateway import KrakenGateway
from .normalizer_private import KrakenPrivateNormalizer
from .private_stream import KrakenPrivateStream

if TYPE_CHECKING:
    from ..trading.trader import Trader


def _auth_ws(trader: Trader, override: str | None) -> str:
    """Kraken's private host, unless the market data is elsewhere (the simulator: same host)
    or `trading.endpoints` says."""
    ws_base = trader.connector.ws_base
    return override or (ep.AUTH_WS if ep.ws_url(ws_base) == ep.WS else ws_base)


def gateway(trader: Trader, credentials: Credentials) -> KrakenGateway:
    c, cfg = trader.connector, trader.config
    try:
        return KrakenGateway(
            venue=c.venue, credentials=credentials, rest_base=c.rest_base,
            trade_ws=_auth_ws(trader, cfg.endpoints.trade_ws), symbols=c.symbols,
            natives=lambda: c.native_symbols, timeout=c.config.rest_timeout,
            heartbeat=c.config.heartbeat_interval)
    except CredentialsError as exc:  # its message names no part of the secret
        raise ConnectorError(f"{c.venue}: trading mode live: {exc}") from None


def private_stream(trader: Trader, credentials: Credentials) -> KrakenPrivateStream:
    c, cfg = trader.connector, trader.config
    assert isinstance(trader.gateway, KrakenGateway)  # tokens and balances come from REST
    return KrakenPrivateStream(ws_base=_auth_ws(trader, cfg.endpoints.private_ws),
                               gateway=trader.gateway,
                               normalizer=KrakenPrivateNormalizer(c.symbols),
                               **private_stream_common(trader))
