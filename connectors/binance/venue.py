"""Binance's venues: spot (`binance`) and USD-M perpetuals (`binance_usdm`), as the registry
knows them (see `ttxt_kafka.venues`)."""

from __future__ import annotations

from decimal import Decimal

from ttxt_kafka.venues import ClientIdRule, Fees, Heartbeat, Market, VenueSpec

PKG = "ttxt_kafka.connectors.binance"
KLINE_INTERVALS = ("1m", "5m", "15m", "30m", "1h", "4h", "1d")
# newClientOrderId's documented pattern; USD-M gives its own orders these prefixes.
CLIENT_IDS = ClientIdRule(pattern=r"[\.A-Z\:/a-z0-9_-]{1,36}",
                          allowed="1-36 characters of letters, digits and . : / _ -",
                          reserved_prefixes=("autoclose-", "adl_autoclose",
                                             "settlement_autoclose-"),
                          owner="Binance")
_SIM = {
    "sim_protocol": f"{PKG}.sim.protocol:BinanceProtocol",
    "sim_capture": f"{PKG}.sim.capture:BinanceCaptureDialect",
    "sim_synthetic": f"{PKG}.sim.synthetic:BinanceFormatter",
    "sim_trading": f"{PKG}.sim.trading:BinanceTrading",
}

VENUES = (
    VenueSpec(
        name="binance", exchange="binance", market=Market.SPOT, category="spot",
        book_depths=(5, 10, 20, 50, 100, 500, 1000, 5000), default_depth=1000,  # REST limit
        fees=Fees(Decimal("0.001"), Decimal("0.001")), client_ids=CLIENT_IDS,
        kline_intervals=KLINE_INTERVALS,
        # pings every 20 s, drops a client silent for 1 min
        heartbeat=Heartbeat(server_ping=20.0, pong_timeout=60.0), public_ws_path="/stream",
        parts={"connector": f"{PKG}.connector:BinanceSpotConnector",
               "normalizer": f"{PKG}.normalizer_spot:BinanceSpotNormalizer",
               "gateway": f"{PKG}.trading:gateway",
               "private_stream": f"{PKG}.trading:spot_private_stream", **_SIM}),
    VenueSpec(
        name="binance_usdm", exchange="binance", market=Market.LINEAR, category="usdm",
        book_depths=(5, 10, 20, 50, 100, 500, 1000), default_depth=1000,
        fees=Fees(Decimal("0.0002"), Decimal("0.0005")), client_ids=CLIENT_IDS,
        kline_intervals=KLINE_INTERVALS,
        heartbeat=Heartbeat(server_ping=180.0, pong_timeout=600.0), public_ws_path="/stream",
        parts={"connector": f"{PKG}.connector:BinanceUsdmConnector",
               "normalizer": f"{PKG}.normalizer_usdm:BinanceUsdmNormalizer",
               "gateway": f"{PKG}.trading:gateway",
               "private_stream": f"{PKG}.trading:usdm_private_stream", **_SIM}),
)
