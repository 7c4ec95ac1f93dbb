"""Reading KuCoin captures (cryptofeed's, 2021): WS pushes and the REST answers beside them.

The captured pushes are already in today's framing (`/market/level2`, `/market/match`,
`/market/candles`, `/market/ticker`, same subjects and fields; the 2021 `trade.l2update` has no
`time`): they pass through byte for byte. What the dialect maps: the capture's instrument list
is `GET /api/v1/symbols`; it is served for `/api/v2/symbols` too, its entries as captured (v2
adds `minFunds`, which they lack: the normalizer then takes `quoteMinSize` as the minimum
notional). The captured book snapshots are the signed v3 `level2` (whole book); the public
`level2_100` is served from them, cut to 100 levels a side.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from ttxt_kafka.connectors.kucoin import endpoints as ep
from ttxt_kafka.simulator.captures import Frame, HttpRecord
from ttxt_kafka.simulator.feeds import UnknownStream, UnknownSymbol
from ttxt_kafka.simulator.publication import Channel, Publication
from ttxt_kafka.simulator.replay import CaptureDialect
from ttxt_kafka.simulator.session import dumps
from ttxt_kafka.venues import VenueSpec

from .streams import parse

log = logging.getLogger(__name__)

_CHANNELS = {ep.SUBJECT_BOOK: Channel.BOOK, ep.SUBJECT_MATCH: Channel.TRADES,
             ep.SUBJECT_TICKER: Channel.TICKER, "trade.candles.update": Channel.KLINE,
             "trade.candles.add": Channel.KLINE}


@dataclass(frozen=True, slots=True)
class _Snapshot:
    ts: float
    data: dict[str, object]
    sequence: int


class KucoinCaptureDialect(CaptureDialect):
    def __init__(self, spec: VenueSpec) -> None:
        super().__init__(spec)
        self._snapshots: dict[str, list[_Snapshot]] = {}
        self._symbols_data: str | None = None
        self._listed: set[str] = set()
        self._frame_symbols: set[str] = set()
        self._first_update: dict[str, int] = {}  # symbol -> first sequenceStart

    def wants_connection(self, url: str) -> bool:
        return "kucoin" in (urlsplit(url).hostname or "")

    def classify(self, frame: Frame) -> Publication | None:
        try:
            msg = json.loads(frame.payload)
            topic, subject = msg["topic"], msg["subject"]
        except (ValueError, KeyError, TypeError):
            return None  # welcome, acks, pongs: the protocol's to generate
        channel = _CHANNELS.get(subject)
        if msg.get("type") != "message" or channel is None:
            return None
        try:
            stream = parse(topic)
        except UnknownStream:
            return None
        if channel is Channel.BOOK and stream.symbol not in self._first_update:
            self._first_update[stream.symbol] = int(msg["data"]["sequenceStart"])
        self._frame_symbols.add(stream.symbol)
        return Publication(topic, frame.payload, channel, stream.symbol, frame.ts)

    def index_http(self, records: list[HttpRecord]) -> None:
        for rec in records:
            url = urlsplit(rec.url)
            try:
                body = json.loads(rec.body)
            except ValueError:
                continue
            if url.path.endswith(ep.BOOK_FULL_PATH) or url.path.endswith(ep.BOOK_PART_PATH):
                symbol = parse_qs(url.query).get("symbol", [""])[0]
                data = body.get("data") or {}
                try:
                    seq = int(data["sequence"])
                except (KeyError, TypeError, ValueError):
                    log.warning("skipping captured book without a sequence: %s", rec.url)
                    continue
                snaps = self._snapshots.setdefault(symbol, [])
                snaps.append(_Snapshot(rec.ts, data, seq))
                snaps.sort(key=lambda s: s.ts)
            elif url.path.endswith(ep.SYMBOLS_V1_PATH) or url.path.endswith(ep.SYMBOLS_PATH):
                data = body.get("data") or []
                self._symbols_data = dumps(data)
                self._listed = {s["symbol"] for s in data}

    def symbols(self) -> set[str]:
        return self._listed | self._frame_symbols | set(self._snapshots)

    def resolve(self, name: str, captured: set[str]) -> str:
        return self.resolve_known(name, captured, lambda n: parse(n).symbol)

    def depth_body(self, symbol: str, limit: int, stale_behind: int | None, position: float) -> str:
        snaps = self._snapshots.get(symbol)
        if not snaps:
            raise UnknownSymbol(symbol)
        # the newest snapshot the replay has reached; before that, the first one
        chosen = next((s for s in reversed(snaps) if s.ts <= position), snaps[0])
        data = dict(chosen.data)
        data["bids"] = data["bids"][:limit]  # type: ignore[index]
        data["asks"] = data["asks"][:limit]  # type: ignore[index]
        if stale_behind is not None:
            first = self._first_update.get(symbol, chosen.sequence)
            data["sequence"] = str(max(0, min(first, chosen.sequence) - stale_behind))
        return dumps(data)

    def instruments_body(self, symbols: list[str] | None) -> str:
        if self._symbols_data is None:
            listing: list[dict[str, object]] = [
                {"symbol": s, "baseCurrency": s.partition("-")[0],
                 "quoteCurrency": s.partition("-")[2], "baseMinSize": "0.0001",
                 "baseMaxSize": "10000000000", "baseIncrement": "0.00000001",
                 "priceIncrement": "0.00000001", "quoteMinSize": "0.1", "enableTrading": True}
                for s in sorted(self.symbols())]
        elif symbols is None:
            return self._symbols_data
        else:
            listing = json.loads(self._symbols_data)
        if symbols is not None:
            listing = [s for s in listing if s["symbol"] in set(symbols)]
        return dumps(listing)
