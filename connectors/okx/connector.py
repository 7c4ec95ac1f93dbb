"""OKX v5 spot and perpetual-swap market-data connectors: the exchange parts wired onto the base.

Books, trades and tickers come from `/ws/v5/public`; candles from `/ws/v5/business`, on
connections of their own (`business#<n>`, which serve no book). Channels are subscribed by
message after connecting. The book arrives as a snapshot then updates chained by
`prevSeqId == previous seqId`, with a CRC32 the base checks on the connector's own book whenever
OKX sends a non-zero one (`book_checksum`); a broken chain or a mismatch is rebuilt by
unsubscribing and subscribing `books` (OKX answers with a fresh snapshot).
BBO comes from `tickers`, not `bbo-tbt`: `tickers` carries the best bid and ask with their sizes
at 100 ms on the same public socket, and the live capture has it, so the replay tests prove it;
`bbo-tbt` (10 ms) would double the frame rate for a stream consumers sample anyway (the
normalizer reads both). The text `ping` goes out once a socket has been silent for 25 s (OKX
drops a connection silent for 30 s); at most 100 channels per connection (ours, see endpoints).
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

from ttxt_kafka.events import InstrumentInfo, now_us

from ..base.book_sync import BookSync
from ..base.connector import Connection, Connector, SymbolState
from ..base.ratelimit import WeightLimiter
from ..base.rest import RestClient
from ..base.symbols import SymbolMap
from . import endpoints as ep
from .book_sync import OkxBookSync, book_checksum
from .normalizer_spot import OkxSpotNormalizer
from .normalizer_swap import OkxSwapNormalizer


def okx_error(status: int, body: Any) -> tuple[str, str] | None:
    """OKX v5 errors: `{"code": "51000", "msg": "...", "data": [...]}` (success: code "0");
    a batch or an order answer that failed per item has `data[0].sCode`/`sMsg`."""
    if isinstance(body, dict) and body.get("code") not in (None, "0"):
        data = body.get("data")
        if isinstance(data, list) and data and isinstance(data[0], dict) and data[0].get("sCode"):
            return str(data[0]["sCode"]), str(data[0].get("sMsg", ""))
        return str(body["code"]), str(body.get("msg", ""))
    if status >= 400:
        return str(status), str(body)[:200]
    return None


class OkxSpotConnector(Connector):
    venue = "okx_spot"
    exchange = "okx"
    inst_type: ClassVar[str] = "SPOT"
    ws_ping_interval = None  # OKX wants the text "ping" (see heartbeat)
    snapshot_on_subscribe = True
    max_streams_per_connection = ep.MAX_CHANNELS_PER_CONNECTION
    book_checksum = book_checksum

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A ping after this much silence: OKX's 25 s unless the config sets `heartbeat_interval`.
        self.ping_after = (self.config.heartbeat_interval
                           if "heartbeat_interval" in self.config.model_fields_set
                           else self.spec.heartbeat.client_ping or ep.PING_AFTER_SILENCE)
        self.heartbeat_interval = self.ping_after / 5  # how often the silence is looked at
        self._business: dict[int, list[str]] = {}  # candle connections: index -> natives

    def default_endpoints(self) -> tuple[str, str]:
        return ep.WS, ep.REST

    def make_rest_client(self, base_url: str) -> RestClient:
        limiter = WeightLimiter(ep.REQUESTS_PER_SECOND, 1.0)
        return RestClient(self.exchange, base_url, limiter=limiter, error_parser=okx_error,
                          timeout=self.config.rest_timeout)

    def make_normalizer(self, symbols: SymbolMap) -> OkxSpotNormalizer:
        return OkxSpotNormalizer(symbols)

    def make_sync(self) -> BookSync:
        return OkxBookSync()

    def _rest_normalizer(self) -> OkxSpotNormalizer:
        return self.normalizer_as(OkxSpotNormalizer)

    # ------------------------------------------------------------------ REST

    async def fetch_instruments(self, wanted: list[str]) -> list[InstrumentInfo]:
        body = await self.rest.get(ep.INSTRUMENTS_PATH, {"instType": self.inst_type})
        return self._rest_normalizer().instruments(body, now_us())

    async def fetch_server_time_us(self) -> int:
        body = await self.rest.get(ep.TIME_PATH)
        return int(body["data"][0]["ts"]) * 1000

    # ------------------------------------------------------------------ streams

    def _public_channels(self) -> list[str]:
        streams = self.config.streams
        channels = []
        if streams.book:
            channels.append("books")
        if streams.trades:
            channels.append("trades")
        if streams.bbo:
            channels.append("tickers")
        return channels

    def _candle_channels(self) -> list[str]:
        klines = self.config.streams.klines
        return [ep.KLINE_CHANNELS[i] for i in klines.intervals] if klines else []

    def stream_names(self, native: str) -> list[str]:
        """The public socket's channels of one symbol (candles go to business sockets)."""
        return [f"{c}:{native}" for c in self._public_channels()]

    def _plan_connections(self) -> None:
        if self._public_channels():
            super()._plan_connections()
        candles = self._candle_channels()
        if not candles:
            return
        limit = min(self.config.max_streams_per_connection, ep.MAX_CHANNELS_PER_CONNECTION)
        per_conn = max(1, limit // len(candles))
        natives = self.native_symbols
        for i, start in enumerate(range(0, len(natives), per_conn)):
            # No symbols of its own: a candle socket's reconnect must not reset any book.
            conn = Connection(len(self.connections), f"business#{i}", [])
            self._business[conn.index] = natives[start:start + per_conn]
            self.connections.append(conn)

    def ws_url(self, conn: Connection) -> str:
        path = ep.BUSINESS_WS_PATH if conn.index in self._business else ep.PUBLIC_WS_PATH
        return ep.ws_url(self.ws_base, path)

    async def on_open(self, conn: Connection) -> None:
        business = self._business.get(conn.index)
        if business is not None:
            args = [ep.arg(c, native) for native in business for c in self._candle_channels()]
        else:
            args = [ep.arg(c, native) for native in conn.symbols for c in self._public_channels()]
        for request in ep.requests("subscribe", args):
            await self.send_request(conn, request)

    async def heartbeat(self, conn: Connection) -> None:
        """The text `ping`, once the socket has been silent for `ping_after` seconds."""
        if conn.ws is not None and time.monotonic() - conn.last_rx >= self.ping_after:
            await conn.ws.send_text(ep.PING)

    async def rebuild(self, state: SymbolState) -> None:
        """Unsubscribe and subscribe `books`: OKX answers a subscription with a snapshot."""
        books = [ep.arg("books", state.native)]
        await self.resubscribe_book(state, lambda op: ep.requests(op, books)[0])


class OkxSwapConnector(OkxSpotConnector):
    venue = "okx_swap"
    inst_type = "SWAP"

    def make_normalizer(self, symbols: SymbolMap) -> OkxSwapNormalizer:
        return OkxSwapNormalizer(symbols)
