"""KuCoin spot market-data connector: the exchange parts wired onto the base.

Before each connection a token comes from `POST /api/v1/bullet-public`; its answer names the
endpoint and the ping period. After the server's `welcome` the topics are subscribed by message
(`response: true`, each answered by an `ack`), up to 100 symbols per topic message and 300
symbol-topics per connection (the base spreads symbols over connections), at most 100 messages
per 10 s. A connection is redone before its token's 24 h are up. A book starts at its first
buffered `trade.l2update`: the REST snapshot is fetched then and bridged (`book_sync`); a gap or
a stale snapshot fetches another. Without credentials the snapshot is the public
`level2_100` (top 100 a side); with credentials (a live `trading:` section) the signed v3 snapshot
of the whole book.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from dataclasses import dataclass
from typing import Any

from ttxt_kafka.credentials import Credentials, CredentialsError, load_credentials
from ttxt_kafka.events import InstrumentInfo, OrderBook, now_us

from ..base.book_sync import BookSync
from ..base.connector import Connection, Connector, SymbolState
from ..base.errors import ConnectorError, MalformedMessage
from ..base.ratelimit import WeightLimiter
from ..base.rest import RestClient
from ..base.symbols import SymbolMap
from . import auth
from . import endpoints as ep
from .book_sync import KucoinBookSync
from .normalizer_spot import KucoinSpotNormalizer

log = logging.getLogger(__name__)


def kucoin_error(status: int, body: Any) -> tuple[str, str] | None:
    """KuCoin answers `{"code": "200000", "data": ...}`; any other code is an error."""
    if isinstance(body, dict) and "code" in body and str(body["code"]) != ep.OK:
        return str(body["code"]), str(body.get("msg", ""))
    return None


@dataclass(frozen=True)
class Bullet:
    """A connection token and the instance server to use it on."""

    token: str
    endpoint: str
    ping_interval: float  # s
    ping_timeout: float  # s

    @classmethod
    def of(cls, body: Any) -> Bullet:
        try:
            data = body["data"]
            server = data["instanceServers"][0]
            return cls(str(data["token"]), str(server["endpoint"]),
                       int(server["pingInterval"]) / 1000, int(server["pingTimeout"]) / 1000)
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise MalformedMessage(f"kucoin bullet answer without {exc}") from None


class KucoinSpotConnector(Connector):
    venue = "kucoin_spot"
    exchange = "kucoin"
    ws_ping_interval = None  # KuCoin wants application pings (`{"type": "ping"}`)
    max_streams_per_connection = ep.MAX_TOPICS_PER_CONNECTION
    max_connection_age = ep.TOKEN_LIFETIME - 600  # redone 10 minutes before the 24 h

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.credentials: Credentials | None = None  # set by make_rest_client
        super().__init__(*args, **kwargs)
        # the bullet answer's pingInterval (18 s today), unless the config sets one
        self.heartbeat_interval = (self.config.heartbeat_interval
                                   if "heartbeat_interval" in self.config.model_fields_set
                                   else self.spec.heartbeat.client_ping)
        self._bullets: dict[int, Bullet] = {}
        if self.config.book_depth == 0 and self.credentials is None:
            raise ConnectorError("kucoin_spot: book depth 0 (the whole book) needs credentials "
                                 "(a live trading section); depth 100 needs none")

    def _book_credentials(self) -> Credentials | None:
        """The account's credentials where a live trading section names them: the whole-book
        snapshot needs them. None (public top-100 snapshots) otherwise."""
        trading = self.config.trading
        if trading is None or trading.mode != "live":
            return None
        try:
            return load_credentials(trading.credentials or self.venue,
                                    secrets_file=trading.secrets_file)
        except CredentialsError as exc:
            log.warning("%s: no credentials for whole-book snapshots (%s): using level2_100",
                        self.venue, exc)
            return None

    def default_endpoints(self) -> tuple[str, str]:
        return ep.WS, ep.REST

    def _exchange_ms(self) -> int:
        """Milliseconds on KuCoin's clock (local until the drift is measured): what signs."""
        return (now_us() + (getattr(self, "clock_drift_us", None) or 0)) // 1000

    def make_rest_client(self, base_url: str) -> RestClient:
        limiter = WeightLimiter(ep.WEIGHT_PER_30S * 0.8, 30.0)
        creds = self.credentials = self._book_credentials()
        sign = auth.sign_hook(creds, self._exchange_ms) if creds is not None else None
        return RestClient(self.exchange, base_url, limiter=limiter, error_parser=kucoin_error,
                          sign=sign, timeout=self.config.rest_timeout)

    def make_normalizer(self, symbols: SymbolMap) -> KucoinSpotNormalizer:
        return KucoinSpotNormalizer(symbols)

    def make_sync(self) -> BookSync:
        return KucoinBookSync()

    def _rest_normalizer(self) -> KucoinSpotNormalizer:
        return self.normalizer_as(KucoinSpotNormalizer)

    # ------------------------------------------------------------------ REST

    async def fetch_instruments(self, wanted: list[str]) -> list[InstrumentInfo]:
        body = await self.rest.get(ep.SYMBOLS_PATH, weight=ep.WEIGHT_SYMBOLS)
        return self._rest_normalizer().instruments(body, now_us())

    async def fetch_server_time_us(self) -> int:
        body = await self.rest.get(ep.TIME_PATH)
        return int(body["data"]) * 1000

    async def rebuild(self, state: SymbolState) -> None:
        self.fetch_snapshot(state, lambda: self._book_snapshot(state))

    async def _book_snapshot(self, state: SymbolState) -> OrderBook:
        """The signed whole book with credentials, else the public top 100."""
        if self.credentials is not None:
            body = await self.rest.get(ep.BOOK_FULL_PATH, {"symbol": state.native},
                                       weight=ep.WEIGHT_BOOK_FULL, signed=True)
            depth = 0
        else:
            body = await self.rest.get(ep.BOOK_PART_PATH, {"symbol": state.native},
                                       weight=ep.WEIGHT_BOOK_PART)
            depth = ep.PART_DEPTH
        return self._rest_normalizer().depth_snapshot(body, state.native, now_us(), depth)

    # ------------------------------------------------------------------ streams

    def stream_names(self, native: str) -> list[str]:
        return self.configured_streams(
            ep.topic(ep.BOOK, [native]), ep.topic(ep.TRADES, [native]), ep.topic(ep.TICKER,
            [native]), lambda i: ep.candle_topic(native, i))

    def subscriptions(self, natives: list[str]) -> list[str]:
        """The topics to subscribe for `natives`: up to 100 symbols per topic message."""
        streams = self.config.streams
        out: list[str] = []
        for channel, wanted in ((ep.BOOK, streams.book), (ep.TRADES, streams.trades),
                                (ep.TICKER, streams.bbo)):
            if wanted:
                out += [ep.topic(channel, batch) for batch in ep.batches(natives)]
        if streams.klines:
            out += [ep.candle_topic(n, i) for n in natives for i in streams.klines.intervals]
        return out

    async def before_connect(self, conn: Connection) -> None:
        body = await self.rest.request("POST", ep.BULLET_PUBLIC, weight=ep.WEIGHT_BULLET)
        bullet = self._bullets[conn.index] = Bullet.of(body)
        if "heartbeat_interval" not in self.config.model_fields_set:  # set in the config: wins
            self.heartbeat_interval = bullet.ping_interval

    def ws_url(self, conn: Connection) -> str:
        bullet = self._bullets[conn.index]
        return ep.ws_url(bullet.endpoint, bullet.token, uuid.uuid4().hex)

    async def on_open(self, conn: Connection) -> None:
        ws = conn.ws
        assert ws is not None
        bullet = self._bullets[conn.index]
        first = await asyncio.wait_for(ws.recv(), bullet.ping_timeout or 10.0)
        try:
            kind = json.loads(first).get("type")
        except (ValueError, AttributeError):
            kind = None
        if kind != "welcome":
            raise ConnectionError(f"no welcome from kucoin: {str(first)[:120]}")
        topics = self.subscriptions(conn.symbols)
        # 100 client messages per 10 s: past a first burst, one every 0.11 s
        pace = 0.11 if len(topics) > ep.MESSAGES_PER_10S - 10 else 0.0
        for name in topics:
            await ws.send_json(ep.subscribe(name))
            if pace:
                await asyncio.sleep(pace)

    async def heartbeat(self, conn: Connection) -> None:
        if conn.ws is not None:
            await conn.ws.send_json(ep.ping())
