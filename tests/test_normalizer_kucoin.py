"""KuCoin spot normalizer on every docs example and live capture in the fixtures: exact strings,
sequences and times as the exchange sent them; bad frames refused with a clear error."""

from __future__ import annotations

import json

import pytest
from connector_support import (
    KUCOIN_REST,
    KUCOIN_WS,
    fixture,
    jsonl,
    load_jsonc,
    v1_frames,
    v1_http,
)

from ttxt_kafka.connectors.base.errors import ExchangeMessageError, MalformedMessage
from ttxt_kafka.connectors.kucoin.normalizer_spot import KucoinSpotNormalizer
from ttxt_kafka.events import BBO, Kline, OrderBook, Side, Trades, UpdateType

RECV = 1_700_000_000_000_000
SYMBOLS = "kucoin/live_rest_symbols__cryptofeed_KUCOIN.0.txt"
PRIVATE_DOCS = ("docs_ws_private_account_balance", "docs_ws_private_tradeOrdersV2_received",
                "docs_ws_private_tradeOrders_orderChange_canceled",
                "docs_ws_private_tradeOrders_orderChange_filled",
                "docs_ws_private_tradeOrders_orderChange_match",
                "docs_ws_private_tradeOrders_orderChange_open",
                "docs_ws_private_tradeOrders_orderChange_update")


def norm() -> KucoinSpotNormalizer:
    return KucoinSpotNormalizer()


def test_l2update_docs_example() -> None:
    doc = load_jsonc("kucoin/docs_ws_level2_l2update.jsonc")
    [ev] = norm()(json.dumps(doc), RECV)
    assert isinstance(ev, OrderBook) and ev.update_type is UpdateType.DELTA
    assert (ev.symbol, ev.native_symbol, ev.first_sequence, ev.sequence) == (
        "BTC/USDT", "BTC-USDT", 14103844, 14103847)
    assert ev.asks == [["18906", "0.00331"], ["18907.3", "0.58751503"]]
    assert ev.bids == [["18891.9", "0.15688"]]
    assert ev.exchange_ts == 1663747970273 * 1000 and ev.receive_ts == RECV


def test_l2update_live_pushes_and_sequence_only_changes() -> None:
    for raw in jsonl("kucoin/live_extract_ws_level2_l2update.jsonl"):
        d = json.loads(raw)["data"]
        [ev] = norm()(raw, RECV)
        assert isinstance(ev, OrderBook)
        assert (ev.native_symbol, ev.first_sequence, ev.sequence) == (
            d["symbol"], d["sequenceStart"], d["sequenceEnd"])
        expected = [[p, s] for p, s, _ in d["changes"]["asks"] if p != "0"]
        assert ev.asks == expected
        assert ev.exchange_ts == RECV  # 2021 pushes carry no time
    # price "0": only the sequence advances -> an empty delta that keeps the chain
    raw = ('{"data":{"sequenceStart":5,"symbol":"BCHSV-USDT","changes":{"asks":[["0","0","5"]],'
           '"bids":[]},"sequenceEnd":5},"subject":"trade.l2update",'
           '"topic":"/market/level2:BCHSV-USDT","type":"message"}')
    [ev] = norm()(raw, RECV)
    assert isinstance(ev, OrderBook) and (ev.bids, ev.asks, ev.sequence) == ([], [], 5)


def test_match_docs_and_live() -> None:
    doc = load_jsonc("kucoin/docs_ws_match.jsonc")
    [ev] = norm()(json.dumps(doc), RECV)
    assert isinstance(ev, Trades) and ev.sequence == 1545896669145
    [t] = ev.trades
    assert (t.trade_id, t.price, t.qty, t.side) == (
        "5c24c5da03aa673885cd67aa", "0.08200000000000000000", "0.01022222000000000000", Side.BUY)
    assert t.exchange_ts == ev.exchange_ts == 1545913818099033  # ns -> µs, exactly
    for raw in jsonl("kucoin/live_extract_ws_match.jsonl"):
        d = json.loads(raw)["data"]
        [ev] = norm()(raw, RECV)
        assert isinstance(ev, Trades) and ev.native_symbol == d["symbol"]
        assert (ev.trades[0].price, ev.trades[0].qty, ev.trades[0].trade_id) == (
            d["price"], d["size"], d["tradeId"])
        assert ev.trades[0].side is (Side.BUY if d["side"] == "buy" else Side.SELL)


def test_candles_docs_and_live() -> None:
    doc = load_jsonc("kucoin/docs_ws_candles.jsonc")
    [k] = norm()(json.dumps(doc), RECV)
    assert isinstance(k, Kline)
    assert (k.interval, k.symbol, k.open, k.close, k.high, k.low) == (
        "1h", "BTC/USDT", "9786.9", "9740.8", "9806.1", "9732")
    assert (k.volume, k.quote_volume, k.closed) == ("27.45649579", "268280.09830877", False)
    assert k.open_time == 1589968800 * 10**6 and k.close_time == (1589972400 * 10**6) - 1000
    assert k.exchange_ts == 1589970010253893
    closed = []
    for raw in jsonl("kucoin/live_extract_ws_candles.jsonl"):
        d = json.loads(raw)["data"]
        [k] = norm()(raw, RECV)
        assert isinstance(k, Kline) and k.interval == "1m"
        assert [str(k.open_time // 10**6), k.open, k.close, k.high, k.low, k.volume,
                k.quote_volume] == d["candles"]
        closed.append(k.closed)
    # the first `add` of a minute carries the previous candle, whose minute is over
    assert closed[0] is True and closed[1] is False


def test_ticker_live() -> None:
    for raw in jsonl("kucoin/live_extract_ws_ticker.jsonl"):
        d = json.loads(raw)["data"]
        [ev] = norm()(raw, RECV)
        assert isinstance(ev, BBO)
        assert (ev.bid_price, ev.bid_qty, ev.ask_price, ev.ask_qty) == (
            d["bestBid"], d["bestBidSize"], d["bestAsk"], d["bestAskSize"])
        assert ev.sequence == int(d["sequence"]) and ev.exchange_ts == d["time"] * 1000


def test_level2_depth5_docs_example() -> None:
    doc = load_jsonc("kucoin/docs_ws_level2Depth5.jsonc")
    [ev] = norm()(json.dumps(doc), RECV)
    assert isinstance(ev, OrderBook) and ev.update_type is UpdateType.SNAPSHOT
    assert ev.depth == 5 and ev.bids[0] == ["9988", "56"] and ev.asks[-1] == ["9993", "3"]


def test_rest_snapshots_docs_and_live() -> None:
    for name, depth in (("docs_rest_orderbook_level2_full", 0),
                        ("docs_rest_orderbook_level2_part", 100)):
        doc = load_jsonc(f"kucoin/{name}.jsonc")
        snap = norm().depth_snapshot(json.dumps(doc), "BTC-USDT", RECV, depth)
        assert snap.sequence == 3262786978 and snap.depth == depth
        assert snap.bids == [["6500.12", "0.45054140"], ["6500.11", "0.45054140"]]
        assert snap.exchange_ts == 1550653727731000
    for url, _, body in v1_http(KUCOIN_REST):
        data = json.loads(body)["data"]
        native = url.rpartition("symbol=")[2]
        snap = norm().depth_snapshot(body, native, RECV)  # the whole answer, code and data
        assert snap.sequence == int(data["sequence"])
        assert (snap.bids, snap.asks) == (data["bids"], data["asks"])


def test_rest_klines_docs_example() -> None:
    doc = load_jsonc("kucoin/docs_rest_klines.jsonc")
    ks = norm().rest_klines(json.dumps(doc), "BTC-USDT", "1min", RECV)
    assert [k.open_time // 10**6 for k in ks] == [1545904920, 1545904980]  # oldest first
    assert (ks[1].open, ks[1].close, ks[1].high, ks[1].low, ks[1].volume,
            ks[1].quote_volume) == ("0.058", "0.049", "0.058", "0.049", "0.018", "0.000945")
    assert all(k.closed for k in ks)


def test_instruments_from_the_captured_v1_symbols() -> None:
    [(_, _, body)] = v1_http(SYMBOLS)
    n = norm()
    infos = {i.native_symbol: i for i in n.instruments(body, RECV)}
    bsv = infos["BCHSV-USDT"]
    assert (bsv.symbol, bsv.base, bsv.quote, bsv.tick_size, bsv.lot_size, bsv.min_qty) == (
        "BSV/USDT", "BSV", "USDT", "0.001", "0.00000001", "0.001")
    assert bsv.min_notional == "0.05" and bsv.trading  # v1: quoteMinSize
    assert n.symbol("BCHSV-USDT") == "BSV/USDT"  # the listing's name wins over the split


def test_every_captured_frame_decodes() -> None:
    n = norm()
    counts: dict[str, int] = {}
    for _, raw in v1_frames(KUCOIN_WS):
        for ev in n(raw, RECV):
            counts[type(ev).__name__] = counts.get(type(ev).__name__, 0) + 1
    assert counts == {"OrderBook": 3853, "BBO": 830, "Trades": 18, "Kline": 6}


def test_control_private_and_error_frames() -> None:
    for raw in ('{"id":"NSkIrWGB1s","type":"welcome"}', '{"id":"1","type":"ack"}',
                '{"id":"1545910590801","type":"pong"}'):
        assert norm()(raw, RECV) == []
    for name in PRIVATE_DOCS:  # the private stream's normalizer reads these
        assert norm()(json.dumps(load_jsonc(f"kucoin/{name}.jsonc")), RECV) == []
    with pytest.raises(ExchangeMessageError, match="404"):
        norm()('{"id":"1","type":"error","code":404,"data":"topic /x is not found"}', RECV)


@pytest.mark.parametrize("raw", [
    "not json",
    "[1,2]",
    '{"type":"message","subject":"trade.l2update","topic":"/market/level2:A-B","data":{}}',
    '{"type":"message","subject":"trade.ticker","topic":"/market/ticker:A-B","data":'
    '{"sequence":"1","bestBid":1.5,"bestBidSize":"1","bestAsk":"2","bestAskSize":"1","time":1}}',
    '{"type":"message","subject":"trade.candles.update","topic":"/market/candles:A-B_7min",'
    '"data":{"symbol":"A-B","candles":["1","1","1","1","1","1","1"],"time":1}}',
    '{"type":"message","subject":"nope","topic":"/x:A-B","data":{}}',
    '{"type":"surprise"}',
])
def test_malformed_frames_are_refused(raw: str) -> None:
    with pytest.raises(MalformedMessage):
        norm()(raw, RECV)


def test_fixture_paths_exist() -> None:
    assert fixture(KUCOIN_WS).exists() and fixture(SYMBOLS).exists()
