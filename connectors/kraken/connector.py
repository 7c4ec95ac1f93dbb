"""Kraken spot WS v2 market-data connector: the exchange parts wired onto the base.

Channels are subscribed by message after connecting, one request per channel for all the
connection's symbols. Books come from `book` at the configured depth: a snapshot, then updates
that the connector applies to its own book, truncated to that depth after each one, and checks
against Kraken's CRC32 checksum (`book_sync`); a mismatch is rebuilt by unsubscribing and
subscribing the symbol's book (Kraken answers with a new snapshot). An application
`{"method":"ping"}` goes out every `heartbeat_interval` seconds (Kraken's own `heartbeat`
pushes keep a quiet subscription alive too).
"""

from __future__ import annotations

from typing import Any

from ttxt_kafka.events import InstrumentInfo, now_us

from ..base.book_sync import BookSync
from ..base.connector import Connection, Connector, SymbolState
from ..base.ratelimit import WeightLimiter
from ..base.rest import RestClient
from ..base.symbols import SymbolMap
from . import endpoints as ep
from .book_sync import KrakenBookSync, book_checksum
from .normalizer_spot import KrakenSpotNormalizer


def kraken_error(status: int, body: Any) -> tuple[str, str] | None:
    """Kraken REST errors: `{"error": ["EQuery:Unknown asset pair"], "result": {}}`."""
    if isinstance(body, dict) and body.get("error"):
        first = str(body["error"][0])
        return first.partition(":")[0], first
    return None


class KrakenSpotConnector(Connector):
    venue = "kraken_spot"
    exchange = "kraken"
    ws_ping_interval = None  # Kraken wants its application ping (see heartbeat)
    book_checksum = book_checksum

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.heartbeat_interval = self.config.heartbeat_interval
        self._req_id = 0

    def default_endpoints(self) -> tuple[str, str]:
        return ep.WS, ep.REST

    def make_rest_client(self, base_url: str) -> RestClient:
        limiter = WeightLimiter(1, 1.0)  # public REST: about one call per second
        return RestClient(self.exchange, base_url, limiter=limiter, error_parser=kraken_error,
                          timeout=self.config.rest_timeout)

    def make_normalizer(self, symbols: SymbolMap) -> KrakenSpotNormalizer:
        return KrakenSpotNormalizer(symbols, depth=self.config.book_depth)

    def make_sync(self) -> BookSync:
        return KrakenBookSync()

    def book_max_depth(self) -> int | None:
        return self.config.book_depth  # Kraken's rule: truncate after every update

    def _rest_normalizer(self) -> KrakenSpotNormalizer:
        return self.normalizer_as(KrakenSpotNormalizer)

    # ------------------------------------------------------------------ REST

    async def fetch_instruments(self, wanted: list[str]) -> list[InstrumentInfo]:
        body = await self.rest.get(ep.ASSET_PAIRS_PATH)
        return self._rest_normalizer().instruments(body, now_us())

    async def fetch_server_time_us(self) -> int:
        body = await self.rest.get(ep.TIME_PATH)
        return int(body["result"]["unixtime"]) * 1_000_000

    # ------------------------------------------------------------------ streams

    def _requests(self, natives: list[str], method: str) -> list[dict[str, Any]]:
        streams = self.config.streams
        out = []

        def add(channel: str, **extra: Any) -> None:
            self._req_id += 1
            out.append(ep.subscribe(channel, natives, self._req_id, method, **extra))

        if streams.book:
            add(ep.BOOK, depth=self.config.book_depth, snapshot=True)
        if streams.trades:
            add(ep.TRADE, snapshot=False)
        if streams.klines:
            for interval in streams.klines.intervals:
                add(ep.OHLC, interval=ep.INTERVALS[interval], snapshot=False)
        if streams.bbo:
            add(ep.TICKER, event_trigger="bbo")
        return out

    def stream_names(self, native: str) -> list[str]:
        return self.configured_streams(
            f"{ep.BOOK}:{native}", f"{ep.TRADE}:{native}",
            f"{ep.TICKER}:{native}", lambda i: f"{ep.OHLC}:{native}:{i}")

    def ws_url(self, conn: Connection) -> str:
        return ep.ws_url(self.ws_base)

    async def on_open(self, conn: Connection) -> None:
        for request in self._requests(conn.symbols, "subscribe"):
            await self.send_request(conn, request)

    async def heartbeat(self, conn: Connection) -> None:
        if conn.ws is not None:
            await conn.ws.send_json(ep.PING)

    async def rebuild(self, state: SymbolState) -> None:
        """Subscribe the book again: Kraken answers with a new snapshot."""
        await self.resubscribe_book(state, lambda op: self._book_request(state.native, op))

    def _book_request(self, native: str, method: str) -> dict[str, Any]:
        self._req_id += 1
        extra = {"depth": self.config.book_depth}
        if method == "subscribe":
            extra["snapshot"] = True
        return ep.subscribe(ep.BOOK, [native], self._req_id, method, **extra)
