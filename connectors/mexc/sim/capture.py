"""Reading MEXC captures, and presenting their books in today's protobuf framing.

No capture of the protobuf stream exists here; the one live capture is of the legacy JSON v3
channels (January 2025, hftbacktest's raw `<ns> <json>` lines): `spot@public.limit.depth.v3.api`
(the top levels with the book's version `r`) and `spot@public.increase.depth.v3.api` (one diff per
version, absolute quantities). What the dialect maps, per symbol: each increase diff becomes an
`aggre.depth` push (protobuf `PushDataV3ApiWrapper`) with fromVersion = toVersion = its `r`, the
same price and quantity strings, sendTime = its `t`; the first limit-depth frame becomes the REST
depth snapshot (`lastUpdateId` = its `r`): the connector bridges it exactly as it bridges
/api/v3/depth. Later limit-depth frames are not sent (no connector asks for that stream). The
instrument list is made from the symbols and the decimals the capture prints.
"""

from __future__ import annotations

import json
from typing import Any

from ttxt_kafka.connectors.mexc import endpoints as ep
from ttxt_kafka.simulator.captures import Frame, HttpRecord
from ttxt_kafka.simulator.feeds import UnknownStream, UnknownSymbol
from ttxt_kafka.simulator.publication import Channel, Publication
from ttxt_kafka.simulator.replay import CaptureDialect
from ttxt_kafka.simulator.session import dumps
from ttxt_kafka.venues import VenueSpec

from . import frames
from .streams import key_of, parse

LEGACY_INCREASE = "spot@public.increase.depth.v3.api"
LEGACY_LIMIT = "spot@public.limit.depth.v3.api"


def _levels(side: list[dict[str, str]] | None) -> list[tuple[str, str]]:
    return [(lv["p"], lv["v"]) for lv in side or ()]


def _decimals(value: str) -> int:
    return len(value.partition(".")[2])


class MexcCaptureDialect(CaptureDialect):
    def __init__(self, spec: VenueSpec) -> None:
        super().__init__(spec)
        self._snapshots: dict[str, dict[str, Any]] = {}  # symbol -> the first limit-depth
        self._symbols: set[str] = set()
        self._decimals: dict[str, tuple[int, int]] = {}  # symbol -> (price, qty) decimals

    def wants_connection(self, url: str) -> bool:
        return url == "" or "mexc" in url  # the raw-lines capture does not name its URL

    def index_http(self, records: list[HttpRecord]) -> None:
        pass  # the legacy capture has no REST answers: its limit-depth frames serve instead

    def classify(self, frame: Frame) -> Publication | None:
        try:
            msg = json.loads(frame.payload)
            channel, d, symbol = msg["c"], msg["d"], msg["s"]
        except (ValueError, KeyError, TypeError):
            return None  # subscription answers, pongs: the protocol's to generate
        bids, asks = _levels(d.get("bids")), _levels(d.get("asks"))
        self._symbols.add(symbol)
        self._note_decimals(symbol, bids + asks)
        if channel.startswith(LEGACY_LIMIT):
            self._snapshots.setdefault(symbol, {
                "lastUpdateId": int(d["r"]), "bids": [list(lv) for lv in bids],
                "asks": [list(lv) for lv in asks], "timestamp": msg["t"]})
            return None
        if not channel.startswith(LEGACY_INCREASE):
            return None
        key = f"{ep.DEPTH}@{ep.SPEED}@{symbol}"
        version = int(d["r"])
        payload = frames.depth(key, symbol, int(msg["t"]), version, version, bids, asks)
        return Publication(key, payload, Channel.BOOK, symbol, frame.ts)

    def _note_decimals(self, symbol: str, levels: list[tuple[str, str]]) -> None:
        price, qty = self._decimals.get(symbol, (0, 0))
        for p, q in levels:
            price, qty = max(price, _decimals(p)), max(qty, _decimals(q))
        self._decimals[symbol] = (price, qty)

    def symbols(self) -> set[str]:
        return set(self._symbols)

    def resolve(self, name: str, captured: set[str]) -> str:
        stream = parse(name)
        if stream.symbol not in self._symbols:
            raise UnknownStream(name)
        return key_of(stream)

    def depth_body(self, symbol: str, limit: int, stale_behind: int | None, position: float) -> str:
        snap = self._snapshots.get(symbol)
        if snap is None:
            raise UnknownSymbol(symbol)
        body = dict(snap, bids=snap["bids"][:limit], asks=snap["asks"][:limit])
        if stale_behind is not None:
            body["lastUpdateId"] = max(0, body["lastUpdateId"] - stale_behind)
        return dumps(body)

    def instruments_body(self, symbols: list[str] | None) -> str:
        listing = []
        for sym in sorted(self._symbols if symbols is None else set(symbols) & self._symbols):
            price, qty = self._decimals.get(sym, (8, 8))
            base, quote = (sym[:-4], sym[-4:]) if sym.endswith("USDT") else (sym[:-3], sym[-3:])
            lot = "1" if qty == 0 else f"0.{'0' * (qty - 1)}1"
            listing.append({"symbol": sym, "status": "1", "baseAsset": base,
                            "baseAssetPrecision": qty, "quoteAsset": quote,
                            "quotePrecision": price, "quoteAssetPrecision": price,
                            "isSpotTradingAllowed": True, "quoteAmountPrecision": "1",
                            "baseSizePrecision": lot, "permissions": ["SPOT"], "filters": []})
        return dumps({"timezone": "CST", "serverTime": 0, "symbols": listing})
