"""OKX's venues (API v5): spot (`okx_spot`) and perpetual swaps (`okx_swap`), as the registry
knows them (see `ttxt_kafka.venues`).

The names are OKX's own instrument types (`instType=SPOT`, `instType=SWAP`). `okx_swap` lists
every perpetual: the USDT/USDC-margined (linear) ones and the coin-margined (inverse) ones, each
instrument saying which (`InstrumentInfo.market_type`); its market here is linear, the kind that
orders are placed on (inverse swaps are quoted in USD contracts: refused by `orders`).
"""

from __future__ import annotations

from decimal import Decimal

from ttxt_kafka.venues import ClientIdRule, Fees, Heartbeat, Market, VenueSpec

from .endpoints import PING_AFTER_SILENCE, PUBLIC_WS_PATH

PKG = "ttxt_kafka.connectors.okx"
KLINE_INTERVALS = ("1m", "5m", "15m", "30m", "1h", "4h", "1d")
# clOrdId: "a combination of case-sensitive alphanumerics, all numbers, or all letters of up to
# 32 characters" (OKX v5 docs, Place order).
CLIENT_IDS = ClientIdRule(pattern=r"[A-Za-z0-9]{1,32}", allowed="1-32 letters and digits",
                          owner="OKX")
# OKX sends no pings: clients send the text "ping" when the socket is quiet, and get "pong".
HEARTBEAT = Heartbeat(client_ping=PING_AFTER_SILENCE)
_PARTS = {
    "gateway": f"{PKG}.trading:gateway",
    "private_stream": f"{PKG}.trading:private_stream",
    "sim_trading": f"{PKG}.sim.trading:OkxTrading",
    "sim_protocol": f"{PKG}.sim.protocol:OkxProtocol",
    "sim_capture": f"{PKG}.sim.capture:OkxCaptureDialect",
    "sim_synthetic": f"{PKG}.sim.synthetic:OkxFormatter",
}
BOOK_DEPTHS = (400,)  # `books`: 400 levels per side (snapshot, then updates)

VENUES = (
    VenueSpec(
        name="okx_spot", exchange="okx", market=Market.SPOT, category="spot",
        book_depths=BOOK_DEPTHS, default_depth=400,
        fees=Fees(Decimal("0.0008"), Decimal("0.001")), client_ids=CLIENT_IDS,
        kline_intervals=KLINE_INTERVALS, heartbeat=HEARTBEAT, public_ws_path=PUBLIC_WS_PATH,
        parts={"connector": f"{PKG}.connector:OkxSpotConnector",
               "normalizer": f"{PKG}.normalizer_spot:OkxSpotNormalizer", **_PARTS}),
    VenueSpec(
        name="okx_swap", exchange="okx", market=Market.LINEAR, category="swap",
        book_depths=BOOK_DEPTHS, default_depth=400,
        fees=Fees(Decimal("0.0002"), Decimal("0.0005")), client_ids=CLIENT_IDS,
        kline_intervals=KLINE_INTERVALS, heartbeat=HEARTBEAT, public_ws_path=PUBLIC_WS_PATH,
        parts={"connector": f"{PKG}.connector:OkxSwapConnector",
               "normalizer": f"{PKG}.normalizer_swap:OkxSwapNormalizer", **_PARTS}),
)
