"""MEXC spot v3 market-data connector: the exchange parts wired onto the base.

Streams are subscribed by one JSON request per connection after connecting (at most 30 per
connection: the base spreads symbols over sockets); pushes are binary protobuf. A book starts at
its first buffered push: the REST snapshot is fetched then, and `MexcBookSync` bridges it; a gap
or a stale snapshot fetches another (`RestSnapshotConnector`). The client sends
`{"method":"PING"}` every `heartbeat_interval` seconds (MEXC drops a silent connection after
60 s) and reconnects before MEXC's 24-hour limit.
"""

from __future__ import annotations

from typing import Any

from ttxt_kafka.events import InstrumentInfo, OrderBook, now_us

from ..base.book_sync import BookSync
from ..base.connector import Connection
from ..base.ratelimit import WeightLimiter
from ..base.rest import RestClient
from ..base.rest_snapshot import RestSnapshotConnector
from ..base.symbols import SymbolMap
from . import endpoints as ep
from .book_sync import MexcBookSync
from .normalizer_spot import MexcSpotNormalizer


def mexc_error(status: int, body: Any) -> tuple[str, str] | None:
    """MEXC errors: `{"code": 10007, "msg": "symbol not support api"}` with an HTTP 4xx."""
    if status >= 400 and isinstance(body, dict) and "code" in body:
        return str(body["code"]), str(body.get("msg", ""))
    return None


class MexcSpotConnector(RestSnapshotConnector):
    venue = "mexc_spot"
    exchange = "mexc"
    ws_ping_interval = None  # MEXC wants its application PING (see heartbeat)
    max_streams_per_connection = ep.MAX_SUBSCRIPTIONS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.heartbeat_interval = self.config.heartbeat_interval
        # reconnect a few minutes before MEXC's 24 h limit, never mid-update by surprise
        self.max_connection_age = ep.MAX_CONNECTION_AGE - 600.0
        self._request_id = 0

    def default_endpoints(self) -> tuple[str, str]:
        return ep.WS, ep.REST

    def make_rest_client(self, base_url: str) -> RestClient:
        limiter = WeightLimiter(ep.REQUESTS_PER_10S // 10 * 0.8, 1.0)
        return RestClient(self.exchange, base_url, limiter=limiter, error_parser=mexc_error,
                          timeout=self.config.rest_timeout)

    def make_normalizer(self, symbols: SymbolMap) -> MexcSpotNormalizer:
        return MexcSpotNormalizer(symbols)

    def make_sync(self) -> BookSync:
        return MexcBookSync()

    def _rest_normalizer(self) -> MexcSpotNormalizer:
        return self.normalizer_as(MexcSpotNormalizer)

    # ------------------------------------------------------------------ REST

    async def fetch_instruments(self, wanted: list[str]) -> list[InstrumentInfo]:
        body = await self.rest.get(ep.EXCHANGE_INFO_PATH)
        return self._rest_normalizer().instruments(body, now_us())

    async def fetch_server_time_us(self) -> int:
        body = await self.rest.get(ep.TIME_PATH)
        return int(body["serverTime"]) * 1000

    async def fetch_depth_snapshot(self, native: str, limit: int) -> OrderBook:
        body = await self.rest.get(ep.DEPTH_PATH, {"symbol": native, "limit": str(limit)})
        return self._rest_normalizer().depth_snapshot(body, native, now_us())

    # ------------------------------------------------------------------ streams

    def stream_names(self, native: str) -> list[str]:
        return self.configured_streams(
            ep.depth_stream(native), ep.deals_stream(native),
            ep.book_ticker_stream(native), lambda i: ep.kline_stream(native, i))

    def ws_url(self, conn: Connection) -> str:
        return ep.ws_url(self.ws_base)

    async def on_open(self, conn: Connection) -> None:
        assert conn.ws is not None
        names = [name for native in conn.symbols for name in self.stream_names(native)]
        self._request_id += 1
        await conn.ws.send_json(ep.request("SUBSCRIPTION", names, self._request_id))

    async def heartbeat(self, conn: Connection) -> None:
        if conn.ws is not None:
            await conn.ws.send_json(ep.PING)
