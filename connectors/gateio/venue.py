"""Gate.io's venue: spot (`gateio_spot`), as the registry knows it (see `ttxt_kafka.venues`).

Market data and trading: the REST gateway and the private channels (`trading.py`), the
simulator's public side and private side (`sim/`).
"""

from __future__ import annotations

from decimal import Decimal

from ttxt_kafka.venues import ClientIdRule, Fees, Heartbeat, Market, VenueSpec

PKG = "ttxt_kafka.connectors.gateio"

VENUES = (
    VenueSpec(
        name="gateio_spot", exchange="gateio", market=Market.SPOT, category="spot",
        book_depths=(50, 400), default_depth=400,  # spot.obu streams ob.<PAIR>.<50|400>
        # VIP 0 spot, paid in the traded currencies: 0.1 % / 0.1 % (gate.com/fee, checked
        # 2026-12; 0.09 % when paid in GT, the rate Gate's April 2026 fee announcement lists).
        # The 2021 captured currency_pairs list still says 0.2 %.
        fees=Fees(Decimal("0.001"), Decimal("0.001")),
        # order `text`: "t-" then at most 28 of 0-9 A-Z a-z _ - . (ids made for commands that
        # name none: "t-ttxt-" + 23 hex digits)
        client_ids=ClientIdRule(pattern=r"t-[0-9A-Za-z_.-]{1,28}",
                                allowed="t- followed by 1-28 letters, digits, _ - or .",
                                owner="Gate.io", required_prefix="t-", max_length=30),
        kline_intervals=("1m", "5m", "15m", "30m", "1h", "4h", "1d"),
        heartbeat=Heartbeat(client_ping=20.0),  # app-level spot.ping (heartbeat_interval)
        public_ws_path="/ws/v4/",
        asset_decimals=10,  # amounts print with 10 decimals ("16.4700000000")
        parts={"connector": f"{PKG}.connector:GateSpotConnector",
               "normalizer": f"{PKG}.normalizer_spot:GateSpotNormalizer",
               "sim_protocol": f"{PKG}.sim.protocol:GateProtocol",
               "sim_capture": f"{PKG}.sim.capture:GateCaptureDialect",
               "sim_synthetic": f"{PKG}.sim.synthetic:GateFormatter",
               "gateway": f"{PKG}.trading:gateway",
               "private_stream": f"{PKG}.trading:private_stream",
               "sim_trading": f"{PKG}.sim.trading:GateTrading"}),
)
