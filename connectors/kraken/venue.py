"""Kraken's venue: spot (`kraken_spot`) over WebSocket v2, as the registry knows it (see
`ttxt_kafka.venues`).

Market data over the public WS v2; trading over the authenticated WS v2 (add_order,
cancel_order, amend_order, cancel_all; executions and balances), its token and the queries
over signed private REST (see `gateway.py`).
"""

from __future__ import annotations

from decimal import Decimal

from ttxt_kafka.venues import ClientIdRule, Fees, Heartbeat, Market, VenueSpec

from . import endpoints as ep

PKG = "ttxt_kafka.connectors.kraken"

VENUES = (
    VenueSpec(
        name="kraken_spot", exchange="kraken", market=Market.SPOT, category="spot",
        book_depths=ep.BOOK_DEPTHS, default_depth=1000,
        # Kraken Pro's base tier (under 10,000 USD of 30-day volume); check yours
        fees=Fees(Decimal("0.0025"), Decimal("0.004")),
        # cl_ord_id: a UUID, a 32-hex-digit short UUID, or free text of at most 18 characters
        client_ids=ClientIdRule(
            pattern=r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
                    r"|[0-9a-fA-F]{32}|[!-~]{1,18}",
            allowed="a UUID, 32 hex digits, or 1-18 printable characters", owner="Kraken",
            max_length=18),
        kline_intervals=tuple(ep.INTERVALS),
        heartbeat=Heartbeat(client_ping=30.0),  # {"method":"ping"}; Kraken also pushes heartbeats
        public_ws_path=ep.WS_PATH,
        asset_decimals=10,
        parts={"connector": f"{PKG}.connector:KrakenSpotConnector",
               "normalizer": f"{PKG}.normalizer_spot:KrakenSpotNormalizer",
               "sim_protocol": f"{PKG}.sim.protocol:KrakenProtocol",
               "sim_capture": f"{PKG}.sim.capture:KrakenCaptureDialect",
               "sim_synthetic": f"{PKG}.sim.synthetic:KrakenFormatter",
               "gateway": f"{PKG}.trading:gateway",
               "private_stream": f"{PKG}.trading:private_stream",
               "sim_trading": f"{PKG}.sim.trading:KrakenTrading"}),
)
