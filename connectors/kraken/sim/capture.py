"""Reading Kraken captures (WebSocket v1, 2021), and presenting them in today's v2 framing.

What the dialect maps, per pair (v1 names `XBT/CHF` become v2's `BTC/CHF`):
* book: the v1 snapshot `[id, {"as": [...], "bs": [...]}, "book-1000", pair]` becomes a v2
  `{"channel": "book", "type": "snapshot", "data": [{symbol, bids, asks, checksum}]}`; each v1
  update (one or two dicts, levels `[price, volume, time(, "r")]`, checksum `c` in the last)
  becomes a v2 `update` with the same levels in the same order, `checksum` = int(c) and
  `timestamp` = the latest level time. v1 snapshots carry no checksum: the dialect computes it
  by the same rule over the captured strings (v2 snapshots carry one).
* numbers: v1 sent strings; v2 sends JSON numbers, written here as the same digits with the
  trailing zeros of the fraction dropped ("354.15000000" -> 354.15, "5.00000000" -> 5.0), as a
  JSON encoder of the exact value writes them. The checksum hashes the strings written with the
  pair's precision: v1 printed each pair with its own number of decimals (XMR/USD 8, XBT/CHF 5,
  more than AssetPairs' pair_decimals), so the dialect's AssetPairs answer gives each captured
  pair the decimals its capture prints (lot_decimals 8): written back with them, the numbers
  are the captured strings, and every captured checksum holds.
* trades `[id, [[price, volume, time, side b|s, type l|m, misc], ...], "trade", pair]` -> v2
  `trade` items (v1 has no trade id: the dialect numbers a pair's trades from 1 in capture
  order); ticker `[id, {"a": [price, whole, lot], "b": [...], ...}, "ticker", pair]` -> v2
  `ticker` (bid, bid_qty = b[2], ask, ask_qty = a[2]).
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ttxt_kafka.connectors.kraken import endpoints as ep
from ttxt_kafka.connectors.kraken.book_sync import checksum
from ttxt_kafka.simulator.captures import Frame, HttpRecord
from ttxt_kafka.simulator.feeds import UnknownStream, UnknownSymbol
from ttxt_kafka.simulator.publication import Channel, Publication
from ttxt_kafka.simulator.replay import CaptureDialect
from ttxt_kafka.venues import VenueSpec

from .streams import parts


def number(text: str) -> str:
    """A v1 decimal string as the JSON number v2 sends ("354.15000000" -> "354.15")."""
    if "." not in text:
        return text
    head, _, frac = text.partition(".")
    return f"{head}.{frac.rstrip('0') or '0'}"


def iso(seconds: str) -> str:
    """v1's "1618678133.365913" (seconds) -> RFC 3339 with microseconds."""
    whole, _, frac = seconds.partition(".")
    t = datetime.fromtimestamp(int(whole), UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{t}.{(frac + '000000')[:6]}Z"


def _levels(levels: list[list[str]]) -> str:
    return "[" + ",".join(f'{{"price":{number(lv[0])},"qty":{number(lv[1])}}}'
                          for lv in levels) + "]"


class _Book:
    """A pair's book as the dialect tracks it (for the snapshot checksum only)."""

    def __init__(self, bids: list[list[str]], asks: list[list[str]]) -> None:
        self.bids = {Decimal(p): [p, q] for p, q, *_ in bids}
        self.asks = {Decimal(p): [p, q] for p, q, *_ in asks}

    def checksum(self) -> int:
        bids = [self.bids[p] for p in sorted(self.bids, reverse=True)]
        asks = [self.asks[p] for p in sorted(self.asks)]
        return checksum(bids, asks)


class KrakenCaptureDialect(CaptureDialect):
    def __init__(self, spec: VenueSpec) -> None:
        super().__init__(spec)
        self._pairs_body: dict[str, Any] | None = None
        self._symbols: set[str] = set()
        self._decimals: dict[str, int] = {}  # v2 symbol -> price decimals the capture prints
        self._trade_ids: Counter[str] = Counter()

    def wants_connection(self, url: str) -> bool:
        return "kraken.com" in url

    def index_http(self, records: list[HttpRecord]) -> None:
        for rec in records:
            if rec.url.rstrip("/").endswith(ep.ASSET_PAIRS_PATH):
                self._pairs_body = json.loads(rec.body)

    def classify(self, frame: Frame) -> Publication | None:
        try:
            msg = json.loads(frame.payload)
        except ValueError:
            return None
        if not isinstance(msg, list) or len(msg) < 4:
            return None  # events (systemStatus, subscriptionStatus, heartbeat)
        name, pair = msg[-2], msg[-1]
        symbol = ep.v2_symbol(pair)
        self._symbols.add(symbol)
        if str(name).startswith("book"):
            return self._book(msg[1:-2], symbol, frame.ts)
        if name == "trade":
            return self._trades(msg[1], symbol, frame.ts)
        if name == "ticker":
            return self._ticker(msg[1], symbol, frame.ts)
        return None

    def _note(self, symbol: str, levels: list[list[str]]) -> None:
        for lv in levels:
            places = len(lv[0].partition(".")[2])
            if places > self._decimals.get(symbol, 0):
                self._decimals[symbol] = places

    def _book(self, parts_: list[dict[str, Any]], symbol: str, ts: float) -> Publication:
        merged: dict[str, list[list[str]]] = {"a": [], "b": []}
        check: str | None = None
        snapshot = any("as" in d or "bs" in d for d in parts_)
        for d in parts_:
            merged["a"] += d.get("as", d.get("a", []))
            merged["b"] += d.get("bs", d.get("b", []))
            check = d.get("c", check)
        self._note(symbol, merged["a"] + merged["b"])
        if snapshot:
            crc = _Book(merged["b"], merged["a"]).checksum()
            payload = (f'{{"channel":"book","type":"snapshot","data":[{{"symbol":"{symbol}",'
                       f'"bids":{_levels(merged["b"])},"asks":{_levels(merged["a"])},'
                       f'"checksum":{crc}}}]}}')
            return Publication(f"{ep.BOOK}:{symbol}", payload, Channel.BOOK_SNAPSHOT, symbol, ts)
        stamp = max((lv[2] for lv in merged["a"] + merged["b"]), key=Decimal)
        crc_part = f',"checksum":{int(check)}' if check is not None else ""
        payload = (f'{{"channel":"book","type":"update","data":[{{"symbol":"{symbol}",'
                   f'"bids":{_levels(merged["b"])},"asks":{_levels(merged["a"])}'
                   f'{crc_part},"timestamp":"{iso(stamp)}"}}]}}')
        return Publication(f"{ep.BOOK}:{symbol}", payload, Channel.BOOK, symbol, ts)

    def _trades(self, items: list[list[str]], symbol: str, ts: float) -> Publication:
        out = []
        for price, volume, t, side, kind, *_ in items:
            self._trade_ids[symbol] += 1
            out.append(f'{{"symbol":"{symbol}","side":"{"buy" if side == "b" else "sell"}",'
                       f'"price":{number(price)},"qty":{number(volume)},'
                       f'"ord_type":"{"limit" if kind == "l" else "market"}",'
                       f'"trade_id":{self._trade_ids[symbol]},"timestamp":"{iso(t)}"}}')
        payload = f'{{"channel":"trade","type":"update","data":[{",".join(out)}]}}'
        return Publication(f"{ep.TRADE}:{symbol}", payload, Channel.TRADES, symbol, ts)

    def _ticker(self, d: dict[str, Any], symbol: str, ts: float) -> Publication:
        payload = (f'{{"channel":"ticker","type":"update","data":[{{"symbol":"{symbol}",'
                   f'"bid":{number(d["b"][0])},"bid_qty":{number(d["b"][2])},'
                   f'"ask":{number(d["a"][0])},"ask_qty":{number(d["a"][2])}}}]}}')
        return Publication(f"{ep.TICKER}:{symbol}", payload, Channel.TICKER, symbol, ts)

    def symbols(self) -> set[str]:
        return set(self._symbols)

    def resolve(self, name: str, captured: set[str]) -> str:
        channel, symbol, _ = parts(name)
        if symbol not in self._symbols:
            raise UnknownStream(name)
        return f"{channel}:{symbol}"  # every depth and interval replays the captured stream

    def depth_body(self, symbol: str, limit: int, stale_behind: int | None, position: float) -> str:
        raise UnknownSymbol(symbol)  # Kraken v2 books come from the stream

    def instruments_body(self, symbols: list[str] | None) -> str:
        result: dict[str, Any] = {}
        captured = (self._pairs_body or {}).get("result", {})
        for key, pair in captured.items():
            symbol = ep.v2_symbol(pair.get("wsname") or "")
            if symbol in self._symbols:
                result[key] = dict(pair, pair_decimals=self._decimals.get(
                    symbol, pair["pair_decimals"]), lot_decimals=8)
        for symbol in self._symbols - {ep.v2_symbol(p.get("wsname") or "")
                                       for p in result.values()}:
            base, _, quote = symbol.partition("/")
            result[symbol.replace("/", "")] = {
                "altname": symbol.replace("/", ""), "wsname": symbol, "base": base,
                "quote": quote, "pair_decimals": self._decimals.get(symbol, 8),
                "lot_decimals": 8, "ordermin": "0.0001", "status": "online"}
        if symbols is not None:
            result = {k: v for k, v in result.items()
                      if ep.v2_symbol(v["wsname"]) in symbols}
        return json.dumps({"error": [], "result": result})
