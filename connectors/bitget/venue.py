"""Bitget's venues (API v2): spot (`bitget_spot`) and USDT-M perpetuals (`bitget_usdtm`), as the
registry knows them (see `ttxt_kafka.venues`).

The names follow the exchange's own word for the market, as `binance_usdm` does: Bitget calls
these "USDT-M Futures" (`productType=USDT-FUTURES`); `linear` would also cover its USDC-M
futures, which are another product type with other symbols and margin coin.
"""

from __future__ import annotations

from decimal import Decimal

from ttxt_kafka.venues import ClientIdRule, Fees, Heartbeat, Market, VenueSpec

from .endpoints import PING_INTERVAL, PUBLIC_WS_PATH

PKG = "ttxt_kafka.connectors.bitget"
KLINE_INTERVALS = ("1m", "5m", "15m", "30m", "1h", "4h", "1d")
# clientOid: Bitget accepts up to 50 characters; letters, digits, _ - # (the docs' own example is
# "channel#123456").
CLIENT_IDS = ClientIdRule(pattern=r"[A-Za-z0-9_#-]{1,50}",
                          allowed="1-50 characters of letters, digits, _, - and #",
                          owner="Bitget")
# Bitget sends no pings: clients send the text "ping" every 30 s and get "pong".
HEARTBEAT = Heartbeat(client_ping=PING_INTERVAL)
_PARTS = {
    "gateway": f"{PKG}.trading:gateway",
    "private_stream": f"{PKG}.trading:private_stream",
    "sim_protocol": f"{PKG}.sim.protocol:BitgetProtocol",
    "sim_capture": f"{PKG}.sim.capture:BitgetCaptureDialect",
    "sim_synthetic": f"{PKG}.sim.synthetic:BitgetFormatter",
    "sim_trading": f"{PKG}.sim.trading:BitgetTrading",
}
# `books` is the full book (every level); books1/5/15 are snapshots of the top N.
BOOK_DEPTHS = (0,)

VENUES = (
    VenueSpec(
        name="bitget_spot", exchange="bitget", market=Market.SPOT, category="spot",
        book_depths=BOOK_DEPTHS, default_depth=0,
        fees=Fees(Decimal("0.001"), Decimal("0.001")), client_ids=CLIENT_IDS,
        kline_intervals=KLINE_INTERVALS, heartbeat=HEARTBEAT, public_ws_path=PUBLIC_WS_PATH,
        parts={"connector": f"{PKG}.connector:BitgetSpotConnector",
               "normalizer": f"{PKG}.normalizer_spot:BitgetSpotNormalizer", **_PARTS}),
    VenueSpec(
        name="bitget_usdtm", exchange="bitget", market=Market.LINEAR, category="usdt-futures",
        book_depths=BOOK_DEPTHS, default_depth=0,
        fees=Fees(Decimal("0.0002"), Decimal("0.0006")), client_ids=CLIENT_IDS,
        kline_intervals=KLINE_INTERVALS, heartbeat=HEARTBEAT, public_ws_path=PUBLIC_WS_PATH,
        parts={"connector": f"{PKG}.connector:BitgetUsdtmConnector",
               "normalizer": f"{PKG}.normalizer_usdtm:BitgetUsdtmNormalizer", **_PARTS}),
)
