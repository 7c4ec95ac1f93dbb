"""Reading Bybit v5 captures: topic frames of one category and the instruments-info responses."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ttxt_kafka.connectors.bybit.sim.topics import parse_topic
from ttxt_kafka.simulator.captures import Frame, HttpRecord
from ttxt_kafka.simulator.feeds import UnknownSymbol
from ttxt_kafka.simulator.publication import Channel, Publication
from ttxt_kafka.simulator.replay import CaptureDialect
from ttxt_kafka.simulator.session import dumps
from ttxt_kafka.venues import VenueSpec

_CHANNELS = {"publicTrade": Channel.TRADES, "kline": Channel.KLINE, "tickers": Channel.TICKER}


class BybitCaptureDialect(CaptureDialect):
    def __init__(self, spec: VenueSpec) -> None:
        super().__init__(spec)
        self.category: str = spec.category
        self._instruments: str | None = None
        self._instrument_symbols: set[str] = set()
        self._frame_symbols: set[str] = set()
        # symbol -> (depth, the first WS book snapshot): the REST orderbook answer in replay mode
        self._books: dict[str, tuple[int, dict[str, Any]]] = {}

    def wants_connection(self, url: str) -> bool:
        return urlsplit(url).path.rstrip("/").endswith(f"/v5/public/{self.category}")

    def classify(self, frame: Frame) -> Publication | None:
        try:
            obj = json.loads(frame.payload)
            topic = obj["topic"]
        except (ValueError, KeyError, TypeError):
            return None  # acks and pongs are the protocol's to generate, not replayed
        head, _, rest = topic.partition(".")
        symbol = rest.rsplit(".", 1)[-1]
        channel = _CHANNELS.get(head, Channel.OTHER)
        if head == "orderbook":
            is_snapshot = obj.get("type") == "snapshot"
            channel = Channel.BOOK_SNAPSHOT if is_snapshot else Channel.BOOK
            depth = int(rest.split(".")[0])
            if is_snapshot and depth > self._books.get(symbol, (0, {}))[0]:
                self._books[symbol] = (depth, obj)
        self._frame_symbols.add(symbol)
        return Publication(topic, frame.payload, channel, symbol, frame.ts)

    def index_http(self, records: list[HttpRecord]) -> None:
        for rec in records:
            url = urlsplit(rec.url)
            query = parse_qs(url.query)
            if url.path.endswith("/instruments-info") and query.get("category") == [self.category]:
                self._instruments = rec.body
                listing = json.loads(rec.body)["result"]["list"]
                self._instrument_symbols = {s["symbol"] for s in listing}

    def symbols(self) -> set[str]:
        return self._instrument_symbols | self._frame_symbols

    def resolve(self, name: str, captured: set[str]) -> str:
        return self.resolve_known(name, captured, lambda n: parse_topic(n, self.category).symbol)

    def depth_body(self, symbol: str, limit: int, stale_behind: int | None, position: float) -> str:
        if symbol not in self._books:
            raise UnknownSymbol(symbol)
        msg = self._books[symbol][1]
        data = msg["data"]
        u = int(data["u"]) - stale_behind if stale_behind is not None else int(data["u"])
        result = {
            "s": symbol,
            "a": data["a"][:limit],
            "b": data["b"][:limit],
            "ts": msg["ts"],
            "u": max(0, u),
            "seq": data["seq"],
            "cts": msg.get("cts", msg["ts"]),
        }
        now = int(time.time() * 1000)
        return dumps(
            {"retCode": 0, "retMsg": "OK", "result": result, "retExtInfo": {}, "time": now}
        )

    def instruments_body(self, symbols: list[str] | None) -> str:
        if self._instruments is not None and symbols is None:
            return self._instruments  # as captured
        if self._instruments is not None:
            body = json.loads(self._instruments)
        else:
            listing = [{"symbol": s, "status": "Trading"} for s in sorted(self.symbols())]
            body = {
                "retCode": 0,
                "retMsg": "OK",
                "result": {"category": self.category, "list": listing, "nextPageCursor": ""},
                "retExtInfo": {},
                "time": int(time.time() * 1000),
            }
        if symbols is not None:
            if not set(symbols) <= self.symbols():
                raise UnknownSymbol(symbols[0])
            body["result"]["list"] = [s for s in body["result"]["list"] if s["symbol"] in symbols]
        return dumps(body)
