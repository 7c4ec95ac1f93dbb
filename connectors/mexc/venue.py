"""MEXC's venue: spot v3 (`mexc_spot`), as the registry knows it (see `ttxt_kafka.venues`).

Market data over the protobuf WebSocket with REST-bridged books; trading over signed REST with
a listen-key private stream (see `orders.py`: MEXC has no amend, so amend is cancel-replace).
"""

from __future__ import annotations

from decimal import Decimal

from ttxt_kafka.venues import ClientIdRule, Fees, Heartbeat, Market, VenueSpec

from . import endpoints as ep

PKG = "ttxt_kafka.connectors.mexc"

VENUES = (
    VenueSpec(
        name="mexc_spot", exchange="mexc", market=Market.SPOT, category="spot",
        # the REST snapshot's limit is the book's depth (the stream is the whole book's diff)
        book_depths=(5, 10, 20, 50, 100, 500, 1000, 5000), default_depth=1000,
        # MEXC's regular spot tier since 2024: 0 % maker, 0.05 % taker; check yours
        fees=Fees(Decimal("0"), Decimal("0.0005")),
        client_ids=ClientIdRule(pattern=r"[0-9A-Za-z_-]{1,32}",
                                allowed="1-32 letters, digits, _ or -", owner="MEXC",
                                max_length=32),
        kline_intervals=tuple(i for i in ("1m", "5m", "15m", "30m", "1h", "4h", "1d")
                              if i in ep.INTERVALS),
        heartbeat=Heartbeat(client_ping=20.0),  # {"method":"PING"}; silent for 60 s: dropped
        public_ws_path=ep.WS_PATH,
        parts={"connector": f"{PKG}.connector:MexcSpotConnector",
               "normalizer": f"{PKG}.normalizer_spot:MexcSpotNormalizer",
               "sim_protocol": f"{PKG}.sim.protocol:MexcProtocol",
               "sim_capture": f"{PKG}.sim.capture:MexcCaptureDialect",
               "sim_synthetic": f"{PKG}.sim.synthetic:MexcFormatter",
               "gateway": f"{PKG}.trading:gateway",
               "private_stream": f"{PKG}.trading:private_stream",
               "sim_trading": f"{PKG}.sim.trading:MexcTrading"}),
)
