"""Coinbase Advanced Trade normalizer on every docs example and live capture in the fixtures:
exact strings, sequence numbers and times as the exchange sent them; bad frames refused with a
clear error. The docs examples are the scraped mirror's, artifacts included (a leading `//`
comment line, a backslash after `[` and `,` inside arrays): stripped here, as the manifest says."""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from connector_support import fixture, jsonl

from ttxt_kafka.connectors.base.errors import ExchangeMessageError, MalformedMessage
from ttxt_kafka.connectors.coinbase.connector import frame_sequence
from ttxt_kafka.connectors.coinbase.normalizer_spot import CoinbaseSpotNormalizer, iso_us
from ttxt_kafka.events import BBO, InstrumentInfo, Kline, OrderBook, Side, Trades, UpdateType

RECV = 1_800_000_000_000_000
CAPTURE = ("coinbase/live_advanced_trade_ws_l2_data_market_trades_candles_ticker__cryptofeed_v3_"
           "COINBASE.jsonl.gz")
WINDOW = ("coinbase/live_advanced_trade_ws_updates_window_after_snapshots__cryptofeed_v3_"
          "COINBASE.lines31-1038.jsonl")
PRODUCTS = "coinbase/live_rest_brokerage_market_products.json"


def norm() -> CoinbaseSpotNormalizer:
    return CoinbaseSpotNormalizer()


def docs_example(name: str) -> str:
    """The docs example as JSON text: the scrape artifacts removed."""
    text = fixture(f"coinbase/{name}").read_text()
    lines = [line for line in text.split("\n") if not line.lstrip().startswith("//")]
    return re.sub(r"\\\s*$", "", "\n".join(lines), flags=re.M)


def capture_frames(name: str = CAPTURE) -> list[str]:
    path = fixture(name)
    opener: Any = gzip.open if name.endswith(".gz") else open
    with opener(path, "rt") as f:
        records = [json.loads(line) for line in f if line.strip()]
    return [r["data"] for r in records if r["t"] == "recv"]


def us(text: str) -> int:
    """An independent reading of an RFC 3339 time, to the µs (fractions truncated)."""
    head, _, frac = text.rstrip("Z").partition(".")
    dt = datetime.strptime(head, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    return int(dt.timestamp()) * 1_000_000 + int((frac + "000000")[:6])


def test_times_are_exact_microseconds() -> None:
    assert iso_us("2026-08-09T21:05:48.228568804Z") == us("2026-08-09T21:05:48.228568804Z")
    assert iso_us("2019-08-14T20:42:27.265Z") == us("2019-08-14T20:42:27.265Z")
    assert iso_us("2024-02-29T00:00:00Z") == us("2024-02-29T00:00:00Z")
    assert iso_us("1970-01-01T00:00:00Z") == 0


def test_l2_snapshot_docs_example() -> None:
    doc = json.loads(docs_example("docs_ws_l2_data_snapshot.txt"))
    [snap] = norm()(json.dumps(doc), RECV)
    assert isinstance(snap, OrderBook) and snap.update_type is UpdateType.SNAPSHOT
    assert (snap.symbol, snap.native_symbol, snap.sequence) == ("BTC/USD", "BTC-USD", 0)
    assert snap.bids == [("21921.73", "0.06317902"), ("21921.3", "0.02")] and snap.asks == []
    assert snap.exchange_ts == us("2023-02-09T20:32:50.714964855Z") and snap.receive_ts == RECV


def test_l2_updates_live() -> None:
    for raw in jsonl("coinbase/live_extract_ws_l2_data_update.jsonl"):
        msg = json.loads(raw)
        [ev] = norm()(raw, RECV)
        [e] = msg["events"]
        assert isinstance(ev, OrderBook) and ev.update_type is UpdateType.DELTA
        assert (ev.native_symbol, ev.sequence) == (e["product_id"], msg["sequence_num"])
        assert ev.first_sequence is None  # the connector sets it (book_sync.py)
        assert ev.bids == [(u["price_level"], u["new_quantity"]) for u in e["updates"]
                           if u["side"] == "bid"]
        assert ev.asks == [(u["price_level"], u["new_quantity"]) for u in e["updates"]
                           if u["side"] == "offer"]
        assert ev.exchange_ts == us(msg["timestamp"])


def test_trades_docs_and_live() -> None:
    doc = json.loads(docs_example("docs_ws_market_trades.txt"))
    assert norm()(json.dumps(doc), RECV) == []  # a snapshot: history before subscribing
    doc["events"][0]["type"] = "update"
    [ev] = norm()(json.dumps(doc), RECV)
    assert isinstance(ev, Trades) and (ev.symbol, ev.sequence) == ("ETH/USD", 0)
    [t] = ev.trades
    # side BUY is the maker's: the taker sold
    assert (t.trade_id, t.price, t.qty, t.side) == ("000000000", "1260.01", "0.3", Side.SELL)
    assert t.exchange_ts == us("2019-08-14T20:42:27.265Z")
    updates = 0
    for raw in jsonl("coinbase/live_extract_ws_market_trades.jsonl"):
        msg = json.loads(raw)
        events = norm()(raw, RECV)
        if msg["events"][0]["type"] == "snapshot":
            assert events == []
            continue
        updates += 1
        trades = msg["events"][0]["trades"][::-1]  # oldest first on the topic
        [ev] = events
        assert isinstance(ev, Trades)
        assert [(t.trade_id, t.price, t.qty, t.side.value) for t in ev.trades] == [
            (t["trade_id"], t["price"], t["size"], "BUY" if t["side"] == "SELL" else "SELL")
            for t in trades]
    assert updates >= 1


def test_maker_side_reading_holds_on_the_capture() -> None:
    """Why `side` is read as the maker's: in the capture, trades said SELL happen at the best
    ask of the ticker before them (a taker bought), BUY at the best bid."""
    best: dict[str, tuple[str, str]] = {}
    agree = disagree = 0
    for raw in capture_frames():
        msg = json.loads(raw)
        if msg["channel"] == "ticker":
            for t in msg["events"][0]["tickers"]:
                best[t["product_id"]] = (t["best_bid"], t["best_ask"])
        elif msg["channel"] == "market_trades" and msg["events"][0]["type"] == "update":
            for t in msg["events"][0]["trades"]:
                bid, ask = best[t["product_id"]]
                at = {bid: "BUY", ask: "SELL"}.get(t["price"])
                if at is not None:
                    agree += at == t["side"]
                    disagree += at != t["side"]
    assert agree > 20 and disagree <= agree // 10, (agree, disagree)


def test_candles_docs_and_live() -> None:
    doc = json.loads(docs_example("docs_ws_candles.txt"))
    [k] = norm()(json.dumps(doc), RECV)
    assert isinstance(k, Kline) and (k.symbol, k.interval) == ("ETH/USD", "5m")
    assert (k.open, k.high, k.low, k.close, k.volume) == ("1867.38", "1867.72", "1865.63",
                                                          "1866.81", "0.20269406")
    assert k.open_time == 1688998200 * 10**6 and k.close_time == (1688998200 + 300) * 10**6 - 1000
    # the docs' message time (2023-06-09) is before this candle: not closed
    assert k.closed is False
    for raw in jsonl("coinbase/live_extract_ws_candles.jsonl"):
        msg = json.loads(raw)
        events = norm()(raw, RECV)
        candles = msg["events"][0]["candles"]
        if msg["events"][0]["type"] == "snapshot":  # the newest candle only
            newest = max(candles, key=lambda c: int(c["start"]))
            [k] = events
            assert isinstance(k, Kline)
            assert (k.open_time, k.close) == (int(newest["start"]) * 10**6, newest["close"])
            assert k.closed == (us(msg["timestamp"]) >= (int(newest["start"]) + 300) * 10**6)
        else:
            assert [(e.native_symbol, e.close, e.volume) for e in events  # type: ignore[attr-defined]
                    ] == [(c["product_id"], c["close"], c["volume"]) for c in candles]


def test_ticker_docs_and_live() -> None:
    doc = json.loads(docs_example("docs_ws_ticker.txt"))
    [b] = norm()(json.dumps(doc), RECV)
    assert isinstance(b, BBO) and b.symbol == "BTC/USD"
    assert (b.bid_price, b.bid_qty, b.ask_price, b.ask_qty) == ("21931.98", "8000.21",
                                                                 "21933.98", "8038.07770938")
    for raw in jsonl("coinbase/live_extract_ws_ticker.jsonl"):
        msg = json.loads(raw)
        [b] = norm()(raw, RECV)
        [t] = msg["events"][0]["tickers"]
        assert isinstance(b, BBO) and b.sequence == msg["sequence_num"]
        assert (b.bid_price, b.bid_qty, b.ask_price, b.ask_qty) == (
            t["best_bid"], t["best_bid_quantity"], t["best_ask"], t["best_ask_quantity"])


def test_control_messages_give_nothing_but_carry_the_counter() -> None:
    for raw in [docs_example("docs_ws_heartbeats.txt"),
                *jsonl("coinbase/live_extract_ws_heartbeats.jsonl"),
                *jsonl("coinbase/live_extract_ws_subscriptions.jsonl")]:
        assert norm()(raw, RECV) == []
        assert frame_sequence(raw) == json.loads(raw)["sequence_num"]


def test_every_frame_of_the_captures() -> None:
    """Every received frame of the full capture and the cut window normalizes; the events
    match the messages one for one."""
    for name in (CAPTURE, WINDOW):
        frames = capture_frames(name)
        kinds: Counter[str] = Counter()
        expected: Counter[str] = Counter()
        n = norm()
        for raw in frames:
            msg = json.loads(raw)
            for ev in n(raw, RECV):
                kinds[type(ev).__name__] += 1
                assert ev.sequence == msg["sequence_num"] == frame_sequence(raw)
            channel = msg["channel"]
            e = msg["events"][0]
            if channel == "l2_data":
                expected["OrderBook"] += 1
            elif channel == "ticker":
                expected["BBO"] += len(e["tickers"])
            elif channel == "market_trades" and e["type"] == "update":
                expected["Trades"] += len({t["product_id"] for t in e["trades"]})
            elif channel == "candles":
                expected["Kline"] += (len({c["product_id"] for c in e["candles"]})
                                      if e["type"] == "snapshot" else len(e["candles"]))
        assert kinds == expected, name
    assert len(capture_frames()) == 1030


def test_instruments_from_the_products_list() -> None:
    body = fixture(PRODUCTS).read_text()
    infos = norm().instruments(body, RECV)
    products = json.loads(body)["products"]
    assert len(infos) == len(products) == 920
    btc = next(i for i in infos if i.native_symbol == "BTC-USD")
    assert isinstance(btc, InstrumentInfo)
    assert (btc.symbol, btc.base, btc.quote, btc.trading) == ("BTC/USD", "BTC", "USD", True)
    assert (btc.tick_size, btc.lot_size, btc.min_qty, btc.max_qty, btc.min_notional) == (
        "0.01", "0.00000001", "0.00000001", "3400", "1")
    delisted = {p["product_id"] for p in products if p["status"] != "online"}
    assert len(delisted) == 8
    assert {i.native_symbol for i in infos if not i.trading} >= delisted


@pytest.mark.parametrize("raw", [
    "}{ not json",
    '{"channel":"l2_data","sequence_num":5}',
    '{"channel":"l2_data","timestamp":"2026-08-09T21:05:48Z","sequence_num":5,"events":'
    '[{"type":"update","product_id":"BTC-USD","updates":[{"side":"bid","price_level":1.5,'
    '"new_quantity":"1"}]}]}',
    '{"channel":"ticker","timestamp":"2026-08-09T21:05:48Z","sequence_num":5,"events":[{"type":'
    '"update","tickers":[{"product_id":"BTC-USD","best_bid":"1"}]}]}',
    '{"channel":"mystery","sequence_num":1}',
    '{"sequence_num":1}',
    "[1, 2]",
])
def test_bad_frames_are_refused(raw: str) -> None:
    with pytest.raises(MalformedMessage):
        norm()(raw, RECV)


def test_error_frames() -> None:
    with pytest.raises(ExchangeMessageError, match="failure to subscribe"):
        norm()('{"type":"error","message":"failure to subscribe"}', RECV)


def test_parsed_frames_take_the_same_path() -> None:
    raw = jsonl("coinbase/live_extract_ws_ticker.jsonl")[0]
    assert norm()(json.loads(raw), RECV) == norm()(raw, RECV)
