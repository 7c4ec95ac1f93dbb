"""Benchmark input for the connector benchmarks: the real captures, made longer.

The captures are short (hundreds of book updates per venue), so each stream is repeated with
its update ids shifted so the sequence continues across repetitions: Binance spot U/u (next U =
previous u + 1), USD-M U/u/pu so the `pu` chain continues, Bybit `u` of the deltas (the snapshot
is sent once). Binance's diffs would not replay onto the book a pass leaves behind (a level the
first pass removed may come back stale and cross the book), so each later pass starts with one
more diff per symbol, in the chain, that sets the book back to its REST snapshot, and repeats
the diffs the first pass applied: every pass evolves the book exactly as the first. Prices and
quantities stay the exchange's strings. Every consumer sees a valid, gap-free stream of
realistic messages.

Fixtures: `TTXT_FIXTURES`, else `../shared/fixtures` beside the repository (or a folder above).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
_RECV = re.compile(r"^(\d+(?:\.\d+)?): ")

_BWS = "ws_combined_depth100ms_bookTicker_kline1m_aggTrade__cryptofeed"
FILES = {
    "binance": {
        "ws": f"binance/live_spot_{_BWS}_BINANCE.ws.1.0.txt",
        "depth": ("binance/live_spot_rest_depth_snapshots_limit1000"
                  "__cryptofeed_BINANCE.http.0.0.txt"),
        "info": "binance/live_spot_rest_exchangeInfo__cryptofeed_BINANCE.0.txt",
    },
    "binance_usdm": {
        "ws": f"binance/live_usdm_{_BWS}_BINANCE_FUTURES.ws.1.0.txt",
        "depth": "binance/live_usdm_rest_depth_snapshots__cryptofeed_BINANCE_FUTURES.http.0.0.txt",
        "info": "binance/live_usdm_rest_exchangeInfo__cryptofeed_BINANCE_FUTURES.0.txt",
    },
}
BYBIT = ("bybit/live_v5_public_linear_spot_orderbook200_publicTrade_kline1_tickers"
         "__cryptofeed_v3_BYBIT.jsonl")
BYBIT_INFO = {"bybit_spot": "bybit/live_rest_v5_market_instruments_info_spot.json",
              "bybit_linear": "bybit/live_rest_v5_market_instruments_info_linear.json"}
# Bitget: the live captures are v1 (2022). cryptofeed 2.4.1 speaks v1 and reads them as they
# are; ours reads the same frames in today's v2 framing, as the simulator's capture dialect
# presents them (`connectors/bitget/sim/capture.py`).
BITGET = {"bitget_spot": "bitget/live_ws_V1_spot_books_checksum_trade_candle_ticker"
                         "__cryptofeed_BITGET.ws.1.0.txt",
          "bitget_usdtm": "bitget/live_ws_V1_mix_books_checksum_trade_candle_ticker"
                          "__cryptofeed_BITGET.ws.2.0.txt"}
BITGET_REST = "bitget/live_rest_V1_products_contracts__cryptofeed_BITGET.0.txt"
# Gate.io: the live capture (2021) has the older `spot.order_book_update` channel over REST
# snapshots, which cryptofeed 2.4.1 reads; ours reads the same frames in today's `spot.obu`
# framing, as the simulator's capture dialect presents them (`connectors/gateio/sim/capture.py`).
GATE = {"ws": "gateio/live_ws_v4_spot_order_book_update_trades_candlesticks_tickers"
              "__cryptofeed_GATEIO.ws.1.0.txt",
        "depth": "gateio/live_rest_v4_spot_order_book_with_id_snapshots"
                 "__cryptofeed_GATEIO.http.0.0.txt",
        "info": "gateio/live_rest_v4_spot_currency_pairs__cryptofeed_GATEIO.0.txt"}
# KuCoin: the 2021 capture is in today's framing; its REST snapshots are the (signed) v3 whole
# books cryptofeed fetches, its instrument list v1 `/api/v1/symbols` (cryptofeed's route too).
KUCOIN = {"ws": "kucoin/live_ws_level2_l2update_match_candles_ticker__cryptofeed_KUCOIN.ws.1.0.txt",
          "depth": "kucoin/live_rest_level2_orderbook_snapshots__cryptofeed_KUCOIN.http.0.0.txt",
          "info": "kucoin/live_rest_symbols__cryptofeed_KUCOIN.0.txt"}
# Coinbase Advanced Trade: today's API, read as captured by both sides.
COINBASE = ("coinbase/live_advanced_trade_ws_l2_data_market_trades_candles_ticker"
            "__cryptofeed_v3_COINBASE.jsonl.gz")
COINBASE_REST = "coinbase/live_rest_brokerage_market_products.json"
# OKX: the 2022 v5 capture; cryptofeed reads it as captured, ours with today's seqId/prevSeqId
# chain added, as the simulator's capture dialect presents it (`connectors/okx/sim/capture.py`).
OKX = "okx/live_ws_v5_public_books_checksum_trades_tickers__cryptofeed_OKX.ws.1.0.txt"
OKX_REST = ("okx/live_rest_v5_public_instruments_spot_swap_futures_option__cryptofeed_OKX.0"
            ".head5lines.txt")


class MissingFixtures(FileNotFoundError):
    pass


def fixtures_dir() -> Path:
    env = os.environ.get("TTXT_FIXTURES", "").strip()
    if env:
        return Path(env)
    for folder in REPO.parents:
        if (folder / "shared" / "fixtures").is_dir():
            return folder / "shared" / "fixtures"
    return REPO.parent / "shared" / "fixtures"


def _read(name: str) -> str:
    path = fixtures_dir() / name
    if not path.is_file():
        raise MissingFixtures(f"{path} not found (set TTXT_FIXTURES)")
    return path.read_text(encoding="utf-8")


@dataclass
class VenueCapture:
    """One venue's frames (raw strings, capture order) and the REST bodies beside them."""

    venue: str
    url: str  # the WS URL the capture was taken from
    frames: list[str]
    snapshots: dict[str, str] = field(default_factory=dict)  # native symbol -> depth body
    info: Any = None  # instruments body (parsed JSON)
    peer_info: Any = None  # the peer's instruments bodies where they differ (Bitget: v1)

    @property
    def bitget(self) -> bool:
        return self.venue.startswith("bitget")

    @property
    def gate(self) -> bool:
        return self.venue.startswith("gateio")

    @property
    def kucoin(self) -> bool:
        return self.venue == "kucoin_spot"

    @property
    def coinbase(self) -> bool:
        return self.venue.startswith("coinbase")

    @property
    def kraken(self) -> bool:
        return self.venue.startswith("kraken")

    @property
    def okx(self) -> bool:
        return self.venue.startswith("okx")

    def kind(self, raw: str) -> str:
        """book | trades | bbo | klines | other, from the frame's head (cheap, no parsing)."""
        head = raw[:90]
        if self.okx:
            for key, kind in (('"books"', "book"), ('"trades"', "trades"),
                              ('"tickers"', "bbo")):
                if head.startswith('{"arg":{"channel":' + key):
                    return kind
            return "other"
        if self.coinbase:
            for key, kind in (('"l2_data"', "book"), ('"market_trades"', "trades"),
                              ('"ticker"', "bbo"), ('"candles"', "klines")):
                if key in head:
                    return kind
            return "other"
        if self.kucoin:  # the captured pushes name their subject after the data
            tail = raw[-110:]
            for key, kind in (('"trade.l2update"', "book"), ('"trade.l3match"', "trades"),
                              ('"trade.ticker"', "bbo"), ('"trade.candles', "klines")):
                if key in tail:
                    return kind
            return "other"
        if self.bitget:
            for key, kind in (('"books"', "book"), ('"trade"', "trades"), ('"candle', "klines"),
                              ('"ticker"', "tickers")):
                if key in head and '"action"' in head:
                    return kind
            return "other"
        if self.gate:
            if '"event":"update"' not in raw[:120]:
                return "other"
            for key, kind in (('"spot.order_book_update"', "book"), ('"spot.trades"', "trades"),
                              ('"spot.candlesticks"', "klines"), ('"spot.tickers"', "tickers")):
                if key in head:
                    return kind
            return "other"
        if self.kraken:  # v1 data: `[id, {...}, "book-1000", pair]`; events (subscription
            if not raw.startswith("["):  # status, heartbeat) are objects: "other", as for
                return "other"  # every venue, so a stream's frames are its data pushes
            for key, kind in (('"book-', "book"), ('"trade"', "trades"), ('"ticker"', "bbo")):
                if key in raw[-40:]:
                    return kind
            return "other"
        if self.venue.startswith("binance"):
            for key, kind in (("@depth", "book"), ("@aggTrade", "trades"),
                              ("@bookTicker", "bbo"), ("@kline", "klines")):
                if key in head:
                    return kind
            return "other"
        for key, kind in (('"orderbook.', "book"), ('"publicTrade.', "trades"),
                          ('"kline.', "klines"), ('"tickers.', "tickers")):
            if key in head:
                return kind
        return "other"

    def stream(self, kind: str) -> list[str]:
        return [f for f in self.frames if self.kind(f) == kind]


def load(venue: str) -> VenueCapture:
    if venue.startswith("coinbase"):
        return _load_coinbase(venue)
    if venue.startswith("okx"):
        return _load_okx(venue)
    if venue.startswith("bitget"):
        return _load_bitget(venue)
    if venue.startswith("gateio"):
        return _load_gate(venue)
    if venue.startswith("kraken"):
        return _load_kraken(venue)
    if venue.startswith("binance") or venue == "kucoin_spot":
        files = KUCOIN if venue == "kucoin_spot" else FILES[venue]
        lines = _read(files["ws"]).split("\n")
        url = lines[0].split(" ", 1)[0]
        frames = [line[m.end():] for line in lines if (m := _RECV.match(line))]
        cap = VenueCapture(venue, url, frames)
        for line in _read(files["depth"]).split("\n"):
            if " -> " in line:
                req, _, rest = line.partition(" -> ")
                cap.snapshots[re.search(r"symbol=([\w-]+)", req).group(1)] = rest.partition(": ")[2]  # type: ignore[union-attr]
        cap.info = json.loads(_read(files["info"]).split("\n")[0].partition(": ")[2])
        return cap
    category = venue.split("_")[1]
    recs = [json.loads(line) for line in _read(BYBIT).split("\n") if line.strip()]
    conns = {r["conn"]: r["addr"] for r in recs if r["t"] == "connect"
             and r["addr"].endswith(f"/v5/public/{category}")}
    frames = [r["data"] for r in recs if r["t"] == "recv" and r["conn"] in conns]
    return VenueCapture(venue, next(iter(conns.values())), frames,
                        info=json.loads(_read(BYBIT_INFO[venue])))


def _load_bitget(venue: str) -> VenueCapture:
    """`frames`: the capture's v1 frames as received (what cryptofeed reads); `v2(frames)`
    gives ours the same frames in v2 framing."""
    from ttxt_kafka.connectors.bitget.sim.capture import v1_contracts_to_v2, v1_products_to_v2

    lines = _read(BITGET[venue]).split("\n")
    frames = [line[m.end():] for line in lines if (m := _RECV.match(line))]
    bodies = {}
    for line in _read(BITGET_REST).split("\n"):
        if " -> " in line:
            url, _, rest = line.partition(" -> ")
            bodies[url] = json.loads(rest.partition(": ")[2])
    products = next(b for u, b in bodies.items() if u.endswith("/public/products"))
    contracts = next(b for u, b in bodies.items() if "productType=umcbl" in u)
    spot = venue == "bitget_spot"
    info = v1_products_to_v2(products) if spot else v1_contracts_to_v2(contracts)
    return VenueCapture(venue, lines[0].split(" ", 1)[0], frames, info=info,
                        peer_info=[products, contracts])


def _load_gate(venue: str) -> VenueCapture:
    """The pairs whose captured book bridges its captured REST snapshot (the others never have
    a book, for cryptofeed or us), their book and trade frames as received."""
    lines = _read(GATE["ws"]).split("\n")
    frames = [line[m.end():] for line in lines if (m := _RECV.match(line))]
    cap = VenueCapture(venue, lines[0].split(" ", 1)[0], frames)
    for line in _read(GATE["depth"]).split("\n"):
        if " -> " in line:
            req, _, rest = line.partition(" -> ")
            pair = re.search(r"currency_pair=(\w+)", req).group(1)  # type: ignore[union-attr]
            cap.snapshots[pair] = rest.partition(": ")[2]
    cap.info = json.loads(_read(GATE["info"]).split("\n")[0].partition(": ")[2])
    bridged = {json.loads(f)["result"]["s"].partition(".")[2].rpartition(".")[0]
               for f in obu(cap, cap.stream("book")) if '"full":true' in f}
    cap.frames = [f for f in frames if cap.kind(f) in ("book", "trades")
                  and _gate_pair(f) in bridged]
    cap.snapshots = {p: b for p, b in cap.snapshots.items() if p in bridged}
    return cap


def _gate_pair(raw: str) -> str:
    result = json.loads(raw)["result"]
    return str(result.get("s") or result.get("currency_pair"))


def obu(cap: VenueCapture, frames: list[str]) -> list[str]:
    """Gate.io legacy frames in `spot.obu` framing, as the capture dialect presents them: the
    first update bridging a pair's snapshot becomes its `full` push, earlier ones are dropped
    (cryptofeed skips them too), trades pass as they are."""
    from ttxt_kafka.connectors.gateio.sim.capture import GateCaptureDialect
    from ttxt_kafka.simulator.captures import Frame, HttpRecord
    from ttxt_kafka.venues import venue as spec_of

    dialect = GateCaptureDialect(spec_of(cap.venue))
    dialect.index_http([HttpRecord(f"https://api.gateio.ws/api/v4/spot/order_book?"
                                   f"currency_pair={pair}&limit=100&with_id=true", 0.0, body,
                                   "GATEIO.http")
                        for pair, body in cap.snapshots.items()])
    out = []
    for i, raw in enumerate(frames):
        pub = dialect.classify(Frame(1_700_000_000 + i * 1e-4, raw, "GATEIO.ws.1", "recv"))
        if pub is not None:
            out.append(pub.payload)
    return out


# Kraken: the live captures are WS v1 (2021), book and trades on their own connections;
# cryptofeed 2.4.1 speaks v1 and reads them as captured (its channel map comes from their
# subscription events); ours reads the same frames in v2 framing, as the simulator's capture
# dialect presents them (`connectors/kraken/sim/capture.py`).
KRAKEN = ["kraken/live_ws_v1_book1000_checksum__cryptofeed_KRAKEN.ws.50.0.txt",
          "kraken/live_ws_v1_trade__cryptofeed_KRAKEN.ws.48.0.txt"]
KRAKEN_REST = "kraken/live_rest_AssetPairs__cryptofeed_KRAKEN.0.txt"


def _load_kraken(venue: str) -> VenueCapture:
    frames: list[str] = []
    url = ""
    for name in KRAKEN:
        lines = _read(name).split("\n")
        url = lines[0].split(" ", 1)[0]
        frames += [line[m.end():] for line in lines if (m := _RECV.match(line))]
    body = json.loads(_read(KRAKEN_REST).split("\n")[0].partition(": ")[2])
    cap = VenueCapture(venue, url, frames, peer_info=body)
    dialect = _kraken_dialect(cap, frames)
    cap.info = json.loads(dialect.instruments_body(None))
    return cap


def _kraken_dialect(cap: VenueCapture, frames: list[str]) -> Any:
    from ttxt_kafka.connectors.kraken.sim.capture import KrakenCaptureDialect
    from ttxt_kafka.simulator.captures import Frame, HttpRecord
    from ttxt_kafka.venues import venue as spec_of

    dialect = KrakenCaptureDialect(spec_of(cap.venue))
    dialect.index_http([HttpRecord("https://api.kraken.com/0/public/AssetPairs", 0.0,
                                   json.dumps(cap.peer_info), "KRAKEN.0")])
    for raw in frames:
        dialect.classify(Frame(0.0, raw, "KRAKEN.ws", "recv"))
    return dialect


SUBSCRIBED = "subscriptionStatus"


def kraken_v2(cap: VenueCapture, frames: list[str]) -> list[str]:
    """Kraken v1 frames in v2 framing, frame for frame: a v1 subscription event becomes the
    answer v2 sends to the same subscription, so both sides read as many frames."""
    from ttxt_kafka.connectors.kraken.endpoints import v2_symbol
    from ttxt_kafka.simulator.captures import Frame

    dialect = _kraken_dialect(cap, [])
    out = []
    for raw in frames:
        pub = dialect.classify(Frame(0.0, raw, "KRAKEN.ws", "recv"))
        if pub is not None:
            out.append(str(pub.payload))
        elif raw.startswith("{") and (event := json.loads(raw)).get("event") == SUBSCRIBED:
            out.append(json.dumps({  # the docs' key order
                "method": "subscribe",
                "result": {"channel": event["subscription"]["name"], "snapshot": True,
                           "symbol": v2_symbol(event["pair"])},
                "success": True, "time_in": "2021-04-17T16:49:00.000000Z",
                "time_out": "2021-04-17T16:49:00.000050Z"}, separators=(",", ":")))
    return out


def _gate_spans(frames: list[str]) -> dict[str, int]:
    first: dict[str, int] = {}
    last: dict[str, int] = {}
    for raw in frames:
        r = json.loads(raw)["result"]
        first.setdefault(r["s"], r["U"])
        last[r["s"]] = r["u"]
    return {s: last[s] - first[s] + 1 for s in first}


def _load_coinbase(venue: str) -> VenueCapture:
    import gzip

    path = fixtures_dir() / COINBASE
    if not path.is_file():
        raise MissingFixtures(f"{path} not found (set TTXT_FIXTURES)")
    with gzip.open(path, "rt", encoding="utf-8") as f:
        recs = [json.loads(line) for line in f if line.strip()]
    url = next(r["addr"] for r in recs if r["t"] == "connect")
    frames = [r["data"] for r in recs if r["t"] == "recv"]
    return VenueCapture(venue, url, frames, info=json.loads(_read(COINBASE_REST)))


_SEQ = re.compile(r'"sequence_num":\d+')


def _coinbase_repeat(frames: list[str], n_messages: int) -> list[str]:
    """Coinbase: the frames again and again, each pass from the books' snapshots (replaying
    absolute sizes over a moved book would cross it), `sequence_num` renumbered 0, 1, 2, ...
    (one connection's counter), so every consumer sees a valid, gap-free stream."""
    out = list(frames)
    while frames and len(out) < n_messages:
        out += frames
    return [_SEQ.sub(f'"sequence_num":{i}', raw[:256], count=1) + raw[256:]
            for i, raw in enumerate(out)]


def _load_okx(venue: str) -> VenueCapture:
    """The venue's frames of the OKX capture (spot: `BTC-USDT`; swap: `UNI-USD-SWAP`), as
    received; `okx_today(frames)` gives ours the same frames with the seqId chain."""
    from ttxt_kafka.connectors.okx.sim.topics import inst_type_of

    inst_type = "SPOT" if venue == "okx_spot" else "SWAP"
    lines = _read(OKX).split("\n")
    frames = []
    for line in lines:
        m = _RECV.match(line)
        if m and line[m.end():].startswith('{"arg"'):
            raw = line[m.end():]
            if inst_type_of(json.loads(raw)["arg"]["instId"]) == inst_type:
                frames.append(raw)
    bodies = {}
    for line in _read(OKX_REST).split("\n"):
        if " -> " in line:
            url, _, rest = line.partition(" -> ")
            bodies[url.rsplit("instType=", 1)[1]] = json.loads(rest.partition(": ")[2])
    return VenueCapture(venue, lines[0].split(" ", 1)[0], frames, info=bodies[inst_type],
                        peer_info=[bodies["SPOT"], bodies["SWAP"]])


def okx_today(frames: list[str]) -> list[str]:
    """OKX 2022 frames with today's seqId/prevSeqId chain (one mapper across passes)."""
    from ttxt_kafka.connectors.okx.sim.capture import SeqIds

    seq = SeqIds()
    return [json.dumps(seq.frame(json.loads(raw)), separators=(",", ":"))
            if raw.startswith('{"arg":{"channel":"books"') else raw for raw in frames]


def v2(cap: VenueCapture, frames: list[str]) -> list[str]:
    """Bitget v1 frames in v2 framing (one mapper: `seq` keeps increasing across passes)."""
    from ttxt_kafka.connectors.bitget.sim.capture import V1Mapper

    mapper = V1Mapper()
    out = []
    for i, raw in enumerate(frames):
        msg = json.loads(raw)
        out.append(json.dumps(mapper.frame(msg, 1_700_000_000 + i * 1e-4),
                              separators=(",", ":")) if "action" in msg else raw)
    return out


# ------------------------------------------------------------------------- making it longer


def _kucoin_spans(frames: list[str]) -> dict[str, int]:
    first: dict[str, int] = {}
    last: dict[str, int] = {}
    for raw in frames:
        d = json.loads(raw)["data"]
        first.setdefault(d["symbol"], d["sequenceStart"])
        last[d["symbol"]] = d["sequenceEnd"]
    return {s: last[s] - first[s] + 1 for s in first}


def _kucoin_shift(raw: str, spans: dict[str, int], k: int) -> str:
    msg = json.loads(raw)
    d = msg["data"]
    span = spans[d["symbol"]] * k
    d["sequenceStart"] += span
    d["sequenceEnd"] += span
    for side in ("asks", "bids"):
        for change in d["changes"][side]:
            change[2] = str(int(change[2]) + span)
    return json.dumps(msg, separators=(",", ":"))


def _bybit_spans(frames: list[str]) -> dict[str, int]:
    first: dict[str, int] = {}
    last: dict[str, int] = {}
    for raw in frames:
        msg = json.loads(raw)
        if msg.get("topic", "").startswith("orderbook.") and msg["type"] == "delta":
            first.setdefault(msg["data"]["s"], msg["data"]["u"])
            last[msg["data"]["s"]] = msg["data"]["u"]
    return {s: last[s] - first[s] + 1 for s in first}


def repeat(cap: VenueCapture, frames: list[str], n_messages: int) -> list[str]:
    """`frames` repeated until there are at least `n_messages`, ids shifted to stay gap-free."""
    out = list(frames)
    if not frames:
        return out
    if cap.coinbase:
        return _coinbase_repeat(frames, n_messages)
    if cap.bitget or cap.kraken or cap.okx:  # passes restart at the snapshots: checksums hold
        while len(out) < n_messages:
            out += frames
        return out
    if cap.gate:  # U/u continue from pass to pass: next U = previous u + 1, per pair
        books = [f for f in frames if cap.kind(f) == "book"]
        gate_spans = _gate_spans(books)
        k = 0
        while len(out) < n_messages:
            k += 1
            for raw in frames:
                if cap.kind(raw) != "book":
                    out.append(raw)
                    continue
                msg = json.loads(raw)
                shift = gate_spans[msg["result"]["s"]] * k
                msg["result"]["U"] += shift
                msg["result"]["u"] += shift
                out.append(json.dumps(msg, separators=(",", ":")))
        return out
    if cap.kucoin:  # sequences (and each change's) shifted by one pass's span per symbol
        books = [f for f in frames if cap.kind(f) == "book"]
        kspans = _kucoin_spans(books)
        k = 0
        while len(out) < n_messages:
            k += 1
            out += [_kucoin_shift(raw, kspans, k) if cap.kind(raw) == "book" else raw
                    for raw in frames]
        return out
    if cap.venue.startswith("binance"):
        return _binance_repeat(cap, frames, n_messages)
    spans = _bybit_spans(frames)
    k = 0
    while len(out) < n_messages:
        k += 1
        for raw in frames:
            if _is_snapshot(raw):
                continue  # Bybit: the snapshot is sent once; later passes continue with deltas
            out.append(_shift(raw, spans, k) if _is_book(raw) else raw)
    return out


def _binance_repeat(cap: VenueCapture, frames: list[str], n_messages: int) -> list[str]:
    """Binance: pass 1 as captured; each later pass = a diff per symbol back to the REST
    snapshot, then the diffs pass 1 applied (u > lastUpdateId), ids shifted into the chain."""
    futures = cap.venue == "binance_usdm"
    snaps = {sym: json.loads(body) for sym, body in cap.snapshots.items()}
    start = {sym: _levels(snap) for sym, snap in snaps.items()}
    books = {sym: (dict(bids), dict(asks)) for sym, (bids, asks) in start.items()}
    last: dict[str, dict[str, Any]] = {}  # per symbol, the last diff pass 1 applied
    applied: list[tuple[str, dict[str, Any]] | str] = []  # a later pass, before the shift
    for raw in frames:
        d = json.loads(raw)["data"] if _is_book(raw) else None
        if d is None:
            applied.append(raw)
            continue
        sym = d["s"]
        if sym not in snaps or d["u"] < snaps[sym]["lastUpdateId"] + (0 if futures else 1):
            continue  # dropped by the bridging rule in pass 1: not repeated
        for side, key in ((books[sym][0], "b"), (books[sym][1], "a")):
            for price, qty in d[key]:
                if Decimal(qty) == 0:
                    side.pop(Decimal(price), None)
                else:
                    side[Decimal(price)] = (price, qty)
        last[sym] = d
        applied.append((sym, d))
    out = list(frames)
    tip = {sym: d["u"] for sym, d in last.items()}  # the chain's last id, per symbol
    while len(out) < n_messages:
        shift: dict[str, int] = {}
        for sym, d in last.items():  # the diff back to the snapshot, next in the chain
            restore = dict(d, U=tip[sym] + 1, u=tip[sym] + 1,
                           b=_back(books[sym][0], start[sym][0]),
                           a=_back(books[sym][1], start[sym][1]))
            if futures:
                restore["pu"] = tip[sym]
            tip[sym] += 1
            out.append(json.dumps({"stream": f"{sym.lower()}@depth@100ms", "data": restore},
                                  separators=(",", ":")))
        for item in applied:
            if isinstance(item, str):
                out.append(item)
                continue
            sym, d = item
            if sym not in shift:  # this pass's first diff continues the chain
                shift[sym] = tip[sym] - d["pu"] if futures else tip[sym] + 1 - d["U"]
            moved = {**d, **{k: d[k] + shift[sym] for k in ("U", "u", "pu") if k in d}}
            tip[sym] = moved["u"]
            out.append(json.dumps({"stream": f"{sym.lower()}@depth@100ms", "data": moved},
                                  separators=(",", ":")))
    return out


_Side = dict[Decimal, tuple[str, str]]


def _levels(snapshot: dict[str, Any]) -> tuple[_Side, _Side]:
    return ({Decimal(p): (p, q) for p, q in snapshot["bids"]},
            {Decimal(p): (p, q) for p, q in snapshot["asks"]})


def _back(now: _Side, then: _Side) -> list[list[str]]:
    """The levels that turn the side `now` into `then` (qty 0 removes a level)."""
    gone = [[now[p][0], "0"] for p in now if p not in then]
    changed = [list(then[p]) for p in then if p not in now or now[p][1] != then[p][1]]
    return gone + changed


def _is_book(raw: str) -> bool:
    return '"depthUpdate"' in raw[:120] or '"orderbook.' in raw[:40]


def _is_snapshot(raw: str) -> bool:
    return '"orderbook.' in raw[:40] and '"snapshot"' in raw[:200]


def _shift(raw: str, spans: dict[str, int], k: int) -> str:
    msg = json.loads(raw)
    d = msg["data"]
    d["u"] += spans.get(d["s"], 0) * k
    return json.dumps(msg, separators=(",", ":"))


# ------------------------------------------------------------------------- capture files


def write_capture(cap: VenueCapture, frames: list[str], folder: Path) -> Path:
    """`frames` as a capture file the simulator replays (with the REST bodies beside it)."""
    folder.mkdir(parents=True, exist_ok=True)
    ts = 1_700_000_000.0
    if cap.venue.startswith("binance"):
        feed = "BINANCE_FUTURES" if cap.venue == "binance_usdm" else "BINANCE"
        rest = "https://fapi.binance.com/fapi/v1" if cap.venue == "binance_usdm" \
            else "https://api.binance.com/api/v3"
        ws = folder / f"bench__cryptofeed_{feed}.ws.1.0.txt"
        with ws.open("w", encoding="utf-8") as fh:
            fh.write(f"{cap.url} <-> {ts}\n")
            for i, raw in enumerate(frames):
                fh.write(f"{ts + i * 1e-4:.6f}: {raw}\n")
        with (folder / f"bench__cryptofeed_{feed}.http.0.0.txt").open("w") as fh:
            for native, body in cap.snapshots.items():
                fh.write(f"{rest}/depth?symbol={native}&limit=1000 -> {ts}: {body}\n")
        (folder / f"bench__cryptofeed_{feed}.0.txt").write_text(
            f"{rest}/exchangeInfo -> {ts}: {json.dumps(cap.info)}\n")
        return ws
    category = cap.venue.split("_")[1]
    path = folder / f"bench_{category}__cryptofeed_v3_BYBIT.jsonl"
    with path.open("w", encoding="utf-8") as fh:
        def rec(obj: dict[str, Any]) -> None:
            fh.write(json.dumps(obj) + "\n")
        rec({"t": "header", "format": 2, "exchange": "BYBIT"})
        rec({"t": "http", "conn": "BYBIT.http", "ts": ts, "url":
             f"https://api.bybit.com/v5/market/instruments-info?category={category}",
             "data": json.dumps(cap.info)})
        rec({"t": "connect", "conn": "BYBIT.ws.1", "ts": ts, "addr": cap.url})
        for i, raw in enumerate(frames):
            rec({"t": "recv", "conn": "BYBIT.ws.1", "ts": ts + i * 1e-4, "data": raw})
    return path
