"""Gate.io v4 spot market-data connector: the exchange parts wired onto the base.

Channels are subscribed by message after connecting, one request per channel (Gate takes one
subscription per stream per connection). Books come from `spot.obu`: a `full` push, then
updates; a gap is rebuilt by unsubscribing and subscribing the book stream (Gate answers with a
new `full` push). An application-level `spot.ping` goes out every `heartbeat_interval` seconds.
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
from .book_sync import GateObuSync
from .normalizer_spot import GateSpotNormalizer


def gate_error(status: int, body: Any) -> tuple[str, str] | None:
    """Gate v4 errors: HTTP 4xx/5xx with `{"label": "INVALID_CURRENCY", "message": "..."}`."""
    if isinstance(body, dict) and body.get("label"):
        return str(body["label"]), str(body.get("message", ""))
    return None


class GateSpotConnector(Connector):
    venue = "gateio_spot"
    exchange = "gateio"
    ws_ping_interval = None  # Gate wants application pings (see heartbeat)
    snapshot_on_subscribe = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.heartbeat_interval = self.config.heartbeat_interval

    def default_endpoints(self) -> tuple[str, str]:
        return ep.WS, ep.REST

    def make_rest_client(self, base_url: str) -> RestClient:
        limiter = WeightLimiter(ep.REQUESTS_PER_10S // 10, 1.0)
        return RestClient(self.exchange, base_url, limiter=limiter, error_parser=gate_error,
                          timeout=self.config.rest_timeout)

    def make_normalizer(self, symbols: SymbolMap) -> GateSpotNormalizer:
        return GateSpotNormalizer(symbols)

    def make_sync(self) -> BookSync:
        return GateObuSync()

    def _rest_normalizer(self) -> GateSpotNormalizer:
        return self.normalizer_as(GateSpotNormalizer)

    # ------------------------------------------------------------------ REST

    async def fetch_instruments(self, wanted: list[str]) -> list[InstrumentInfo]:
        body = await self.rest.get(ep.CURRENCY_PAIRS_PATH)
        return self._rest_normalizer().instruments(body, now_us())

    async def fetch_server_time_us(self) -> int:
        body = await self.rest.get(ep.TIME_PATH)
        return int(body["server_time"]) * 1000

    # ------------------------------------------------------------------ streams

    def _requests(self, natives: list[str], event: str) -> list[dict[str, Any]]:
        streams = self.config.streams
        out = []
        if streams.book:
            out += [ep.request(ep.BOOK, event, [ep.book_stream(n, self.config.book_depth)])
                    for n in natives]
        if streams.trades:
            out.append(ep.request(ep.TRADES, event, natives))
        if streams.klines:
            out += [ep.request(ep.CANDLES, event, [ep.INTERVALS[i], n])
                    for n in natives for i in streams.klines.intervals]
        if streams.bbo:
            out.append(ep.request(ep.BBO, event, natives))
        return out

    def stream_names(self, native: str) -> list[str]:
        return self.configured_streams(
            ep.book_stream(native, self.config.book_depth), f"{ep.TRADES}.{native}",
            f"{ep.BBO}.{native}", lambda i: f"{ep.CANDLES}.{i}.{native}")

    def ws_url(self, conn: Connection) -> str:
        return ep.ws_url(self.ws_base)

    async def on_open(self, conn: Connection) -> None:
        for request in self._requests(conn.symbols, "subscribe"):
            await self.send_request(conn, request)

    async def heartbeat(self, conn: Connection) -> None:
        if conn.ws is not None:
            await conn.ws.send_json(ep.ping())

    async def rebuild(self, state: SymbolState) -> None:
        """Subscribe the book stream again: Gate answers with a `full` push."""
        payload = [ep.book_stream(state.native, self.config.book_depth)]
        await self.resubscribe_book(state, lambda op: ep.request(ep.BOOK, op, payload))
