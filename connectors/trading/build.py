"""Which gateway and private stream a connector's trading mode and exchange get, and where
they connect: the exchange's own private endpoints, or — when the connector's market-data
endpoints are overridden (the simulator) — the same host, unless `trading.endpoints` says."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ttxt_kafka.credentials import Credentials
from ttxt_kafka.events import now_us
from ttxt_kafka.venues import Part

from ..base.connector import Connector
from .gateway import Gateway
from .paper import PaperGateway
from .private import PrivateStream

if TYPE_CHECKING:
    from .trader import Trader


def exchange_clock(connector: Connector) -> Callable[[], int]:
    """Milliseconds on the exchange's clock (the connector measured the drift at start)."""
    return lambda: (now_us() + (connector.clock_drift_us or 0)) // 1000


def private_stream_common(trader: Trader) -> dict[str, Any]:
    """What every exchange's private stream takes from its trader."""
    c = trader.connector
    return {"venue": c.venue, "publish": trader.publish, "status": trader.status,
            "on_reconnect": trader.on_reconnect, "initial_delay": c.config.reconnect.initial_delay,
            "max_delay": c.config.reconnect.max_delay}


def gateway_for(trader: Trader, credentials: Credentials | None) -> Gateway | None:
    c, cfg = trader.connector, trader.config
    if cfg.mode == "off":
        return None
    if cfg.mode == "paper":
        return PaperGateway(venue=c.venue, exchange=c.exchange, symbols=c.symbols, books=c.books,
                            settings=cfg.paper, publish=trader.publish)
    assert credentials is not None
    gateway: Gateway = c.spec.part(Part.GATEWAY)(trader, credentials)
    return gateway


def stream_for(trader: Trader, credentials: Credentials) -> PrivateStream:
    stream: PrivateStream = trader.connector.spec.part(Part.PRIVATE_STREAM)(trader, credentials)
    return stream
