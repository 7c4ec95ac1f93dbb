"""Gate.io's venue: spot (`gateio_spot`), as the registry knows it (see `ttxt_kafka.venues`).

Market data only for now: no trading parts (gateway, private stream, simulated trading side),
so `trading.mode: live` is refused for it at config time; paper trading works (it needs books).
"""

from __future__ import annotations

from decimal import Decimal

from ttxt_kafka.venues import ClientIdRule, Fees, Heartbeat, Market, VenueSpec

PKG = "ttxt_kafka.connectors.gateio"

VENUES = (
    VenueSpec(
        name="gateio_spot", exchange="gateio", market=Market.SPOT, category="spot",
        book_depths=(50, 400), default_depth=400,  # spot.obu streams ob.<PAIR>.<50|400>
        # the captured currency_pairs list says fee 0.2 %; tiers and GT discounts differ
        fees=Fees(Decimal("0.002"), Decimal("0.002")),
        # order `text`: "t-" then at most 28 of 0-9 A-Z a-z _ - .
        client_ids=ClientIdRule(pattern=r"t-[0-9A-Za-z_.-]{1,28}",
                                allowed="t- followed by 1-28 letters, digits, _ - or .",
                                owner="Gate.io"),
        kline_intervals=("1m", "5m", "15m", "30m", "1h", "4h", "1d"),
        heartbeat=Heartbeat(client_ping=20.0),  # app-level spot.ping (heartbeat_interval)
        public_ws_path="/ws/v4/",
        parts={"connector": f"{PKG}.connector:GateSpotConnector",
               "normalizer": f"{PKG}.normalizer_spot:GateSpotNormalizer",
               "sim_protocol": f"{PKG}.sim.protocol:GateProtocol",
               "sim_capture": f"{PKG}.sim.capture:GateCaptureDialect",
               "sim_synthetic": f"{PKG}.sim.synthetic:GateFormatter"}),
)
