"""Coinbase Advanced Trade market-data connector: the exchange parts wired onto the base.

Channels are subscribed by message after connecting, one request per channel for all the
connection's products, plus `heartbeats` (a message a second keeps a quiet connection open and
its counter moving). Book integrity: `sequence_num` is one counter per connection, across all
its channels and products, so every frame's number is checked here, before it is normalized;
a gap (a number above the last + 1) means any book of the connection may have missed an update:
each gets BOOK_RESYNC (with the reason) and a resubscription of its `level2` (unsubscribe +
subscribe: Coinbase answers with a new snapshot), and no delta goes out until that snapshot
(the per-book machine in `book_sync.py` drops them). A smaller number is out of order and
ignored by the counter, as Coinbase's docs allow.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterable, AsyncIterator
from typing import Any

from ttxt_kafka.events import InstrumentInfo, now_us

from ..base.book_sync import BookSync
from ..base.connector import Connection, Connector, SymbolState
from ..base.ratelimit import WeightLimiter
from ..base.rest import RestClient
from ..base.symbols import SymbolMap
from ..base.ws import WS_ERRORS
from . import endpoints as ep
from .book_sync import CoinbaseL2Sync
from .normalizer_spot import CoinbaseSpotNormalizer

# The counter sits near the start of every message (after channel, client_id, timestamp).
_SEQ = re.compile(r'"sequence_num"\s*:\s*(\d+)')
_SEQ_WINDOW = 256
_KEY = '"sequence_num":'


def coinbase_error(status: int, body: Any) -> tuple[str, str] | None:
    """Advanced Trade errors: `{"error": "NOT_FOUND", "message": "...", "error_details": ...}`."""
    if isinstance(body, dict) and body.get("error"):
        return str(body["error"]), str(body.get("message") or body.get("error_details") or "")
    return None


def frame_sequence(raw: str | bytes) -> int | None:
    """The `sequence_num` of a raw frame, read without parsing it (None: it has none)."""
    head = raw[:_SEQ_WINDOW]
    if isinstance(head, bytes | bytearray):
        head = head.decode("utf-8", "replace")
    at = head.find(_KEY)
    if at >= 0:  # the compact form Coinbase sends: "sequence_num":123,
        start = at + len(_KEY)
        end = head.find(",", start, start + 24)
        if end > start and head[start:end].isdigit():
            return int(head[start:end])
    match = _SEQ.search(head)  # spaces, or the last key
    return int(match.group(1)) if match else None


class CoinbaseSpotConnector(Connector):
    connections_per_second = ep.WS_CONNECTIONS_PER_S - 1  # of the 8 a second allowed per IP
    requests_per_second = ep.WS_MESSAGES_PER_S - 1  # of the 8 a second allowed per IP

    venue = "coinbase_spot"
    exchange = "coinbase"
    snapshot_on_subscribe = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.last_sequence: dict[int, int | None] = {}  # connection index -> last sequence_num
        # connection index -> products whose rebuild waits for one resubscription (a gap)
        self._batched: dict[int, list[str]] = {}

    def default_endpoints(self) -> tuple[str, str]:
        return ep.WS, ep.REST

    def make_rest_client(self, base_url: str) -> RestClient:
        limiter = WeightLimiter(ep.PUBLIC_REQUESTS_PER_S, 1.0)
        return RestClient(self.exchange, base_url, limiter=limiter, error_parser=coinbase_error,
                          timeout=self.config.rest_timeout)

    def make_normalizer(self, symbols: SymbolMap) -> CoinbaseSpotNormalizer:
        return CoinbaseSpotNormalizer(symbols)

    def make_sync(self) -> BookSync:
        return CoinbaseL2Sync()

    def _rest_normalizer(self) -> CoinbaseSpotNormalizer:
        return self.normalizer_as(CoinbaseSpotNormalizer)

    # ------------------------------------------------------------------ REST

    async def fetch_instruments(self, wanted: list[str]) -> list[InstrumentInfo]:
        body = await self.rest.get(ep.PRODUCTS_PATH)
        return self._rest_normalizer().instruments(body, now_us())

    async def fetch_server_time_us(self) -> int:
        body = await self.rest.get(ep.TIME_PATH)
        return int(body["epochMillis"]) * 1000

    # ------------------------------------------------------------------ streams

    def _channels(self) -> list[str]:
        streams = self.config.streams
        out = []
        if streams.book:
            out.append(ep.LEVEL2)
        if streams.trades:
            out.append(ep.TRADES)
        if streams.klines:
            out.append(ep.CANDLES)
        if streams.bbo:
            out.append(ep.TICKER)
        return out

    def stream_names(self, native: str) -> list[str]:
        return [f"{channel}.{native}" for channel in self._channels()]

    def ws_url(self, conn: Connection) -> str:
        return ep.ws_url(self.ws_base)

    async def on_open(self, conn: Connection) -> None:
        assert conn.ws is not None
        self.last_sequence[conn.index] = None  # a new connection counts from its own start
        for channel in [*self._channels(), ep.HEARTBEATS]:
            await self.send_request(conn, ep.request("subscribe", channel, conn.symbols))

    async def _read(self, conn: Connection, ws: AsyncIterable[str | bytes]) -> None:
        await super()._read(conn, _Counted(self, conn, ws))

    async def connection_gap(self, conn: Connection, last: int, seq: int) -> None:
        """Frames were lost on `conn`: every book of it is rebuilt, by one resubscription of
        all its products (not one per product: Coinbase allows 8 messages a second)."""
        self.stats.gaps += 1
        reason = (f"gap: sequence_num {seq} != previous {last} + 1 on {conn.name} "
                  f"(one counter for all its channels and products)")
        batch = self._batched[conn.index] = []
        try:
            for native in conn.symbols:
                state = self.states.get(native)
                if state is not None:
                    await self._resync(state, reason)
        finally:
            del self._batched[conn.index]
        await self._resubscribe(conn, batch)

    async def rebuild(self, state: SymbolState) -> None:
        """Subscribe `level2` again for this product: Coinbase answers with a snapshot."""
        conn = state.conn
        if conn is None:
            return  # not connected: the next connection subscribes afresh
        batch = self._batched.get(conn.index)
        if batch is not None:
            batch.append(state.native)  # a connection-wide gap: sent together after the loop
            return
        await self._resubscribe(conn, [state.native])

    async def _resubscribe(self, conn: Connection, natives: list[str]) -> None:
        if not natives or conn.ws is None:
            return
        try:
            await self.send_request(conn, ep.request("unsubscribe", ep.LEVEL2, natives))
            await self.send_request(conn, ep.request("subscribe", ep.LEVEL2, natives))
        except WS_ERRORS:
            return  # the reader sees the broken connection and reconnects


class _Counted:
    """The connection's frames, each one's `sequence_num` checked on the way: a gap is acted
    on (books resynced, resubscriptions sent) before the frame after it is normalized."""

    __slots__ = ("connector", "conn", "frames")

    def __init__(self, connector: CoinbaseSpotConnector, conn: Connection,
                 ws: AsyncIterable[str | bytes]) -> None:
        self.connector = connector
        self.conn = conn
        self.frames: AsyncIterator[str | bytes] = ws.__aiter__()

    def __aiter__(self) -> _Counted:
        return self

    async def __anext__(self) -> str | bytes:
        raw = await self.frames.__anext__()
        seq = frame_sequence(raw)
        if seq is not None:
            counters = self.connector.last_sequence
            index = self.conn.index
            last = counters.get(index)
            if last is None or seq == last + 1:
                counters[index] = seq
            elif seq > last + 1:
                counters[index] = seq
                await self.connector.connection_gap(self.conn, last, seq)
            # seq <= last: out of order or repeated; the book machines drop stale updates
        return raw
