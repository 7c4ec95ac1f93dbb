"""Reading Binance captures: combined-stream frames and the REST responses taken beside them."""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from ttxt_kafka.connectors.binance.sim.streams import parse_stream
from ttxt_kafka.simulator.captures import Frame, HttpRecord
from ttxt_kafka.simulator.feeds import UnknownStream, UnknownSymbol
from ttxt_kafka.simulator.publication import Channel, Publication
from ttxt_kafka.simulator.replay import CaptureDialect
from ttxt_kafka.simulator.session import dumps
from ttxt_kafka.venues import VenueSpec

log = logging.getLogger(__name__)

_CHANNELS = {
    "depthUpdate": Channel.BOOK,
    "aggTrade": Channel.TRADES,
    "trade": Channel.TRADES,
    "kline": Channel.KLINE,
    "bookTicker": Channel.TICKER,
}


@dataclass(frozen=True, slots=True)
class _Snapshot:
    ts: float
    body: str
    last_update_id: int


class BinanceCaptureDialect(CaptureDialect):
    def __init__(self, spec: VenueSpec) -> None:
        super().__init__(spec)
        self.futures = spec.category == "usdm"
        self._snapshots: dict[str, list[_Snapshot]] = {}
        self._exchange_info: str | None = None
        self._info_symbols: set[str] = set()
        self._frame_symbols: set[str] = set()
        self._first_update: dict[str, int] = {}  # symbol -> first `U` of its depth stream

    def wants_connection(self, url: str) -> bool:
        host = urlsplit(url).hostname or ""
        return host.startswith("fstream") == self.futures and "binance" in host

    def classify(self, frame: Frame) -> Publication | None:
        try:
            obj = json.loads(frame.payload)
            stream, data = obj["stream"], obj["data"]
        except (ValueError, KeyError, TypeError):
            return None  # not a combined-stream frame: a method answer or a raw-stream capture
        prefix = f'{{"stream":"{stream}","data":'
        raw = frame.payload
        if raw.startswith(prefix) and raw.endswith("}"):
            payload = raw[len(prefix) : -1]  # the data exactly as captured, for raw-stream clients
        else:
            payload = dumps(data)
        symbol = data.get("s") if isinstance(data, dict) else None
        symbol = symbol or stream.split("@", 1)[0].upper()
        event = data.get("e") if isinstance(data, dict) else None
        channel = _CHANNELS.get(event or stream.rsplit("@", 1)[-1], Channel.OTHER)
        if channel is Channel.BOOK and "@depth" in stream and stream.split("@")[1] != "depth":
            channel = Channel.BOOK_SNAPSHOT  # partial-depth streams (depth5/10/20) are snapshots
        if channel is Channel.BOOK and symbol not in self._first_update:
            self._first_update[symbol] = int(data["U"])
        self._frame_symbols.add(symbol)
        return Publication(stream, payload, channel, symbol, frame.ts, wrapped=raw)

    def index_http(self, records: list[HttpRecord]) -> None:
        for rec in records:
            url = urlsplit(rec.url)
            if url.path.endswith("/depth"):
                symbol = parse_qs(url.query).get("symbol", [""])[0]
                try:
                    last_id = int(json.loads(rec.body)["lastUpdateId"])
                except (ValueError, KeyError, TypeError):
                    log.warning(
                        "skipping captured depth response without lastUpdateId: %s", rec.url
                    )
                    continue
                snaps = self._snapshots.setdefault(symbol, [])
                snaps.append(_Snapshot(rec.ts, rec.body, last_id))
                snaps.sort(key=lambda s: s.ts)
            elif url.path.endswith("/exchangeInfo"):
                self._exchange_info = rec.body
                info = json.loads(rec.body)
                self._info_symbols = {s["symbol"] for s in info.get("symbols", [])}

    def symbols(self) -> set[str]:
        return self._info_symbols | self._frame_symbols | set(self._snapshots)

    def resolve(self, name: str, captured: set[str]) -> str:
        if name in captured:
            return name
        stream = parse_stream(name, self.futures)
        if stream.symbol not in self.symbols():
            raise UnknownStream(f"unknown symbol in stream `{name}`")
        return name

    def depth_body(self, symbol: str, limit: int, stale_behind: int | None, position: float) -> str:
        snaps = self._snapshots.get(symbol)
        if not snaps:
            raise UnknownSymbol(symbol)
        # the newest snapshot the replay has reached; before that, the first one (the capturing
        # client fetched it right after opening the socket, as connectors do)
        chosen = next((s for s in reversed(snaps) if s.ts <= position), snaps[0])
        obj = json.loads(chosen.body)
        if stale_behind is None and len(obj["bids"]) <= limit and len(obj["asks"]) <= limit:
            return chosen.body  # as captured, byte for byte
        if stale_behind is not None:
            first = self._first_update.get(symbol, chosen.last_update_id)
            obj["lastUpdateId"] = max(0, min(first, chosen.last_update_id) - stale_behind)
        obj["bids"], obj["asks"] = obj["bids"][:limit], obj["asks"][:limit]
        return dumps(obj)

    def instruments_body(self, symbols: list[str] | None) -> str:
        if self._exchange_info is None:
            info: dict[str, object] = {
                "timezone": "UTC",
                "serverTime": int(time.time() * 1000),
                "rateLimits": [],
                "exchangeFilters": [],
                "symbols": [{"symbol": s, "status": "TRADING"} for s in sorted(self.symbols())],
            }
        elif symbols is None:
            return self._exchange_info
        else:
            info = json.loads(self._exchange_info)
        if symbols is not None:
            if not set(symbols) <= self.symbols():
                raise UnknownSymbol(next(s for s in symbols if s not in self.symbols()))
            entries = info["symbols"]
            assert isinstance(entries, list)
            info["symbols"] = [s for s in entries if s["symbol"] in set(symbols)]
        return dumps(info)
