"""Reading Gate.io v4 captures, and presenting their books in today's `spot.obu` framing.

The captures (2021) carry the older `spot.order_book_update` channel: updates U..u over a REST
snapshot taken with `with_id=true`. What the dialect maps, per pair: updates with u <= the
snapshot's id are dropped; the first update after it that bridges it (U <= id + 1 <= u) is
applied to the snapshot by the documented rule (absolute amounts, 0 deletes) and sent as one
`spot.obu` push with `full: true` and that update's u; every later update is sent as a
`spot.obu` update with the same U, u, bids and asks (price and amount strings verbatim), stream
`ob.<PAIR>.400`, time `t` and `time_ms` as captured. A pair with no bridging update gets no book.
Trades, candlesticks and book tickers pass through as captured. The REST order book and
currency-pair answers are the captured bodies.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ttxt_kafka.connectors.gateio import endpoints as ep
from ttxt_kafka.simulator.captures import Frame, HttpRecord
from ttxt_kafka.simulator.feeds import UnknownStream, UnknownSymbol
from ttxt_kafka.simulator.publication import Channel, Publication
from ttxt_kafka.simulator.replay import CaptureDialect
from ttxt_kafka.simulator.session import dumps
from ttxt_kafka.venues import VenueSpec

from .streams import parse

_CHANNELS = {ep.TRADES: Channel.TRADES, ep.CANDLES: Channel.KLINE, ep.BBO: Channel.TICKER}
DEPTH = 400  # the obu stream the captures are presented as


class _Book:
    """A pair's book while the dialect bridges its snapshot (prices compared as decimals)."""

    def __init__(self, snapshot: dict[str, Any]) -> None:
        self.id = int(snapshot["id"])
        self.sides: dict[str, dict[Decimal, list[str]]] = {"b": {}, "a": {}}
        self.apply(snapshot["bids"], snapshot["asks"])

    def apply(self, bids: list[list[str]], asks: list[list[str]]) -> None:
        for side, levels in (("b", bids), ("a", asks)):
            book = self.sides[side]
            for price, amount in levels:
                if Decimal(amount) == 0:
                    book.pop(Decimal(price), None)
                else:
                    book[Decimal(price)] = [price, amount]

    def levels(self, side: str) -> list[list[str]]:
        book = self.sides[side]
        return [book[p] for p in sorted(book, reverse=side == "b")]


class GateCaptureDialect(CaptureDialect):
    def __init__(self, spec: VenueSpec) -> None:
        super().__init__(spec)
        self._pairs_body: str | None = None
        self._pairs: set[str] = set()
        self._frame_pairs: set[str] = set()
        self._snapshots: dict[str, str] = {}  # pair -> captured REST body
        self._bridging: dict[str, _Book] = {}  # pairs whose snapshot is not bridged yet
        self._bridged: set[str] = set()

    def wants_connection(self, url: str) -> bool:
        return urlsplit(url).path.rstrip("/").endswith("/ws/v4")

    def index_http(self, records: list[HttpRecord]) -> None:
        for rec in records:
            url = urlsplit(rec.url)
            if url.path.endswith(ep.CURRENCY_PAIRS_PATH):
                self._pairs_body = rec.body
                self._pairs = {p["id"] for p in json.loads(rec.body)}
            elif url.path.endswith(ep.ORDER_BOOK_PATH):
                pair = parse_qs(url.query)["currency_pair"][0]
                self._snapshots[pair] = rec.body
                self._bridging[pair] = _Book(json.loads(rec.body))

    def classify(self, frame: Frame) -> Publication | None:
        try:
            msg = json.loads(frame.payload)
            channel, result = msg["channel"], msg["result"]
        except (ValueError, KeyError, TypeError):
            return None
        if msg.get("event") != "update" or not isinstance(result, dict):
            return None  # subscribe answers, pongs: the protocol's to generate
        if channel == ep.LEGACY_BOOK:
            return self._book(msg, result, frame.ts)
        if channel == ep.TRADES:
            pair, key = result["currency_pair"], f"{ep.TRADES}.{result['currency_pair']}"
        elif channel == ep.CANDLES:
            interval, _, pair = result["n"].partition("_")
            key = f"{ep.CANDLES}.{interval}.{pair}"
        elif channel == ep.BBO:
            pair, key = result["s"], f"{ep.BBO}.{result['s']}"
        else:
            return None  # tickers: not a stream the connector asks for
        self._frame_pairs.add(pair)
        return Publication(key, frame.payload, _CHANNELS[channel], pair, frame.ts)

    def _book(self, msg: dict[str, Any], r: dict[str, Any], ts: float) -> Publication | None:
        pair = r["s"]
        self._frame_pairs.add(pair)
        update = {"t": r["t"], "s": ep.book_stream(pair, DEPTH), "U": r["U"], "u": r["u"],
                  "b": r["b"], "a": r["a"]}
        if pair not in self._bridged:
            book = self._bridging.get(pair)
            if book is None or r["u"] <= book.id or r["U"] > book.id + 1:
                return None  # no snapshot yet, older than it, or not bridging it
            book.apply(r["b"], r["a"])
            update = {"t": r["t"], "full": True, "s": update["s"], "u": r["u"],
                      "b": book.levels("b"), "a": book.levels("a")}
            self._bridged.add(pair)
            del self._bridging[pair]
        payload = dumps({"time": msg["time"], "time_ms": r["t"], "channel": ep.BOOK,
                          "event": "update", "result": update})
        kind = Channel.BOOK_SNAPSHOT if update.get("full") else Channel.BOOK
        return Publication(f"ob.{pair}", payload, kind, pair, ts)

    def symbols(self) -> set[str]:
        return self._pairs | self._frame_pairs

    def resolve(self, name: str, captured: set[str]) -> str:
        stream = parse(name)
        if stream.pair not in self.symbols():
            raise UnknownStream(name)
        return f"ob.{stream.pair}" if stream.channel == ep.BOOK else name

    def depth_body(self, symbol: str, limit: int, stale_behind: int | None, position: float) -> str:
        body = self._snapshots.get(symbol)
        if body is None:
            raise UnknownSymbol(symbol)
        obj = json.loads(body)
        obj["bids"], obj["asks"] = obj["bids"][:limit], obj["asks"][:limit]
        if stale_behind is not None:
            obj["id"] = max(0, int(obj["id"]) - stale_behind)
        return dumps(obj)

    def instruments_body(self, symbols: list[str] | None) -> str:
        if self._pairs_body is None:
            listing: list[dict[str, Any]] = [
                {"id": p, "base": p.partition("_")[0], "quote": p.partition("_")[2],
                 "trade_status": "tradable", "precision": 8, "amount_precision": 8}
                for p in sorted(self.symbols())]
        else:
            listing = json.loads(self._pairs_body)
        if symbols is not None:
            listing = [p for p in listing if p["id"] in symbols]
        return dumps(listing)
