"""KuCoin's venue: spot (`kucoin_spot`), as the registry knows it (see `ttxt_kafka.venues`).

Market data, and trading over the HF order endpoints (gateway, private stream, simulated
trading side); paper trading works too (it needs books only).
"""

from __future__ import annotations

from decimal import Decimal

from ttxt_kafka.venues import ClientIdRule, Fees, Heartbeat, Market, VenueSpec

from .endpoints import WS_PATH

PKG = "ttxt_kafka.connectors.kucoin"

VENUES = (
    VenueSpec(
        name="kucoin_spot", exchange="kucoin", market=Market.SPOT, category="spot",
        # level2_100 (public) gives 100 levels a side; the signed v3 snapshot the whole book
        book_depths=(100, 0), default_depth=100,
        fees=Fees(Decimal("0.001"), Decimal("0.001")),  # level-0 spot maker / taker
        # clientOid: at most 40 characters of letters, digits, _ and - (KuCoin HF orders)
        client_ids=ClientIdRule(pattern=r"[A-Za-z0-9_-]{1,40}",
                                allowed="1-40 letters, digits, _ or -", owner="KuCoin"),
        kline_intervals=("1m", "5m", "15m", "30m", "1h", "4h", "1d"),
        # the client pings every `pingInterval` of the bullet answer (18 s today)
        heartbeat=Heartbeat(client_ping=18.0),
        public_ws_path=WS_PATH,
        # sizes in KuCoin's books go finer than baseIncrement: the captured BCHSV-USDT book has
        # "0.00019434546" (11 decimals) with an 8-decimal increment
        asset_decimals=12,
        parts={"connector": f"{PKG}.connector:KucoinSpotConnector",
               "normalizer": f"{PKG}.normalizer_spot:KucoinSpotNormalizer",
               "sim_protocol": f"{PKG}.sim.protocol:KucoinProtocol",
               "sim_capture": f"{PKG}.sim.capture:KucoinCaptureDialect",
               "sim_synthetic": f"{PKG}.sim.synthetic:KucoinFormatter",
               "gateway": f"{PKG}.trading:gateway",
               "private_stream": f"{PKG}.trading:private_stream",
               "sim_trading": f"{PKG}.sim.trading:KucoinTrading"}),
)
