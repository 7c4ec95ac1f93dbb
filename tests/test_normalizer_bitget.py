"""Bitget v2 spot and USDT-M normalizers on the official v2 docs examples and on every pushed
frame of the live v1 captures (presented in v2 framing by the capture dialect): exact events
(strings verbatim, ms -> µs, symbols mapped), and the CRC32 book checksum of every captured book
push reproduced on the connector's own `Book`."""

from __future__ import annotations

import json

import pytest
from connector_support import (
    BITGET_MIX_WS,
    BITGET_REST,
    BITGET_SPOT_WS,
    bitget_crc,
    bitget_frames,
    bitget_reference,
    fixture,
    jsonl,
    v1_frames,
    v1_http,
)

from ttxt_kafka.book import Book
from ttxt_kafka.codec import decode, encode
from ttxt_kafka.connectors.base.book_sync import Action
from ttxt_kafka.connectors.base.errors import ExchangeMessageError, MalformedMessage
from ttxt_kafka.connectors.bitget.book_sync import BitgetBookSync, book_checksum, checksum
from ttxt_kafka.connectors.bitget.normalizer_spot import INTERVALS, BitgetSpotNormalizer
from ttxt_kafka.connectors.bitget.normalizer_usdtm import BitgetUsdtmNormalizer
from ttxt_kafka.connectors.bitget.sim.capture import (
    V1Mapper,
    v1_contracts_to_v2,
    v1_products_to_v2,
)
from ttxt_kafka.events import (
    BBO,
    InstrumentInfo,
    Kline,
    MarketType,
    OrderBook,
    Side,
    Trade,
    Trades,
    UpdateType,
)

RECV = 1_695_711_000_000_000


def spot() -> BitgetSpotNormalizer:
    return BitgetSpotNormalizer({"BTCUSDT": "BTC/USDT", "ETHUSDT": "ETH/USDT"})


def docs(name: str) -> str:
    return fixture(f"bitget/{name}").read_text(encoding="utf-8")


# ---------------------------------------------------------------------- checksum rule


def test_checksum_of_the_docs_examples() -> None:
    """The two strings of Bitget's docs; their signed CRC32 (SYNC_RULES.md)."""
    assert checksum([["43231.1", "4"], ["43231", "6"]],
                    [["43232.8", "9"], ["43232.9", "8"]]) == -1504501796
    assert checksum([["3366.1", "7"], ["3368", "8"]],
                    [["3366.8", "9"], ["3372", "8"]]) == 831078360
    # a side that runs out is skipped; only 25 levels count; strings, not numbers
    assert checksum([["1", "2"]], []) == bitget_crc([("1", "2")], [])
    many = [[str(100 - i), "1"] for i in range(30)]
    assert checksum(many, []) == checksum(many[:25], [])
    assert checksum([["0.5000", "1"]], []) != checksum([["0.5", "1"]], [])


@pytest.mark.parametrize("capture,normalizer,expected", [
    (BITGET_SPOT_WS, BitgetSpotNormalizer, 443), (BITGET_MIX_WS, BitgetUsdtmNormalizer, 194)],
    ids=["spot", "usdtm"])
def test_every_captured_checksum_matches_the_book(capture: str, normalizer: type,
                                                  expected: int) -> None:
    """Every `books` push of the capture -> v2 framing -> OrderBook events -> the sync machine and
    a `Book`: every checksum equals the book's, and the final books equal the reference."""
    norm, mapper = normalizer(), V1Mapper()
    books: dict[str, Book] = {}
    syncs: dict[str, BitgetBookSync] = {}
    checked = 0
    for ts, raw in v1_frames(capture):
        obj = json.loads(raw)
        if obj.get("arg", {}).get("channel") != "books" or "data" not in obj:
            continue
        [ev] = norm(json.dumps(mapper.frame(obj, ts)), RECV)
        assert isinstance(ev, OrderBook) and ev.checksum == obj["data"][0]["checksum"]
        assert ev.bids == obj["data"][0]["bids"] and ev.asks == obj["data"][0]["asks"]
        sync = syncs.setdefault(ev.native_symbol, BitgetBookSync())
        book = books.setdefault(ev.native_symbol, Book())
        action = sync.on_snapshot(ev) if ev.is_snapshot else sync.on_delta(ev)
        assert action in (Action.SYNCED, Action.APPLY)
        for e in sync.take() if action is Action.SYNCED else [ev]:
            book.update(e)
        assert book_checksum(book) == ev.checksum, (ev.native_symbol, ev.sequence)
        checked += 1
    assert checked == expected
    ref = bitget_reference(capture)
    assert (ref.checksums, ref.matched) == (expected, expected)
    for native, rb in ref.books.items():
        bids, asks = rb.levels()
        assert books[native].bids() == bids and books[native].asks() == asks
        assert books[native].sequence == rb.last


def test_sync_rule_gap_and_out_of_order() -> None:
    sync = BitgetBookSync()
    snap = spot()(docs("docs_v2_ws_spot_books5_snapshot.json").replace('"books5"', '"books"'),
                  RECV)[0]
    assert isinstance(snap, OrderBook)
    late = OrderBook(venue="bitget_spot", symbol="BTC/USDT", exchange_ts=1, receive_ts=1,
                     sequence=124, update_type=UpdateType.DELTA)
    assert sync.on_delta(late) is Action.DROP  # before any snapshot
    assert sync.on_snapshot(snap) is Action.SYNCED and sync.take() == [snap]
    assert sync.on_delta(late) is Action.APPLY
    late.sequence = 124
    assert sync.on_delta(late) is Action.GAP
    assert sync.reason == "out of order: seq=124 <= previous seq 124"
    late.sequence = None
    with pytest.raises(ValueError, match="without seq"):
        sync.on_delta(late)


# ---------------------------------------------------------------------- docs examples


def test_docs_books_snapshot() -> None:
    raw = docs("docs_v2_ws_spot_books5_snapshot.json")
    assert spot()(raw, RECV) == []  # books5 is a top-5 view: the book is `books`
    [ev] = spot()(raw.replace('"books5"', '"books"'), RECV)
    assert ev == OrderBook(
        venue="bitget_spot", symbol="BTC/USDT", native_symbol="BTCUSDT",
        exchange_ts=1695710946294_000, receive_ts=RECV, sequence=123,
        update_type=UpdateType.SNAPSHOT, bids=[["26274.8", "0.0009"], ["26274.7", "0.0027"]],
        asks=[["26274.9", "0.0009"], ["26275.0", "0.0500"]], checksum=0)
    [bbo] = spot()(raw.replace('"books5"', '"books1"'), RECV)
    assert bbo == BBO(venue="bitget_spot", symbol="BTC/USDT", native_symbol="BTCUSDT",
                      exchange_ts=1695710946294_000, receive_ts=RECV, sequence=123,
                      bid_price="26274.8", bid_qty="0.0009", ask_price="26274.9",
                      ask_qty="0.0009")
    assert decode(encode(ev)) == ev


def test_docs_trade() -> None:
    [ev] = spot()(docs("docs_v2_ws_spot_trade.json"), RECV)
    assert ev == Trades(
        venue="bitget_spot", symbol="BTC/USDT", native_symbol="BTCUSDT",
        exchange_ts=1695711090682_000, receive_ts=RECV, sequence=None,
        trades=[Trade(trade_id="1000000000", price="26293.4", qty="0.0013", side=Side.BUY,
                      exchange_ts=1695709835822_000)])


def test_docs_candle() -> None:
    [ev] = spot()(docs("docs_v2_ws_spot_candle1m.json"), RECV)
    assert ev == Kline(
        venue="bitget_spot", symbol="ETH/USDT", native_symbol="ETHUSDT",
        exchange_ts=1695702747821_000, receive_ts=RECV, interval="1m",
        open_time=1695672780000_000, close_time=1695672839999_000, open="2200.1",
        high="2200.1", low="2200.1", close="2200.1", volume="0", quote_volume="0",
        closed=True)


def test_every_candle_channel_has_an_interval() -> None:
    base = json.loads(docs("docs_v2_ws_spot_candle1m.json"))
    base["action"] = "update"
    seen = set()
    for channel, (name, _) in INTERVALS.items():
        base["arg"]["channel"] = channel
        [k] = spot()(json.dumps(base), RECV)
        assert isinstance(k, Kline) and k.interval == name
        seen.add(name)
    assert {"1m", "5m", "15m", "30m", "1h", "4h", "1d", "1w", "1M"} <= seen
    # a calendar month: 2023-09 (UTC) ends at 2023-10-01
    base["arg"]["channel"] = "candle1Mutc"
    base["data"] = [["1693526400000", "1", "2", "0.5", "1.5", "10", "15", "15"]]
    [k] = spot()(json.dumps(base), RECV)
    assert k.close_time == (1696118400000 - 1) * 1000 and not k.closed  # the push is earlier


# ---------------------------------------------------------------------- live v1 captures


@pytest.mark.parametrize("name", ["books_snapshot", "books_update", "trade", "candle1m"])
def test_live_extracts_in_v2_framing(name: str) -> None:
    mapper = V1Mapper()
    for raw in jsonl(f"bitget/live_extract_V1_spot_ws_{name}.jsonl"):
        obj = json.loads(raw)
        events = BitgetSpotNormalizer()(json.dumps(mapper.frame(obj, 1649290077.5)), RECV)
        sym = obj["arg"]["instId"]
        if name.startswith("books"):
            [ev] = events
            assert isinstance(ev, OrderBook) and ev.native_symbol == sym
            assert ev.checksum == obj["data"][0]["checksum"]
            assert ev.update_type is (UpdateType.SNAPSHOT if name == "books_snapshot"
                                      else UpdateType.DELTA)
        elif name == "trade":
            [ev] = events
            assert isinstance(ev, Trades) and len(ev.trades) == len(obj["data"])
            for t, (ts, px, qty, side) in zip(ev.trades, obj["data"], strict=True):
                assert (t.price, t.qty, t.side, t.exchange_ts) == (
                    px, qty, Side.BUY if side == "buy" else Side.SELL, int(ts) * 1000)
        else:
            [k] = events  # a snapshot's history: its newest candle only
            newest = max(obj["data"], key=lambda c: int(c[0]))
            assert isinstance(k, Kline) and k.open_time == int(newest[0]) * 1000
            assert (k.open, k.high, k.low, k.close, k.volume) == tuple(newest[1:6])
            assert k.quote_volume is None and not k.closed


def test_every_captured_frame_normalizes() -> None:
    """Every push of both captures (books, trade, candle1m, ticker) and every ack."""
    for capture, norm in ((BITGET_SPOT_WS, BitgetSpotNormalizer()),
                          (BITGET_MIX_WS, BitgetUsdtmNormalizer())):
        mapper = V1Mapper()
        kinds: dict[str, int] = {}
        for ts, raw in v1_frames(capture):
            obj = json.loads(raw)
            text = json.dumps(mapper.frame(obj, ts)) if "action" in obj else raw
            for ev in norm(text, RECV):
                kinds[type(ev).__name__] = kinds.get(type(ev).__name__, 0) + 1
                assert ev.venue == norm.venue and ev.native_symbol
        assert set(kinds) == {"OrderBook", "Trades", "Kline"}
    assert len(bitget_frames(BITGET_SPOT_WS, "ticker")) == 128


def test_instruments_from_the_captured_rest_in_v2_framing() -> None:
    bodies = {url: json.loads(body) for url, _, body in v1_http(BITGET_REST)}
    products = v1_products_to_v2(bodies["https://api.bitget.com/api/spot/v1/public/products"])
    infos = {i.native_symbol: i for i in BitgetSpotNormalizer().instruments(
        json.dumps(products), RECV)}
    assert len(infos) == 245
    assert infos["CULTUSDT"] == InstrumentInfo(
        venue="bitget_spot", symbol="CULT/USDT", native_symbol="CULTUSDT",
        exchange_ts=1649290075822_000, receive_ts=RECV, market_type=MarketType.SPOT,
        base="CULT", quote="USDT", trading=True, tick_size="0.00000001", lot_size="1",
        min_qty="1", max_qty=None, min_notional=None)
    contracts = v1_contracts_to_v2(
        bodies["https://api.bitget.com/api/mix/v1/market/contracts?productType=umcbl"])
    mix = {i.native_symbol: i for i in BitgetUsdtmNormalizer().instruments(
        json.dumps(contracts), RECV)}
    assert mix["BTCUSDT"].tick_size == "0.5" and mix["BTCUSDT"].lot_size == "0.001"
    assert mix["DASHUSDT"] == InstrumentInfo(
        venue="bitget_usdtm", symbol="DASH/USDT", native_symbol="DASHUSDT",
        exchange_ts=mix["DASHUSDT"].exchange_ts, receive_ts=RECV,
        market_type=MarketType.LINEAR, base="DASH", quote="USDT", trading=True,
        tick_size="0.01", lot_size="0.01", min_qty="0.01", max_qty=None, min_notional=None,
        contract_size="1")


# ---------------------------------------------------------------------- control and errors


def test_control_frames_and_errors() -> None:
    n = spot()
    assert n("pong", RECV) == []
    assert n('{"event":"subscribe","arg":{"instType":"SPOT","channel":"books",'
             '"instId":"BTCUSDT"}}', RECV) == []
    with pytest.raises(ExchangeMessageError, match="30001"):
        n('{"event":"error","arg":{"instType":"SPOT","channel":"books","instId":"X"},'
          '"code":30001,"msg":"instId:X doesn\'t exist"}', RECV)
    with pytest.raises(MalformedMessage, match="not JSON"):
        n("}{ not json", RECV)
    trade = docs("docs_v2_ws_spot_trade.json")
    with pytest.raises(MalformedMessage, match="price"):
        n(trade.replace('"26293.4"', "26293.4"), RECV)  # a number is never a price
    with pytest.raises(MalformedMessage, match="unknown bitget channel"):
        n(trade.replace('"trade"', '"nope"'), RECV)
    with pytest.raises(MalformedMessage):
        n('{"action":"update","arg":{"instType":"SPOT","channel":"books","instId":"BTCUSDT"}}',
          RECV)
