"""Binance spot and USD-M market-data connectors: the exchange parts wired onto the base.

Streams are named in the combined-stream URL (`/stream?streams=...`); the server pings and
`websockets` answers. A book starts at its first buffered diff: the REST snapshot is fetched
then, and the sync machine (`book_sync`) bridges it to the stream; a gap or a stale snapshot
fetches another.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ttxt_kafka.events import InstrumentInfo, OrderBook, now_us

from ..base.book_sync import BookSync
from ..base.connector import Connection
from ..base.errors import ExchangeError
from ..base.ratelimit import WeightLimiter
from ..base.rest import RestClient
from ..base.rest_snapshot import RestSnapshotConnector
from ..base.symbols import SymbolMap
from . import endpoints as ep
from .book_sync import BinanceSpotBookSync, BinanceUsdmBookSync
from .normalizer_spot import BinanceSpotNormalizer
from .normalizer_usdm import BinanceUsdmNormalizer


def binance_error(status: int, body: Any) -> tuple[str, str] | None:
    """Binance errors: `{"code": -1121, "msg": "Invalid symbol."}` with an HTTP 4xx/5xx."""
    if status >= 400 and isinstance(body, dict) and "code" in body:
        return str(body["code"]), str(body.get("msg", ""))
    return None


class BinanceSpotConnector(RestSnapshotConnector):
    venue = "binance"
    exchange = "binance"
    endpoints: ClassVar[ep.BinanceEndpoints] = ep.SPOT

    def default_endpoints(self) -> tuple[str, str]:
        return self.endpoints.ws, self.endpoints.rest

    def make_rest_client(self, base_url: str) -> RestClient:
        # 80% of the published weight budget: other processes on this IP share it.
        limiter = WeightLimiter(self.endpoints.weight_per_minute * 0.8, 60.0)
        return RestClient(self.exchange, base_url, limiter=limiter, error_parser=binance_error,
                          timeout=self.config.rest_timeout)

    def make_normalizer(self, symbols: SymbolMap) -> BinanceSpotNormalizer:
        return BinanceSpotNormalizer(symbols)

    def make_sync(self) -> BookSync:
        return BinanceSpotBookSync()

    def depth_weight(self, limit: int) -> int:
        return ep.spot_depth_weight(limit)

    # ------------------------------------------------------------------ REST

    async def fetch_instruments(self, wanted: list[str]) -> list[InstrumentInfo]:
        natives = [ep.native_guess(s) for s in wanted]
        try:
            body = await self.rest.get(self.endpoints.exchange_info_path(),
                                       {"symbols": ep.symbols_param(natives)},
                                       weight=self.endpoints.exchange_info_weight)
        except ExchangeError as exc:
            if exc.retryable:
                raise
            # One unknown name fails the narrowed request: fetch all, the base names the culprit.
            body = await self.rest.get(self.endpoints.exchange_info_path(),
                                       weight=self.endpoints.exchange_info_weight)
        return self.normalizer_for_rest().instruments(body, now_us())

    def normalizer_for_rest(self) -> BinanceSpotNormalizer:
        return self.normalizer_as(BinanceSpotNormalizer)

    async def fetch_server_time_us(self) -> int:
        body = await self.rest.get(self.endpoints.time_path())
        return int(body["serverTime"]) * 1000

    async def fetch_depth_snapshot(self, native: str, limit: int) -> OrderBook:
        body = await self.rest.get(self.endpoints.depth_path(),
                                   {"symbol": native, "limit": str(limit)},
                                   weight=self.depth_weight(limit))
        return self.normalizer_for_rest().depth_snapshot(body, native, now_us())

    # ------------------------------------------------------------------ streams

    def stream_names(self, native: str) -> list[str]:
        return self.configured_streams(
            ep.depth_stream(native), ep.trade_stream(native),
            ep.bbo_stream(native), lambda i: ep.kline_stream(native, i))

    def ws_url(self, conn: Connection) -> str:
        names = [name for native in conn.symbols for name in self.stream_names(native)]
        return self.endpoints.combined_url(self.ws_base, names)


class BinanceUsdmConnector(BinanceSpotConnector):
    venue = "binance_usdm"
    endpoints = ep.USDM

    def make_normalizer(self, symbols: SymbolMap) -> BinanceUsdmNormalizer:
        return BinanceUsdmNormalizer(symbols)

    def make_sync(self) -> BookSync:
        return BinanceUsdmBookSync()

    def depth_weight(self, limit: int) -> int:
        return ep.usdm_depth_weight(limit)

    async def fetch_instruments(self, wanted: list[str]) -> list[InstrumentInfo]:
        # USD-M's exchangeInfo takes no symbol filter (and is small).
        body = await self.rest.get(self.endpoints.exchange_info_path(),
                                   weight=self.endpoints.exchange_info_weight)
        return self.normalizer_for_rest().instruments(body, now_us())
