"""Bitget v2 spot and USDT-M market-data connectors: the exchange parts wired onto the base.

One public WS URL for both markets; channels are subscribed by message after connecting
(`instType` SPOT or USDT-FUTURES). The book arrives as a snapshot then updates, each with a
checksum the base checks on the connector's own book (`book_checksum`); a mismatch or an
out-of-order `seq` is rebuilt by resubscribing `books` (Bitget answers with a fresh snapshot).
The text `ping` goes out every 30 s (Bitget drops a connection silent for 2 minutes); at most
50 channels per connection, as Bitget recommends; a connection is redone after 23.5 h (Bitget
cuts every connection at 24 h).
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
from .book_sync import BitgetBookSync, book_checksum
from .normalizer_spot import BitgetSpotNormalizer
from .normalizer_usdtm import BitgetUsdtmNormalizer


def bitget_error(status: int, body: Any) -> tuple[str, str] | None:
    """Bitget v2 errors: `{"code": "40034", "msg": "...", ...}` (success: code "00000")."""
    if isinstance(body, dict) and body.get("code") not in (None, "00000"):
        return str(body["code"]), str(body.get("msg", ""))
    if status >= 400:
        return str(status), str(body)[:200]
    return None


class BitgetSpotConnector(Connector):
    venue = "bitget_spot"
    exchange = "bitget"
    inst_type: ClassVar[str] = "SPOT"
    ws_ping_interval = None  # Bitget wants the text "ping" (see heartbeat)
    snapshot_on_subscribe = True
    max_streams_per_connection = ep.MAX_CHANNELS_PER_CONNECTION
    max_connection_age = ep.MAX_CONNECTION_AGE
    book_checksum = book_checksum

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Bitget's 30 s, unless the config sets `heartbeat_interval` (its default is Bybit's 20)
        self.heartbeat_interval = (self.config.heartbeat_interval
                                   if "heartbeat_interval" in self.config.model_fields_set
                                   else self.spec.heartbeat.client_ping or ep.PING_INTERVAL)

    def default_endpoints(self) -> tuple[str, str]:
        return ep.WS, ep.REST

    def make_rest_client(self, base_url: str) -> RestClient:
        limiter = WeightLimiter(ep.REQUESTS_PER_SECOND, 1.0)
        return RestClient(self.exchange, base_url, limiter=limiter, error_parser=bitget_error,
                          timeout=self.config.rest_timeout)

    def make_normalizer(self, symbols: SymbolMap) -> BitgetSpotNormalizer:
        return BitgetSpotNormalizer(symbols)

    def make_sync(self) -> BookSync:
        return BitgetBookSync()

    def _rest_normalizer(self) -> BitgetSpotNormalizer:
        return self.normalizer_as(BitgetSpotNormalizer)

    # ------------------------------------------------------------------ REST

    async def _instruments_body(self) -> Any:
        return await self.rest.get(ep.SPOT_SYMBOLS_PATH)

    async def fetch_instruments(self, wanted: list[str]) -> list[InstrumentInfo]:
        body = await self._instruments_body()
        return self._rest_normalizer().instruments(body, now_us())

    async def fetch_server_time_us(self) -> int:
        body = await self.rest.get(ep.TIME_PATH)
        return int(body["data"]["serverTime"]) * 1000

    # ------------------------------------------------------------------ streams

    def _args(self, native: str) -> list[dict[str, str]]:
        streams = self.config.streams
        channels = []
        if streams.book:
            channels.append("books")
        if streams.trades:
            channels.append("trade")
        if streams.klines:
            channels += [ep.KLINE_CHANNELS[i] for i in streams.klines.intervals]
        if streams.bbo:
            channels.append("books1")
        return [ep.arg(self.inst_type, c, native) for c in channels]

    def stream_names(self, native: str) -> list[str]:
        return [f"{a['channel']}:{a['instId']}" for a in self._args(native)]

    def ws_url(self, conn: Connection) -> str:
        return ep.ws_url(self.ws_base)

    async def on_open(self, conn: Connection) -> None:
        args = [a for native in conn.symbols for a in self._args(native)]
        for request in ep.requests("subscribe", args):
            await self.send_request(conn, request)

    async def heartbeat(self, conn: Connection) -> None:
        if conn.ws is not None:
            await conn.ws.send_text(ep.PING)

    async def rebuild(self, state: SymbolState) -> None:
        """Resubscribe `books`: Bitget answers a subscription with a snapshot."""
        books = [ep.arg(self.inst_type, "books", state.native)]
        await self.resubscribe_book(state, lambda op: ep.requests(op, books)[0])


class BitgetUsdtmConnector(BitgetSpotConnector):
    venue = "bitget_usdtm"
    inst_type = "USDT-FUTURES"

    def make_normalizer(self, symbols: SymbolMap) -> BitgetUsdtmNormalizer:
        return BitgetUsdtmNormalizer(symbols)

    async def _instruments_body(self) -> Any:
        return await self.rest.get(ep.MIX_CONTRACTS_PATH, {"productType": self.inst_type})
