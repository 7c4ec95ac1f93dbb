"""Exchange connectors: one package per exchange, plus the shared base and web layer.
Each exchange declares its venues in `<exchange>/venue.py` (see `ttxt_kafka.venues`).

    from ttxt_kafka.connectors import connector_for, load_config
    config = load_config("examples/binance.yaml")
    connector = connector_for(config.connectors[0], queue)   # any IQueue: KafkaQueue, AsyncioQueue
    await connector.run()                                     # until connector.stop()
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ttxt_kafka import venues
from ttxt_kafka.venues import Part

from .config import Config, ConfigError, ConnectorConfig, load_config, parse_config

if TYPE_CHECKING:
    from ttxt_kafka.bus.interfaces import IQueue

    from .base.connector import Connector


def connector_class(venue: str) -> type[Connector]:
    """The connector class serving a venue (imported on demand, found through the registry)."""
    cls: type[Connector] = venues.venue(venue).part(Part.CONNECTOR)
    return cls


def connector_for(config: ConnectorConfig, queue: IQueue) -> Connector:
    return connector_class(config.venue)(config, queue)


__all__ = [
    "Config",
    "ConfigError",
    "ConnectorConfig",
    "connector_class",
    "connector_for",
    "load_config",
    "parse_config",
]
