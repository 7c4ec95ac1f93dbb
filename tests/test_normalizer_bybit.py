"""Bybit v5 spot and linear normalizers on the real capture and the official docs examples:
every message type -> exact events (strings verbatim, ms -> µs, symbols mapped)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from connector_support import bybit_frames, fixture, jsonl, load_jsonc

from ttxt_kafka.codec import decode, encode
from ttxt_kafka.connectors.base.errors import ExchangeMessageError, MalformedMessage
from ttxt_kafka.connectors.base.symbols import SymbolMap
from ttxt_kafka.connectors.bybit.normalizer_linear import BybitLinearNormalizer
from ttxt_kafka.connectors.bybit.normalizer_spot import BybitSpotNormalizer
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

RECV = 1_786_310_819_999_999
NAMES = {"BTCUSDT": "BTC/USDT", "ETHUSDT": "ETH/USDT", "SOLUSDT": "SOL/USDT",
         "DOGEUSDT": "DOGE/USDT"}


def spot() -> BybitSpotNormalizer:
    return BybitSpotNormalizer(NAMES)


def linear() -> BybitLinearNormalizer:
    return BybitLinearNormalizer(NAMES)


def test_orderbook_snapshot_and_delta_from_the_live_capture() -> None:
    frames = [raw for _, raw in bybit_frames("linear") if '"orderbook.' in raw[:40]]
    snap_raw, delta_raw = frames[0], frames[1]
    [snap] = linear()(snap_raw, RECV)
    d = json.loads(snap_raw)
    assert snap == OrderBook(
        venue="bybit_linear", symbol="BTC/USDT", native_symbol="BTCUSDT",
        exchange_ts=1786310818129_000, receive_ts=RECV, sequence=d["data"]["u"],
        update_type=UpdateType.SNAPSHOT, bids=d["data"]["b"], asks=d["data"]["a"], depth=200,
    )
    assert snap.bids[:2] == [["65114.20", "6.054"], ["65114.10", "0.002"]]
    [delta] = linear()(delta_raw, RECV)
    assert delta == OrderBook(
        venue="bybit_linear", symbol="BTC/USDT", native_symbol="BTCUSDT",
        exchange_ts=1786310818130_000, receive_ts=RECV, sequence=15076953,
        update_type=UpdateType.DELTA,
        bids=[["65095.30", "0.005"], ["65094.60", "0.076"], ["65093.10", "0"],
              ["65092.20", "0.641"], ["65088.60", "0.007"], ["65088.40", "0.445"]],
        asks=json.loads(delta_raw)["data"]["a"], depth=200,
    )


def test_public_trade_and_kline_from_the_live_capture() -> None:
    [trades] = linear()(jsonl("bybit/live_extract_v5_ws_publicTrade.jsonl")[0], RECV)
    assert trades == Trades(
        venue="bybit_linear", symbol="BTC/USDT", native_symbol="BTCUSDT",
        exchange_ts=1786310819681_000, receive_ts=RECV, sequence=753843954913,
        trades=[Trade(trade_id="a9188a0a-82bc-50de-be60-03eedbe3cdd7", price="65114.20",
                      qty="0.004", side=Side.SELL, exchange_ts=1786310819680_000)],
    )
    [kline] = linear()(jsonl("bybit/live_extract_v5_ws_kline.jsonl")[0], RECV)
    assert kline == Kline(
        venue="bybit_linear", symbol="BTC/USDT", native_symbol="BTCUSDT",
        exchange_ts=1786310818440_000, receive_ts=RECV, interval="1m",
        open_time=1786310760000_000, close_time=1786310819999_000, open="65119.9",
        high="65119.9", low="65114.2", close="65114.3", volume="1.576",
        quote_volume="102627.995", trade_count=None, closed=False,
    )


@pytest.mark.parametrize("category", ["spot", "linear"])
def test_every_frame_of_the_live_capture(category: str) -> None:
    n = spot() if category == "spot" else linear()
    kinds: Counter[str] = Counter()
    for ts, raw in bybit_frames(category):
        events = n(raw, int(ts * 1e6))
        msg = json.loads(raw)
        topic = msg.get("topic", "")
        kinds[topic.split(".")[0] or "control"] += 1
        if topic.startswith("orderbook."):
            [ev] = events
            assert isinstance(ev, OrderBook)
            assert (ev.bids, ev.asks, ev.sequence) == (
                msg["data"]["b"], msg["data"]["a"], msg["data"]["u"])
            assert ev.is_snapshot == (msg["type"] == "snapshot")
        elif topic.startswith("publicTrade."):
            [ev] = events
            assert isinstance(ev, Trades)
            assert [(t.trade_id, t.price, t.qty, t.side.value, t.exchange_ts) for t in ev.trades] \
                == [(t["i"], t["p"], t["v"], t["S"].upper(), t["T"] * 1000) for t in msg["data"]]
        elif topic.startswith("kline."):
            assert [(k.open_time, k.close, k.closed) for k in events] == [  # type: ignore[attr-defined]
                (k["start"] * 1000, k["close"], k["confirm"]) for k in msg["data"]]
        else:  # tickers (not in the catalogue), subscribe acks
            assert events == []
        for ev in events:
            assert ev.venue == f"bybit_{category}" and ev.symbol in NAMES.values()
            assert ev.exchange_ts == msg["ts"] * 1000
            assert decode(encode(ev)) == ev
    assert kinds["orderbook"] == (1598 if category == "linear" else 550)


def test_docs_examples() -> None:
    [delta] = linear()(load_jsonc("bybit/docs_v5_ws_orderbook_delta.json"), RECV)
    assert (delta.update_type, delta.sequence, delta.depth, delta.exchange_ts) == (  # type: ignore[attr-defined]
        UpdateType.DELTA, 177400507, 50, 1687940967466_000)
    assert delta.bids[-1] == ["30240.00", "0"]  # type: ignore[attr-defined]
    [trades] = spot()(load_jsonc("bybit/docs_v5_ws_publicTrade.json"), RECV)
    assert trades.trades == [Trade(trade_id="20f43950-d8dd-5b31-9112-a178eb6023af",  # type: ignore[attr-defined]
                                   price="16578.50", qty="0.001", side=Side.BUY,
                                   exchange_ts=1672304486865_000)]
    [kline] = spot()(load_jsonc("bybit/docs_v5_ws_kline.json"), RECV)
    assert (kline.interval, kline.close, kline.close_time) == ("5m", "16677", 1672325099999_000)  # type: ignore[attr-defined]
    assert spot()(load_jsonc("bybit/docs_v5_ws_tickers_spot.json"), RECV) == []
    for ack in jsonl("bybit/live_extract_v5_ws_subscribe_ack.jsonl"):
        assert linear()(ack, RECV) == []


def test_level1_book_is_the_bbo_and_u1_is_a_restart_snapshot() -> None:
    msg = {"topic": "orderbook.1.BTCUSDT", "type": "snapshot", "ts": 1672304484978,
           "data": {"s": "BTCUSDT", "b": [["16493.50", "0.006"]], "a": [["16611.00", "0.029"]],
                    "u": 18521288, "seq": 7961638724}, "cts": 1672304484976}
    [bbo] = linear()(msg, RECV)
    assert bbo == BBO(venue="bybit_linear", symbol="BTC/USDT", native_symbol="BTCUSDT",
                      exchange_ts=1672304484978_000, receive_ts=RECV, sequence=18521288,
                      bid_price="16493.50", bid_qty="0.006", ask_price="16611.00",
                      ask_qty="0.029")
    msg["data"]["a"] = []  # one side empty: no BBO to report
    assert linear()(msg, RECV) == []
    restart = {"topic": "orderbook.50.BTCUSDT", "type": "delta", "ts": 1, "cts": 1,
               "data": {"s": "BTCUSDT", "b": [["1", "2"]], "a": [], "u": 1, "seq": 5}}
    [ev] = linear()(restart, RECV)
    assert ev.update_type is UpdateType.SNAPSHOT  # type: ignore[attr-defined]


def test_instruments_live_and_docs() -> None:
    body = fixture("bybit/live_rest_v5_market_instruments_info_spot.json").read_text()
    symbols = SymbolMap("bybit_spot", spot().instruments(body, RECV))
    btc = symbols.instruments["BTC/USDT"]
    assert btc == InstrumentInfo(
        venue="bybit_spot", symbol="BTC/USDT", native_symbol="BTCUSDT",
        exchange_ts=1786310817470_000, receive_ts=RECV, market_type=MarketType.SPOT, base="BTC",
        quote="USDT", trading=True, tick_size="0.1", lot_size="0.000001", min_qty="0.000001",
        max_qty="230", min_notional="5",
    )
    body = fixture("bybit/live_rest_v5_market_instruments_info_linear.json").read_text()
    infos = linear().instruments(body, RECV)
    symbols = SymbolMap("bybit_linear", infos)
    perp = symbols.instruments["BTC/USDT"]
    assert (perp.market_type, perp.lot_size, perp.min_qty, perp.min_notional) == (
        MarketType.LINEAR, "0.001", "0.001", "5")
    assert symbols.resolve("BTC/USDT-14AUG26") == ("BTC/USDT-14AUG26", "BTCUSDT-14AUG26")
    assert symbols.resolve("btcusdt") == ("BTC/USDT", "BTCUSDT")
    [docs] = spot().instruments(load_jsonc("bybit/docs_v5_rest_instruments_info_spot.json"), RECV)
    assert (docs.symbol, docs.min_qty, docs.max_qty) == ("BTC/USDT", "0.000011", "83")


def test_errors() -> None:
    with pytest.raises(ExchangeMessageError, match="handler not found"):
        spot()('{"success":false,"ret_msg":"error:handler not found,topic:x","op":"subscribe"}',
               RECV)
    assert spot()('{"success":true,"ret_msg":"pong","conn_id":"x","op":"ping"}', RECV) == []
    for raw in ("}{", '{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1,"data":{}}',
                '{"topic":"weird.BTCUSDT","data":{}}', '{"x":1}',
                '{"topic":"orderbook.50.BTCUSDT","type":"boom","ts":1,'
                '"data":{"s":"BTCUSDT","b":[],"a":[],"u":2}}',
                '{"topic":"publicTrade.BTCUSDT","ts":1,"data":[{"s":"BTCUSDT","S":"Up"}]}'):
        with pytest.raises(MalformedMessage):
            spot()(raw, RECV)


# ---------------------------------------------------------------- typed decoding (msgspec)

# What a field is replaced by in the mutation tests (`...`: the field is removed).
MUTATIONS: tuple[Any, ...] = (..., None, 1.5, 7, "abc", True, [], {}, [[1.5, "1"]])
TRADE = ('{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1786310819681,"data":[{"T":'
         '1786310819680,"s":"BTCUSDT","S":"Sell","v":"0.004","p":"65114.20","L":"MinusTick",'
         '"i":"a9188a0a-82bc-50de-be60-03eedbe3cdd7","BT":false,"RPI":false,"seq":753843954913}]}')
BOOK = ('{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1687940967466,"data":{"s":"BTCUSDT",'
        '"b":[["30247.20","30.028"]],"a":[["30248.70","0"]],"u":177400507,"seq":66544703342},'
        '"cts":1687940967464}')
KLINE = ('{"topic":"kline.5.BTCUSDT","data":[{"start":1672324800000,"end":1672325099999,'
         '"interval":"5","open":"16649.5","close":"16677","high":"16677","low":"16608",'
         '"volume":"2.081","turnover":"34666.4005","confirm":false,"timestamp":1672324988882}],'
         '"ts":1672324988882,"type":"snapshot"}')


@pytest.mark.parametrize("raw, what", [
    # a price or quantity as a JSON number is refused: it would have to pass through a float
    (TRADE.replace('"p":"65114.20"', '"p":65114.2'),
     r"Expected `str`, got `float` - at `\$.data\[0\].p`"),
    (TRADE.replace('"v":"0.004"', '"v":0.004'),
     r"Expected `str`, got `float` - at `\$.data\[0\].v`"),
    (BOOK.replace('[["30247.20","30.028"]]', '[[30247.2,"30.028"]]'),
     r"Expected `str`, got `float` - at `\$.data.b\[0\]\[0\]`"),
    (BOOK.replace('[["30248.70","0"]]', '[["30248.70"]]'), r"length >= 2 - at `\$.data.a\[0\]`"),
    (KLINE.replace('"close":"16677"', '"close":16677'),
     r"Expected `str`, got `int` - at `\$.data\[0\].close`"),
    # ids and times are integers, sides and message types the documented values
    (TRADE.replace('"ts":1786310819681', '"ts":"abc"'), r"Expected `int`, got `str` - at `\$.ts`"),
    (BOOK.replace('"u":177400507', '"u":1.5'), r"Expected `int`, got `float` - at `\$.data.u`"),
    (TRADE.replace('"i":"a9188a0a-82bc-50de-be60-03eedbe3cdd7"', '"i":12'),
     r"Expected `str`, got `int` - at `\$.data\[0\].i`"),
    (TRADE.replace('"S":"Sell"', '"S":"sell"'), r"Invalid enum value 'sell' - at `\$.data\[0\].S`"),
    (BOOK.replace('"type":"delta"', '"type":"boom"'), r"Invalid enum value 'boom' - at `\$.type`"),
    # missing fields, named
    (TRADE.replace('"p":"65114.20",', ""), r"missing field 'p' - at `\$.data\[0\]`"),
    (BOOK.replace('"u":177400507,', ""), r"missing field 'u' - at `\$.data`"),
    (BOOK.replace('"ts":1687940967466,', ""), r"missing field 'ts'"),
    (KLINE.replace('"confirm":false,', ""), r"missing field 'confirm' - at `\$.data\[0\]`"),
    # unknown topics, bad topics and garbage
    ('{"topic":"liquidation.BTCUSDT","ts":1,"data":{}}', "unknown bybit topic 'liquidation"),
    ('{"topic":"orderbook.x.BTCUSDT","type":"delta","ts":1,"data":{"s":"BTCUSDT","b":[],'
     '"a":[],"u":2}}', "bad bybit orderbook topic 'orderbook.x.BTCUSDT'"),
    ('{"topic":"orderbook","type":"delta","ts":1,"data":{"s":"BTCUSDT","b":[],"a":[],"u":2}}',
     "bad bybit orderbook topic 'orderbook'"),
    ('{"topic":"publicTrade.BTCUSDT","ts":1,"data":{}}',
     r"Expected `array`, got `object` - at `\$.data`"),
    (BOOK[:-30], "not JSON"),
    (TRADE[:40], "not JSON"),
    ("", "not JSON"),
    ("[]", "not a JSON object"),
    (b"\x00", "not JSON"),
])
def test_frames_of_the_wrong_shape_are_refused_naming_the_field(raw: str | bytes,
                                                               what: str) -> None:
    with pytest.raises(MalformedMessage, match=what):
        linear()(raw, RECV)


def test_float_prices_are_refused_on_every_path() -> None:
    """Parsed objects, other key orders (the slow path) and REST bodies too."""
    parsed = json.loads(TRADE)
    parsed["data"][0]["p"] = 65114.2
    with pytest.raises(MalformedMessage, match=r"got `float` - at `\$.data\[0\].p`"):
        linear()(parsed, RECV)
    with pytest.raises(MalformedMessage, match=r"got `float` - at `\$.data\[0\].p`"):
        linear()(json.dumps(parsed, sort_keys=True), RECV)
    rest = ('{"retCode":0,"result":{"s":"BTCUSDT","b":[[65000.1,"1"]],"a":[],"ts":1,"u":5}}')
    with pytest.raises(MalformedMessage, match=r"got `float` - at `\$.result.b\[0\]\[0\]`"):
        spot().depth_snapshot(rest, RECV)
    snap = spot().depth_snapshot(rest.replace("65000.1", '"65000.1"'), RECV)
    assert (snap.sequence, snap.bids, snap.exchange_ts) == (5, [["65000.1", "1"]], 1000)


@pytest.mark.parametrize("category", ["spot", "linear"])
def test_every_path_gives_the_same_events(category: str) -> None:
    """The typed fast path (topic first) and the slow path (other key orders, bytes, parsed
    objects) normalize every frame of the capture to the same events."""
    n = spot() if category == "spot" else linear()
    for _, raw in bybit_frames(category):
        expected = n(raw, RECV)
        assert n(json.dumps(json.loads(raw), sort_keys=True), RECV) == expected
        assert n(raw.encode(), RECV) == expected
        assert n(json.loads(raw), RECV) == expected


def test_mutated_frames_raise_only_malformed_message() -> None:
    """Every field of every message type removed or replaced by a value of another type, at the
    top and in `data`: the frame normalizes or raises MalformedMessage, never another
    exception; whatever normalizes still encodes (every field of its schema type)."""
    for raw in (TRADE, BOOK, KLINE, BOOK.replace("orderbook.50.", "orderbook.1.")):
        for in_data in (False, True):
            for key in list(_target(json.loads(raw), in_data)):
                for value in MUTATIONS:
                    msg = json.loads(raw)  # mutated in place: the key order stays Bybit's
                    target = _target(msg, in_data)
                    if value is ...:
                        del target[key]
                    else:
                        target[key] = value
                    try:
                        events = linear()(json.dumps(msg), RECV)
                    except MalformedMessage:
                        continue
                    for ev in events:
                        decode(encode(ev))


def _target(msg: dict[str, Any], in_data: bool) -> dict[str, Any]:
    if not in_data:
        return msg
    data = msg["data"]
    return data[0] if isinstance(data, list) else data  # type: ignore[no-any-return]
