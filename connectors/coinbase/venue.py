"""Coinbase's venue: Advanced Trade spot (`coinbase_spot`), as the registry knows it (see
`ttxt_kafka.venues`)."""

from __future__ import annotations

from decimal import Decimal

from ttxt_kafka.venues import ClientIdRule, Fees, Heartbeat, Market, VenueSpec

from .endpoints import CANDLE_INTERVAL, WS_PATH

PKG = "ttxt_kafka.connectors.coinbase"

VENUES = (
    VenueSpec(
        name="coinbase_spot", exchange="coinbase", market=Market.SPOT, category="spot",
        book_depths=(0,), default_depth=0,  # level2 is the whole book
        # Advanced Trade's entry tier (below $10k/30 days): maker 0.6 %, taker 1.2 %
        fees=Fees(Decimal("0.006"), Decimal("0.012")),
        # client_order_id: any string; Coinbase's SDK sends UUIDs. We keep to a safe set.
        client_ids=ClientIdRule(pattern=r"[A-Za-z0-9_-]{1,64}",
                                allowed="1-64 letters, digits, _ or -", owner="Coinbase"),
        kline_intervals=(CANDLE_INTERVAL,),  # the WS streams 5-minute candles only
        # Coinbase sends no pings: the `heartbeats` channel (a message a second) keeps the
        # connection open; our protocol-level pings are answered too
        heartbeat=Heartbeat(server_heartbeat=1.0),
        public_ws_path=WS_PATH,
        parts={"connector": f"{PKG}.connector:CoinbaseSpotConnector",
               "normalizer": f"{PKG}.normalizer_spot:CoinbaseSpotNormalizer",
               "sim_protocol": f"{PKG}.sim.protocol:CoinbaseProtocol",
               "sim_capture": f"{PKG}.sim.capture:CoinbaseCaptureDialect",
               "sim_synthetic": f"{PKG}.sim.synthetic:CoinbaseFormatter",
               "gateway": f"{PKG}.trading:gateway",
               "private_stream": f"{PKG}.trading:private_stream",
               "sim_trading": f"{PKG}.sim.trading:CoinbaseTrading"}),
)
