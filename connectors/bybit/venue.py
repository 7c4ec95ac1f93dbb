"""Bybit's venues (v5 API): spot (`bybit_spot`) and USDT perpetuals (`bybit_linear`), as the
registry knows them (see `ttxt_kafka.venues`)."""

from __future__ import annotations

from decimal import Decimal

from ttxt_kafka.venues import ClientIdRule, Fees, Heartbeat, Market, VenueSpec

PKG = "ttxt_kafka.connectors.bybit"
KLINE_INTERVALS = ("1m", "5m", "15m", "30m", "1h", "4h", "1d")
CLIENT_IDS = ClientIdRule(pattern=r"[A-Za-z0-9_-]{1,36}",  # orderLinkId
                          allowed="1-36 characters of letters, digits, _ and -", owner="Bybit")
# Bybit sends no pings: clients send {"op":"ping"} (every 20 s, as Bybit recommends).
HEARTBEAT = Heartbeat(client_ping=20.0)
_PARTS = {
    "gateway": f"{PKG}.trading:gateway",
    "private_stream": f"{PKG}.trading:private_stream",
    "sim_protocol": f"{PKG}.sim.protocol:BybitProtocol",
    "sim_capture": f"{PKG}.sim.capture:BybitCaptureDialect",
    "sim_synthetic": f"{PKG}.sim.synthetic:BybitFormatter",
    "sim_trading": f"{PKG}.sim.trading:BybitTrading",
}

VENUES = (
    VenueSpec(
        name="bybit_spot", exchange="bybit", market=Market.SPOT, category="spot",
        book_depths=(50, 200, 1000), default_depth=200,  # orderbook.{depth} (1 is the BBO)
        fees=Fees(Decimal("0.001"), Decimal("0.001")), client_ids=CLIENT_IDS,
        kline_intervals=KLINE_INTERVALS, heartbeat=HEARTBEAT, public_ws_path="/v5/public/spot",
        parts={"connector": f"{PKG}.connector:BybitSpotConnector",
               "normalizer": f"{PKG}.normalizer_spot:BybitSpotNormalizer", **_PARTS}),
    VenueSpec(
        name="bybit_linear", exchange="bybit", market=Market.LINEAR, category="linear",
        book_depths=(50, 200, 500, 1000), default_depth=200,
        fees=Fees(Decimal("0.0002"), Decimal("0.00055")), client_ids=CLIENT_IDS,
        kline_intervals=KLINE_INTERVALS, heartbeat=HEARTBEAT,
        public_ws_path="/v5/public/linear",
        parts={"connector": f"{PKG}.connector:BybitLinearConnector",
               "normalizer": f"{PKG}.normalizer_linear:BybitLinearNormalizer", **_PARTS}),
)
