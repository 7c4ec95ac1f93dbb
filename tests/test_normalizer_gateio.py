"""Gate.io v4 spot normalizer on every docs example and live capture in the fixtures: exact
strings, ids and times as the exchange sent them; bad frames refused with a clear error."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from connector_support import GATE_REST, GATE_WS, fixture, jsonl, load_jsonc, v1_frames, v1_http

from ttxt_kafka.connectors.base.errors import ExchangeMessageError, MalformedMessage
from ttxt_kafka.connectors.gateio.normalizer_spot import GateSpotNormalizer
from ttxt_kafka.events import BBO, Kline, OrderBook, Side, Trades, UpdateType

RECV = 1_700_000_000_000_000
PAIRS = "gateio/live_rest_v4_spot_currency_pairs__cryptofeed_GATEIO.0.txt"


def norm() -> GateSpotNormalizer:
    return GateSpotNormalizer()


def test_obu_full_and_update_docs_examples() -> None:
    full = load_jsonc("gateio/docs_ws_spot_obu_v2_full.json")
    [snap] = norm()(json.dumps(full), RECV)
    assert isinstance(snap, OrderBook) and snap.update_type is UpdateType.SNAPSHOT
    assert (snap.symbol, snap.native_symbol, snap.sequence, snap.depth) == (
        "BTC/USDT", "BTC_USDT", 73777715168, 50)
    assert snap.bids == full["result"]["b"] and snap.asks == full["result"]["a"]
    assert snap.exchange_ts == 1747054612673 * 1000 and snap.receive_ts == RECV
    update = load_jsonc("gateio/docs_ws_spot_obu_v2_update.json")
    [delta] = norm()(json.dumps(update), RECV)
    assert isinstance(delta, OrderBook) and delta.update_type is UpdateType.DELTA
    assert (delta.first_sequence, delta.sequence) == (73777715169, 73777715212)
    assert delta.asks == [["104027.2", "0"], ["104027.4", "0"]]  # removals, verbatim


def test_legacy_order_book_updates_docs_and_live() -> None:
    doc = load_jsonc("gateio/docs_ws_spot_order_book_update.json")
    [ev] = norm()(json.dumps(doc), RECV)
    assert isinstance(ev, OrderBook) and ev.update_type is UpdateType.DELTA
    assert (ev.first_sequence, ev.sequence) == (doc["result"]["U"], doc["result"]["u"])
    for raw in jsonl("gateio/live_extract_ws_order_book_update.jsonl"):
        r = json.loads(raw)["result"]
        [ev] = norm()(raw, RECV)
        assert isinstance(ev, OrderBook)
        assert (ev.native_symbol, ev.first_sequence, ev.sequence, ev.bids, ev.asks) == (
            r["s"], r["U"], r["u"], r["b"], r["a"])


def test_trades_docs_and_live() -> None:
    doc = load_jsonc("gateio/docs_ws_spot_trades.json")
    [ev] = norm()(json.dumps(doc), RECV)
    assert isinstance(ev, Trades)
    [t] = ev.trades
    assert (t.trade_id, t.price, t.qty, t.side) == ("309143071", "0.4705000000", "16.4700000000",
                                                    Side.SELL)
    assert t.exchange_ts == ev.exchange_ts == 1606292218213457  # "…213.4578" ms, exactly in µs
    for raw in jsonl("gateio/live_extract_ws_trades.jsonl"):
        r = json.loads(raw)["result"]
        [ev] = norm()(raw, RECV)
        assert isinstance(ev, Trades) and ev.sequence == r["id"]
        assert (ev.trades[0].price, ev.trades[0].qty) == (r["price"], r["amount"])
        assert ev.trades[0].side is (Side.BUY if r["side"] == "buy" else Side.SELL)


def test_candles_docs_and_live() -> None:
    doc = load_jsonc("gateio/docs_ws_spot_candlesticks.json")
    [k] = norm()(json.dumps(doc), RECV)
    assert isinstance(k, Kline)
    assert (k.interval, k.symbol, k.open, k.high, k.low, k.close) == (
        "1m", "BTC/USDT", "19128.1", "19128.1", "19128.1", "19128.1")
    assert (k.volume, k.quote_volume, k.closed) == ("3.8283", "2362.32035", True)
    assert k.open_time == 1606292580 * 10**6 and k.close_time == (1606292640 * 10**3 - 1) * 1000
    for raw in jsonl("gateio/live_extract_ws_candlesticks.jsonl"):
        r = json.loads(raw)["result"]
        [k] = norm()(raw, RECV)
        assert isinstance(k, Kline)
        # 2021 pushes: no `a` (base volume) and no `w`: `v` is the volume, not closed
        assert (k.volume, k.quote_volume, k.closed, k.close) == (r["v"], None, False, r["c"])


def test_book_ticker_and_control_frames() -> None:
    raw = ('{"time":1606293275,"time_ms":1606293275723,"channel":"spot.book_ticker",'
           '"event":"update","result":{"t":1606293275123,"u":48733182,"s":"BTC_USDT",'
           '"b":"19177.79","B":"0.0003341504","a":"19179.38","A":"0.09"}}')
    [bbo] = norm()(raw, RECV)
    assert isinstance(bbo, BBO)
    assert (bbo.bid_price, bbo.bid_qty, bbo.ask_price, bbo.ask_qty, bbo.sequence) == (
        "19177.79", "0.0003341504", "19179.38", "0.09", 48733182)
    assert norm()(json.dumps(load_jsonc("gateio/docs_ws_server_response_subscribe.json")),
                  RECV) == []
    assert norm()('{"time":1,"time_ms":2,"channel":"spot.pong","event":"","result":null}',
                  RECV) == []


def test_every_frame_of_the_live_capture() -> None:
    kinds = {"spot.order_book_update": "OrderBook", "spot.trades": "Trades",
             "spot.candlesticks": "Kline"}
    counts: dict[str, int] = {}
    expected: dict[str, int] = {}
    for _, raw in v1_frames(GATE_WS):
        msg = json.loads(raw)
        if msg.get("event") == "update" and msg["channel"] in kinds:
            expected[kinds[msg["channel"]]] = expected.get(kinds[msg["channel"]], 0) + 1
        for ev in norm()(raw, RECV):
            counts[type(ev).__name__] = counts.get(type(ev).__name__, 0) + 1
    assert counts == expected and counts["OrderBook"] == 172


def test_rest_bodies() -> None:
    [(_, _, body)] = v1_http(PAIRS)[:1]
    infos = norm().instruments(body, RECV)
    by_native = {i.native_symbol: i for i in infos}
    raw = {p["id"]: p for p in json.loads(body)}
    assert len(infos) == len(raw) > 100
    ame = by_native["AME_ETH"]  # precision 8, amount_precision 3, min_quote_amount 0.001
    assert (ame.symbol, ame.tick_size, ame.lot_size, ame.min_notional, ame.trading) == (
        "AME/ETH", "0.00000001", "0.001", "0.001", True)
    assert Decimal(by_native["ALEPH_USDT"].tick_size) == Decimal("0.0001")
    for url, _, body in v1_http(GATE_REST):
        pair = url.split("currency_pair=")[1].split("&")[0]
        snap = norm().depth_snapshot(body, pair, RECV)
        d = json.loads(body)
        assert (snap.sequence, snap.bids, snap.asks, snap.update_type) == (
            d["id"], d["bids"], d["asks"], UpdateType.SNAPSHOT)


@pytest.mark.parametrize("raw, error, text", [
    ("not json", MalformedMessage, "not JSON"),
    ('{"time":1,"channel":"spot.trades","event":"update","result":{"id":1,'
     '"create_time_ms":"1.5","side":"buy","currency_pair":"A_B","amount":1.5,"price":"1"}}',
     MalformedMessage, "Expected `str`"),  # a JSON number for an amount: never a float
    ('{"time":1,"channel":"spot.obu","event":"update","result":{"t":1,"s":"ob.A_B.50",'
     '"u":2,"b":[],"a":[]}}', MalformedMessage, "without U"),
    ('{"time":1,"channel":"spot.obu","event":"update","result":{"t":1,"s":"BTC_USDT",'
     '"full":true,"u":2}}', MalformedMessage, "bad gate.io book stream"),
    ('{"time":1,"channel":"spot.nope","event":"update","result":{}}', MalformedMessage,
     "unknown gate.io channel"),
    ('{"time":1,"channel":"spot.obu","event":"subscribe","error":{"code":2,'
     '"message":"unknown currency pair"},"result":{"status":"fail"}}', ExchangeMessageError,
     "unknown currency pair"),
])
def test_bad_frames_are_refused_clearly(raw: str, error: type[Exception], text: str) -> None:
    with pytest.raises(error, match=text):
        norm()(raw, RECV)


def test_fixtures_exist() -> None:
    assert fixture(GATE_WS).exists() and fixture(PAIRS).exists()


def test_the_captured_amounts_fit_gates_asset_precision() -> None:
    """Gate prints amounts with 10 decimals: the impossible-numbers check (floor =
    VenueSpec.asset_decimals) accepts every captured book update, and refuses one decimal more."""
    from ttxt_kafka import venues
    from ttxt_kafka.connectors.base.numbers import NumberChecker

    [(_, _, body)] = v1_http(PAIRS)[:1]
    check = NumberChecker(norm().instruments(body, RECV),
                          venues.venue("gateio_spot").asset_decimals)
    books = [ev for _, raw in v1_frames(GATE_WS) for ev in norm()(raw, RECV)
             if isinstance(ev, OrderBook)]
    assert len(books) == 172 and [check(ev) for ev in books] == [None] * 172
    assert any(len(q.partition(".")[2]) > 8 for ev in books for _, q in ev.bids + ev.asks)
    bad = books[0]
    bad.bids = [[bad.bids[0][0], "1.00000000001"]]  # 11 decimals
    assert "more than 10 decimals" in (check(bad) or "")


TRADE = ('{"time":1606292218,"channel":"spot.trades","event":"update","result":{"id":309143071,'
         '"create_time":1606292218,"create_time_ms":"MS","side":"sell",'
         '"currency_pair":"GT_USDT","amount":"16.47","price":"0.4705"}}')


@pytest.mark.parametrize("ms, us", [
    ("1606292218213.4578", 1606292218213457), ("1606292218213.4", 1606292218213400),
    ("1606292218213", 1606292218213000), ("1606292218213.123456", 1606292218213123),
    ("160629221821.4", 160629221821400),  # fewer digits: the general reading
])
def test_trade_push_read_inline_as_the_general_path_reads_it(ms: str, us: int) -> None:
    """The trade push's event is made inline in `__call__` (the busiest push); a decoded
    message takes the general path (`trade`): both give the same event, the time exact."""
    raw = TRADE.replace("MS", ms)
    [inline] = norm()(raw, RECV)
    [general] = norm()(json.loads(raw), RECV)
    assert inline == general and isinstance(inline, Trades)
    assert inline.exchange_ts == inline.trades[0].exchange_ts == us
    with pytest.raises(MalformedMessage):
        norm()(TRADE.replace("MS", "16062922182x3.4"), RECV)
