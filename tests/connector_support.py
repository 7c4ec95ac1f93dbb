"""Helpers for the connector tests: the shared fixtures, capture readers, reference books.

The capture readers and the reference book here are written from the capture formats and the
exchanges' documented rules (`../shared/fixtures/MANIFEST.md`, `SYNC_RULES.md`), independently
of `connectors/` and `simulator/`, so a test comparing the two checks one against the other.
"""

from __future__ import annotations

import json
import re
import zlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from fixtures_path import (  # re-exported: the connector tests import them from here
    BINANCE_SPOT_DEPTH,
    BINANCE_SPOT_INFO,
    BINANCE_SPOT_WS,
    BINANCE_USDM_DEPTH,
    BINANCE_USDM_INFO,
    BINANCE_USDM_WS,
    BITGET_MIX_WS,
    BITGET_REST,
    BITGET_SPOT_WS,
    BYBIT_CAPTURE,
    fixture,
    fixtures_root,
    strip_jsonc,
)

__all__ = [
    "BINANCE_SPOT_INFO", "BINANCE_SPOT_REST", "BINANCE_SPOT_WS", "BINANCE_USDM_INFO",
    "BINANCE_USDM_REST", "BINANCE_USDM_WS", "BITGET_MIX_WS", "BITGET_REST", "BITGET_SPOT_WS",
    "BYBIT_CAPTURE", "fixture", "fixtures_dir",
    "load_jsonc", "strip_jsonc",
]

BINANCE_SPOT_REST = BINANCE_SPOT_DEPTH
BINANCE_USDM_REST = BINANCE_USDM_DEPTH
fixtures_dir = fixtures_root


def load_jsonc(name: str) -> Any:
    return json.loads(strip_jsonc(fixture(name).read_text()))


def jsonl(name: str) -> list[str]:
    """Raw payload strings, one per line (the live_extract_* files)."""
    return [line for line in fixture(name).read_text().split("\n") if line.strip()]


_RECV = re.compile(r"^(\d+(?:\.\d+)?): ")


def v1_frames(name: str) -> list[tuple[float, str]]:
    """(receive time, raw payload) of every received frame of a cryptofeed v1 text capture."""
    frames = []
    for line in fixture(name).read_text().split("\n"):
        m = _RECV.match(line)
        if m:
            frames.append((float(m.group(1)), line[m.end():]))
    return frames


def v1_http(name: str) -> list[tuple[str, float, str]]:
    """(url, time, body) of every HTTP response of a cryptofeed v1 capture."""
    out = []
    for line in fixture(name).read_text().split("\n"):
        if " -> " in line:
            url, _, rest = line.partition(" -> ")
            ts, _, body = rest.partition(": ")
            out.append((url, float(ts), body))
    return out


def v3_records(name: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in fixture(name).read_text().split("\n") if line.strip()]


def bybit_frames(category: str) -> list[tuple[float, str]]:
    """Received frames of the Bybit capture's `category` connection."""
    recs = v3_records(BYBIT_CAPTURE)
    conns = {r["conn"] for r in recs
             if r["t"] == "connect" and r["addr"].endswith(f"/v5/public/{category}")}
    return [(r["ts"], r["data"]) for r in recs if r["t"] == "recv" and r["conn"] in conns]


# ---------------------------------------------------------------------------------- reference


@dataclass
class RefBook:
    """A plain order book: price (as Decimal) -> (price string, qty string) per side."""

    bids: dict[Decimal, tuple[str, str]]
    asks: dict[Decimal, tuple[str, str]]
    last: int | None  # None: the exchange numbers nothing (Kraken)

    @classmethod
    def of(cls, bids: list[list[str]], asks: list[list[str]], last: int | None) -> RefBook:
        book = cls({}, {}, last)
        book.set(bids, asks)
        return book

    def set(self, bids: list[list[str]], asks: list[list[str]]) -> None:
        for side, levels in ((self.bids, bids), (self.asks, asks)):
            for price, qty in levels:
                if Decimal(qty) == 0:
                    side.pop(Decimal(price), None)
                else:
                    side[Decimal(price)] = (price, qty)

    def levels(self) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """(bids best first, asks best first)."""
        return ([self.bids[p] for p in sorted(self.bids, reverse=True)],
                [self.asks[p] for p in sorted(self.asks)])


def binance_reference(ws: str, rest: str, futures: bool) -> dict[str, RefBook]:
    """Each symbol's book at the end of a Binance capture, by the documented rules: the REST
    snapshot, then the depth updates after it (spot: first bridges lastUpdateId+1 and each
    U == previous u + 1; USD-M: first has U <= lastUpdateId <= u, then pu == previous u)."""
    books: dict[str, RefBook] = {}
    for url, _, body in v1_http(rest):
        snap = json.loads(body)
        symbol = re.search(r"symbol=(\w+)", url).group(1)  # type: ignore[union-attr]
        books[symbol] = RefBook.of(snap["bids"], snap["asks"], snap["lastUpdateId"])
    started: set[str] = set()
    for _, raw in v1_frames(ws):
        d = json.loads(raw).get("data", {})
        if d.get("e") != "depthUpdate":
            continue
        book = books[d["s"]]
        if d["s"] not in started:
            if d["u"] < book.last or (not futures and d["u"] == book.last):
                continue  # older than the snapshot
            bridge = d["U"] <= book.last <= d["u"] if futures else d["U"] <= book.last + 1 <= d["u"]
            assert bridge, f"{d['s']}: the first update after the snapshot does not bridge it"
            started.add(d["s"])
        elif futures:
            assert d["pu"] == book.last, f"{d['s']}: pu chain broken in the capture"
        else:
            assert d["U"] == book.last + 1, f"{d['s']}: U != previous u + 1 in the capture"
        book.set(d["b"], d["a"])
        book.last = d["u"]
    return books


def bybit_reference(category: str) -> dict[str, RefBook]:
    """Each symbol's book at the end of the Bybit capture: snapshot resets, deltas apply in
    order with u == previous u + 1."""
    books: dict[str, RefBook] = {}
    for _, raw in bybit_frames(category):
        msg = json.loads(raw)
        if not msg.get("topic", "").startswith("orderbook."):
            continue
        d = msg["data"]
        if msg["type"] == "snapshot":
            books[d["s"]] = RefBook.of(d["b"], d["a"], d["u"])
        else:
            book = books[d["s"]]
            assert d["u"] == book.last + 1, f"{d['s']}: u gap in the capture"
            book.set(d["b"], d["a"])
            book.last = d["u"]
    return books


def bitget_crc(bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> int:
    """Bitget's book checksum as SYNC_RULES.md states it: the first 25 bids and asks
    alternating `bid1px:bid1amt:ask1px:ask1amt:...` (a side that runs out is skipped), CRC32 of
    the strings as received, as a signed 32-bit integer."""
    fields: list[str] = []
    for i in range(25):
        for side in (bids, asks):
            if i < len(side):
                fields += [side[i][0], side[i][1]]
    crc = zlib.crc32(":".join(fields).encode())
    return crc - 2**32 if crc >= 2**31 else crc


@dataclass
class BitgetReference:
    """Each symbol's book at the end of a Bitget capture and the checksum tally."""

    books: dict[str, RefBook]
    checksums: int  # book pushes whose checksum was compared
    matched: int  # ... and matched the reference book


def bitget_reference(capture: str) -> BitgetReference:
    """Bitget's rule applied to the captured v1 `books` pushes: a snapshot replaces the book,
    an update merges (qty 0 deletes); after each push the book's checksum must equal the pushed
    one. `last` counts the symbol's book pushes (the v2 `seq` the capture dialect gives them)."""
    books: dict[str, RefBook] = {}
    checked = matched = 0
    for _, raw in v1_frames(capture):
        msg = json.loads(raw)
        if msg.get("arg", {}).get("channel") != "books" or "data" not in msg:
            continue
        sym = msg["arg"]["instId"]
        for d in msg["data"]:
            if msg["action"] == "snapshot":
                books[sym] = RefBook.of(d["bids"], d["asks"], books[sym].last if sym in books
                                        else 0)
            else:
                books[sym].set(d["bids"], d["asks"])
            book = books[sym]
            book.last += 1
            bids, asks = book.levels()
            checked += 1
            matched += bitget_crc(bids, asks) == int(d["checksum"])
    return BitgetReference(books, checked, matched)


def bitget_frames(capture: str, channel: str) -> list[str]:
    """The captured v1 pushes of one channel (raw)."""
    out = []
    for _, raw in v1_frames(capture):
        if f'"channel":"{channel}"' in raw[:100] and '"action"' in raw[:20]:
            out.append(raw)
    return out


GATE_WS = ("gateio/live_ws_v4_spot_order_book_update_trades_candlesticks_tickers__cryptofeed_"
           "GATEIO.ws.1.0.txt")
GATE_REST = "gateio/live_rest_v4_spot_order_book_with_id_snapshots__cryptofeed_GATEIO.http.0.0.txt"


def gate_reference() -> dict[str, RefBook]:
    """Each pair's book at the end of the Gate.io capture by the documented rule of
    `spot.order_book_update`: the REST snapshot (`with_id=true`, id), updates with u <= id
    dropped, the first one kept bridges U <= id + 1 <= u, then each U == previous u + 1. Only
    pairs whose snapshot a later update bridges (the others have no book)."""
    books: dict[str, RefBook] = {}
    for url, _, body in v1_http(GATE_REST):
        snap = json.loads(body)
        pair = re.search(r"currency_pair=(\w+)", url).group(1)  # type: ignore[union-attr]
        books[pair] = RefBook.of(snap["bids"], snap["asks"], snap["id"])
    started: set[str] = set()
    for _, raw in v1_frames(GATE_WS):
        msg = json.loads(raw)
        if msg.get("channel") != "spot.order_book_update" or msg.get("event") != "update":
            continue
        r = msg["result"]
        book = books.get(r["s"])
        if book is None:
            continue
        if r["s"] not in started:
            if r["u"] <= book.last or r["U"] > book.last + 1:
                continue  # older than the snapshot, or not bridging it
            started.add(r["s"])
        else:
            assert r["U"] == book.last + 1, f"{r['s']}: U != previous u + 1 in the capture"
        book.set(r["b"], r["a"])
        book.last = r["u"]
    return {pair: book for pair, book in books.items() if pair in started}



MEXC_WS = "mexc/live_legacy_json_ws_depth_snippet_SOLUSDT__hftbacktest_docstring.txt"


def mexc_reference() -> dict[str, RefBook]:
    """SOLUSDT's book at the end of the MEXC legacy JSON capture by the documented rule: the
    first `limit.depth` frame as the snapshot (its `r` = the version), `increase.depth` diffs
    with r above it applied in order, each r == previous + 1 (absolute quantities, 0 deletes)."""
    book: RefBook | None = None
    for line in fixture(MEXC_WS).read_text().split("\n"):
        if not line.strip():
            continue
        msg = json.loads(line.partition(" ")[2])
        d = msg["d"]
        levels = [[[lv["p"], lv["v"]] for lv in d.get(side) or ()] for side in ("bids", "asks")]
        if msg["c"].startswith("spot@public.limit.depth") and book is None:
            book = RefBook.of(levels[0], levels[1], int(d["r"]))
        elif msg["c"].startswith("spot@public.increase.depth") and book is not None:
            if int(d["r"]) <= book.last:
                continue
            assert int(d["r"]) == book.last + 1, "a gap in the MEXC capture"
            book.set(*levels)
            book.last = int(d["r"])
    assert book is not None
    return {"SOLUSDT": book}
KUCOIN_WS = "kucoin/live_ws_level2_l2update_match_candles_ticker__cryptofeed_KUCOIN.ws.1.0.txt"
KUCOIN_REST = "kucoin/live_rest_level2_orderbook_snapshots__cryptofeed_KUCOIN.http.0.0.txt"
KUCOIN_PART_DEPTH = 100  # levels a side of the public snapshot (level2_100)


@dataclass
class KucoinReference:
    books: dict[str, RefBook]
    bridged: int  # symbols whose snapshot a later push bridges
    gaps: int  # pushes after the bridge with sequenceStart != previous sequenceEnd + 1
    changes_skipped: int  # changes at or below the book's sequence (skipped by the rule)


def kucoin_reference(depth: int | None = KUCOIN_PART_DEPTH) -> KucoinReference:
    """Each symbol's book at the end of the KuCoin capture by the documented rule (SYNC_RULES
    "KuCoin spot"): the REST snapshot (`sequence`; cut to `depth` levels a side, as the public
    level2_100 serves it; None: whole); a push is applied only if sequenceStart <= book + 1 and
    sequenceEnd > book; per change [price, size, sequence]: skip sequence <= book, price "0"
    only advances, size "0" removes, else set; book = sequenceEnd."""
    books: dict[str, RefBook] = {}
    for url, _, body in v1_http(KUCOIN_REST):
        snap = json.loads(body)["data"]
        symbol = re.search(r"symbol=([\w-]+)", url).group(1)  # type: ignore[union-attr]
        cut = slice(None) if depth is None else slice(0, depth)
        books[symbol] = RefBook.of(snap["bids"][cut], snap["asks"][cut], int(snap["sequence"]))
    started: set[str] = set()
    gaps = skipped = 0
    for _, raw in v1_frames(KUCOIN_WS):
        msg = json.loads(raw)
        if msg.get("subject") != "trade.l2update":
            continue
        d = msg["data"]
        book = books.get(d["symbol"])
        if book is None:
            continue
        start, end = d["sequenceStart"], d["sequenceEnd"]
        if not (start <= book.last + 1 and end > book.last):
            assert end <= book.last, f"{d['symbol']}: a gap in the capture"
            continue
        if d["symbol"] in started and start != book.last + 1:
            gaps += 1
        started.add(d["symbol"])
        for side, changes in (("bids", d["changes"]["bids"]), ("asks", d["changes"]["asks"])):
            for price, size, seq in changes:
                if int(seq) <= book.last:
                    skipped += 1
                    continue
                if price == "0":
                    continue
                book.set(*(([[price, size]], []) if side == "bids" else ([], [[price, size]])))
        book.last = end
    return KucoinReference({s: b for s, b in books.items() if s in started}, len(started), gaps,
                           skipped)
COINBASE_WS = ("coinbase/live_advanced_trade_ws_l2_data_market_trades_candles_ticker__cryptofeed_"
               "v3_COINBASE.jsonl.gz")


def coinbase_frames() -> list[str]:
    """Received payloads of the Coinbase capture (gzip'd cryptofeed v3 JSONL), in order."""
    import gzip

    with gzip.open(fixture(COINBASE_WS), "rt") as f:
        records = [json.loads(line) for line in f if line.strip()]
    return [r["data"] for r in records if r["t"] == "recv"]


def coinbase_reference() -> dict[str, RefBook]:
    """Each product's book at the end of the Coinbase capture by the documented rule: the
    `l2_data` `snapshot` replaces the book, each `update`'s `new_quantity` is the absolute size
    at `price_level` ("0" removes), side `bid`/`offer`; `sequence_num` (one counter for the
    whole connection) must run without a gap. `last` = the number of updates applied after the
    snapshot (the simulator renumbers messages per connection, so numbers are not compared)."""
    books: dict[str, RefBook] = {}
    previous = -1
    for raw in coinbase_frames():
        msg = json.loads(raw)
        assert msg["sequence_num"] == previous + 1, "gap in the Coinbase capture"
        previous = msg["sequence_num"]
        if msg["channel"] != "l2_data":
            continue
        for ev in msg["events"]:
            bids = [[u["price_level"], u["new_quantity"]] for u in ev["updates"]
                    if u["side"] == "bid"]
            asks = [[u["price_level"], u["new_quantity"]] for u in ev["updates"]
                    if u["side"] == "offer"]
            if ev["type"] == "snapshot":
                books[ev["product_id"]] = RefBook.of(bids, asks, 0)
            else:
                book = books[ev["product_id"]]
                book.set(bids, asks)
                book.last += 1
    return books


def kraken_crc(bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> int:
    """Kraken's CRC32 of the top 10 asks then bids (digits without "." and leading zeros)."""
    def digits(s: str) -> str:
        return s.replace(".", "").lstrip("0")

    text = "".join(digits(p) + digits(q) for p, q in asks[:10])
    text += "".join(digits(p) + digits(q) for p, q in bids[:10])
    return zlib.crc32(text.encode())


KRAKEN_WS = "kraken/live_ws_v1_book1000_checksum__cryptofeed_KRAKEN.ws.50.0.txt"


@dataclass
class KrakenReference:
    books: dict[str, RefBook]  # by v2 symbol
    checksums: int  # captured update checksums that hold on the reference book


def kraken_reference(depth: int = 1000) -> KrakenReference:
    """Each pair's book at the end of the Kraken v1 capture by the documented rule: the snapshot
    (`as`/`bs`), then each update's levels in order (volume 0 deletes), the book truncated to
    `depth` after every update; the captured checksum `c` (CRC32 of the top 10 asks then bids,
    digits without "." and leading zeros) checked on the way. Computed here from the v1 strings,
    without the connector's code."""

    books: dict[str, RefBook] = {}
    ok = 0
    for _, raw in v1_frames(KRAKEN_WS):
        msg = json.loads(raw)
        if not isinstance(msg, list):
            continue
        base, _, quote = msg[-1].partition("/")
        symbol = "/".join({"XBT": "BTC"}.get(a, a) for a in (base, quote))
        for d in msg[1:-2]:
            if "as" in d or "bs" in d:
                books[symbol] = RefBook.of([lv[:2] for lv in d.get("bs", [])],
                                           [lv[:2] for lv in d.get("as", [])], None)
                continue
            book = books[symbol]
            book.set([lv[:2] for lv in d.get("b", [])], [lv[:2] for lv in d.get("a", [])])
            bids, asks = book.levels()
            for side, levels in ((book.bids, bids), (book.asks, asks)):
                for price, _ in levels[depth:]:
                    del side[Decimal(price)]
            if "c" in d:
                assert kraken_crc(*book.levels()) == int(d["c"]), f"{symbol}: captured checksum"
                ok += 1
    return KrakenReference(books, ok)
