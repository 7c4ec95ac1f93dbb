"""Bybit v5 spot and linear market-data connectors: the exchange parts wired onto the base.

Topics are subscribed by message after connecting; the book arrives as a snapshot then deltas;
a gap is rebuilt by resubscribing the book topic (Bybit answers with a fresh snapshot). An
application-level `{"op":"ping"}` goes out every `heartbeat_interval` seconds.
"""

from __future__ import annotations

from typing import Any, ClassVar

from ttxt_kafka.events import InstrumentInfo, now_us

from ..base.book_sync import BookSync
from ..base.connector import Connection, Connector, SymbolState
from ..base.ratelimit import WeightLimiter
from ..base.rest import RestClient
from ..base.symbols import SymbolMap
from . import endpoints as ep
from .book_sync import BybitBookSync
from .normalizer_linear import BybitLinearNormalizer
from .normalizer_spot import BybitSpotNormalizer

MAX_INSTRUMENT_PAGES = 20


def bybit_error(status: int, body: Any) -> tuple[str, str] | None:
    """Bybit v5 errors: HTTP 200 with `{"retCode": 10001, "retMsg": "..."}`."""
    if isinstance(body, dict) and body.get("retCode") not in (None, 0):
        return str(body["retCode"]), str(body.get("retMsg", ""))
    return None


class BybitSpotConnector(Connector):
    venue = "bybit_spot"
    exchange = "bybit"
    category: ClassVar[str] = "spot"
    ws_ping_interval = None  # Bybit wants application pings (see heartbeat)
    snapshot_on_subscribe = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.heartbeat_interval = self.config.heartbeat_interval
        self.snapshot_depth = self.config.book_depth

    def default_endpoints(self) -> tuple[str, str]:
        return ep.WS, ep.REST

    def make_rest_client(self, base_url: str) -> RestClient:
        limiter = WeightLimiter(ep.REQUESTS_PER_SECOND, 1.0)
        return RestClient(self.exchange, base_url, limiter=limiter, error_parser=bybit_error,
                          timeout=self.config.rest_timeout)

    def make_normalizer(self, symbols: SymbolMap) -> BybitSpotNormalizer:
        return BybitSpotNormalizer(symbols)

    def make_sync(self) -> BookSync:
        return BybitBookSync()

    def _rest_normalizer(self) -> BybitSpotNormalizer:
        return self.normalizer_as(BybitSpotNormalizer)

    # ------------------------------------------------------------------ REST

    async def fetch_instruments(self, wanted: list[str]) -> list[InstrumentInfo]:
        out: list[InstrumentInfo] = []
        cursor = ""
        for _ in range(MAX_INSTRUMENT_PAGES):
            params = {"category": self.category, "limit": "1000"}
            if cursor:
                params["cursor"] = cursor
            body = await self.rest.get(ep.INSTRUMENTS_PATH, params)
            out += self._rest_normalizer().instruments(body, now_us())
            cursor = (body.get("result") or {}).get("nextPageCursor") or ""
            if not cursor:
                break
        return out

    async def fetch_server_time_us(self) -> int:
        body = await self.rest.get(ep.TIME_PATH)
        return int(body["result"]["timeNano"]) // 1000

    # ------------------------------------------------------------------ streams

    def book_topic(self, native: str) -> str:
        return ep.book_topic(native, self.config.book_depth)

    def stream_names(self, native: str) -> list[str]:
        return self.configured_streams(
            self.book_topic(native), ep.trade_topic(native),
            ep.bbo_topic(native), lambda i: ep.kline_topic(native, i))

    def ws_url(self, conn: Connection) -> str:
        return ep.ws_url(self.ws_base, self.category)

    async def on_open(self, conn: Connection) -> None:
        topics = [name for native in conn.symbols for name in self.stream_names(native)]
        for request in ep.requests("subscribe", topics):
            await self.send_request(conn, request)

    async def heartbeat(self, conn: Connection) -> None:
        if conn.ws is not None:
            await conn.ws.send_json(ep.PING)

    async def rebuild(self, state: SymbolState) -> None:
        """Resubscribe the book topic: Bybit answers a subscription with a snapshot."""
        topic = [self.book_topic(state.native)]
        await self.resubscribe_book(state, lambda op: ep.requests(op, topic)[0])


class BybitLinearConnector(BybitSpotConnector):
    venue = "bybit_linear"
    category = "linear"

    def make_normalizer(self, symbols: SymbolMap) -> BybitLinearNormalizer:
        return BybitLinearNormalizer(symbols)
