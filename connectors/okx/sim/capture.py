"""Reading OKX v5 captures, and presenting the 2022 one in today's framing.

The live capture in the fixtures (`okx/live_ws_v5_public_*`, 2022-05, `wss://ws.okx.com:8443`)
is of the same v5 channels OKX streams today; what the dialect maps, frame by frame (prices,
sizes and checksums are kept as captured, byte for byte):

* `books`: OKX added `seqId`/`prevSeqId` after 2022. Each item gets them: the symbol's book
  pushes numbered 1, 2, 3, ... in capture order as `seqId`; a snapshot's `prevSeqId` is -1, an
  update's the `seqId` of the push before it (the chain OKX documents; its steps are not
  promised to be 1). The captured `checksum` (non-zero, 2022) stays;
* frames of instruments of another type (the capture also has the dated future
  `BTC-USD-220527`) belong to no venue here and are not replayed;
* subscribe acks are not replayed (the protocol answers subscriptions itself);
* REST: the captured `GET /api/v5/public/instruments?instType=SPOT|SWAP` bodies pass through
  unchanged; `/api/v5/market/books` answers the symbol's first captured snapshot.
Frames that already carry `seqId` (newer captures) pass through unchanged.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ttxt_kafka.simulator.captures import Frame, HttpRecord
from ttxt_kafka.simulator.feeds import UnknownSymbol
from ttxt_kafka.simulator.op_args import captured_push
from ttxt_kafka.simulator.publication import Channel, Publication
from ttxt_kafka.simulator.replay import CaptureDialect
from ttxt_kafka.simulator.session import dumps
from ttxt_kafka.venues import VenueSpec

from .topics import INST_TYPES, inst_type_of, parse_key

_WS_PATHS = ("/ws/v5/public", "/ws/v5/business")
_CHANNELS = {"trades": Channel.TRADES, "tickers": Channel.TICKER, "bbo-tbt": Channel.TICKER}


class SeqIds:
    """Gives 2022 `books` items the `seqId`/`prevSeqId` chain of today's API, per symbol."""

    def __init__(self) -> None:
        self.last: dict[str, int] = defaultdict(int)

    def frame(self, obj: dict[str, Any]) -> dict[str, Any]:
        sym = obj["arg"]["instId"]
        snapshot = obj["action"] == "snapshot"
        for d in obj["data"]:
            prev = -1 if snapshot else self.last[sym]
            self.last[sym] += 1
            d["seqId"], d["prevSeqId"] = self.last[sym], prev
        return obj


class OkxCaptureDialect(CaptureDialect):
    def __init__(self, spec: VenueSpec) -> None:
        super().__init__(spec)
        self.inst_type = INST_TYPES[spec.category]
        self._seq = SeqIds()
        self._instruments: dict[str, Any] | None = None
        self._instrument_symbols: set[str] = set()
        self._frame_symbols: set[str] = set()
        self._books: dict[str, dict[str, Any]] = {}  # symbol -> first book snapshot item

    def wants_connection(self, url: str) -> bool:
        return urlsplit(url).path.rstrip("/").endswith(_WS_PATHS)

    def classify(self, frame: Frame) -> Publication | None:
        obj = captured_push(frame.payload)
        if obj is None:
            return None  # pongs, acks: the protocol's to generate, not replayed
        arg = obj["arg"]
        channel, symbol = arg["channel"], arg["instId"]
        if inst_type_of(symbol) != self.inst_type:
            return None
        payload = frame.payload
        kind = _CHANNELS.get(channel, Channel.KLINE if channel.startswith("candle")
                             else Channel.OTHER)
        if channel == "books":
            snapshot = obj["action"] == "snapshot"
            kind = Channel.BOOK_SNAPSHOT if snapshot else Channel.BOOK
            if obj["data"] and "seqId" not in obj["data"][0]:
                payload = dumps(self._seq.frame(obj))
            if snapshot and symbol not in self._books:
                self._books[symbol] = obj["data"][0]
        self._frame_symbols.add(symbol)
        return Publication(f"{channel}:{symbol}", payload, kind, symbol, frame.ts)

    def index_http(self, records: list[HttpRecord]) -> None:
        for rec in records:
            url = urlsplit(rec.url)
            if not url.path.endswith("/api/v5/public/instruments"):
                continue
            if parse_qs(url.query).get("instType") != [self.inst_type]:
                continue
            body = json.loads(rec.body)
            self._instruments = body
            self._instrument_symbols = {s["instId"] for s in body["data"]}

    def symbols(self) -> set[str]:
        return self._instrument_symbols | self._frame_symbols

    def resolve(self, name: str, captured: set[str]) -> str:
        return self.resolve_known(name, captured, lambda n: parse_key(n).symbol)

    def depth_body(self, symbol: str, limit: int, stale_behind: int | None, position: float) -> str:
        """GET /api/v5/market/books shaped: the symbol's first captured snapshot."""
        if symbol not in self._books:
            raise UnknownSymbol(symbol)
        d = self._books[symbol]
        data = {"asks": d["asks"][:limit], "bids": d["bids"][:limit], "ts": d["ts"]}
        return dumps({"code": "0", "msg": "", "data": [data]})

    def instruments_body(self, symbols: list[str] | None) -> str:
        if self._instruments is not None:
            body = dict(self._instruments)
        else:  # a capture without the REST list: the frames' symbols, generic filters
            listing = [{"instId": s, "instType": self.inst_type, "baseCcy": s.split("-")[0],
                        "quoteCcy": s.split("-")[1], "uly": "-".join(s.split("-")[:2]),
                        "tickSz": "0.0001", "lotSz": "0.0001", "minSz": "0.0001", "ctVal": "1",
                        "ctType": "linear", "state": "live"} for s in sorted(self.symbols())]
            body = {"code": "0", "msg": "", "data": listing}
        if symbols is not None:
            if not set(symbols) <= self.symbols():
                raise UnknownSymbol(symbols[0])
            body["data"] = [s for s in body["data"] if s["instId"] in symbols]
        body.setdefault("msg", "")
        return dumps(body)
