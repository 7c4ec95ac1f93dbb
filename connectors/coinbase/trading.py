"""Coinbase's trading parts for the registry: the REST gateway and the private stream (the
`user` channel: orders and fills; balances come from REST `accounts`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ttxt_kafka.credentials import Credentials

from ..trading.build import private_stream_common
from .endpoints import user_ws_url
from .gateway import CoinbaseGateway
from .normalizer_private import CoinbasePrivateNormalizer
from .private_stream import CoinbasePrivateStream

if TYPE_CHECKING:
    from ..trading.trader import Trader


def gateway(trader: Trader, credentials: Credentials) -> CoinbaseGateway:
    c = trader.connector
    return CoinbaseGateway(venue=c.venue, credentials=credentials, rest_base=c.rest_base,
                           symbols=c.symbols, timeout=c.config.rest_timeout)


def private_stream(trader: Trader, credentials: Credentials) -> CoinbasePrivateStream:
    c, cfg = trader.connector, trader.config

    async def refresh_wallet() -> None:
        """The wallet over REST (the user channel has no balances), as a Wallet snapshot."""
        gateway = trader.gateway
        if gateway is None:
            return
        events = await gateway.account()
        if isinstance(events, list):
            for event in events:
                await trader.publish(event)

    return CoinbasePrivateStream(
        url=cfg.endpoints.private_ws or user_ws_url(c.ws_base), credentials=credentials,
        refresh_wallet=refresh_wallet,
        normalizer=CoinbasePrivateNormalizer(c.symbols, account_venue=c.venue),
        **private_stream_common(trader))
