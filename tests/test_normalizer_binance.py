"""Binance spot and USD-M normalizers on the real captures and the official docs examples:
every message type -> exact events (strings verbatim, ms -> µs, symbols mapped)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest
from connector_support import (
    BINANCE_SPOT_INFO,
    BINANCE_SPOT_REST,
    BINANCE_SPOT_WS,
    BINANCE_USDM_INFO,
    BINANCE_USDM_REST,
    BINANCE_USDM_WS,
    jsonl,
    load_jsonc,
    v1_frames,
    v1_http,
)

from ttxt_kafka.codec import decode, encode
from ttxt_kafka.connectors.base.errors import ExchangeMessageError, MalformedMessage
from ttxt_kafka.connectors.base.symbols import SymbolMap
from ttxt_kafka.connectors.binance.normalizer_spot import BinanceSpotNormalizer
from ttxt_kafka.connectors.binance.normalizer_usdm import BinanceUsdmNormalizer
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

RECV = 1_700_000_000_123_456  # a receive time, µs


def spot() -> BinanceSpotNormalizer:
    return BinanceSpotNormalizer({"NKNUSDT": "NKN/USDT", "BNBBTC": "BNB/BTC",
                                  "LRCBTC": "LRC/BTC"})


def usdm() -> BinanceUsdmNormalizer:
    return BinanceUsdmNormalizer({"SUSHIUSDT": "SUSHI/USDT", "CTKUSDT": "CTK/USDT",
                                  "BTCUSDT": "BTC/USDT"})


# ---------------------------------------------------------------- live capture, spot


def test_spot_depth_update_from_the_live_capture() -> None:
    raw = jsonl("binance/live_extract_spot_ws_depthUpdate.jsonl")[1]
    assert raw.startswith('{"stream":"nknusdt@depth@100ms"')
    [ev] = spot()(raw, RECV)
    assert ev == OrderBook(
        venue="binance", symbol="NKN/USDT", native_symbol="NKNUSDT",
        exchange_ts=1633998512568_000, receive_ts=RECV, sequence=499869754,
        update_type=UpdateType.DELTA, bids=[["0.35170000", "4265.00000000"]],
        asks=[["0.35290000", "10968.00000000"]], first_sequence=499869753, prev_sequence=None,
    )


def test_spot_agg_trade_kline_book_ticker_from_the_live_capture() -> None:
    n = spot()
    [trades] = n(jsonl("binance/live_extract_spot_ws_aggTrade.jsonl")[0], RECV)
    assert trades == Trades(
        venue="binance", symbol="NKN/USDT", native_symbol="NKNUSDT",
        exchange_ts=1633998523963_000, receive_ts=RECV, sequence=15683430,
        trades=[Trade(trade_id="15683430", price="0.35280000", qty="58.00000000",
                      side=Side.BUY, exchange_ts=1633998523963_000)],
    )
    kline_raw = jsonl("binance/live_extract_spot_ws_kline.jsonl")[0]
    k = json.loads(kline_raw)["data"]["k"]
    [kline] = n(kline_raw, RECV)
    assert isinstance(kline, Kline)
    assert (kline.interval, kline.open_time, kline.close_time) == ("1m", k["t"] * 1000,
                                                                   k["T"] * 1000)
    assert (kline.open, kline.high, kline.low, kline.close, kline.volume, kline.quote_volume) == (
        k["o"], k["h"], k["l"], k["c"], k["v"], k["q"])
    assert (kline.trade_count, kline.closed) == (k["n"], k["x"])
    [bbo] = n(jsonl("binance/live_extract_spot_ws_bookTicker.jsonl")[0], RECV)
    assert bbo == BBO(
        venue="binance", symbol="NKN/USDT", native_symbol="NKNUSDT",
        exchange_ts=RECV,  # spot bookTicker carries no event time
        receive_ts=RECV, sequence=499869768, bid_price="0.35210000", bid_qty="672.00000000",
        ask_price="0.35260000", ask_qty="3199.00000000",
    )


@pytest.mark.parametrize("ws, futures", [(BINANCE_SPOT_WS, False), (BINANCE_USDM_WS, True)])
def test_every_frame_of_the_live_captures(ws: str, futures: bool) -> None:
    """All frames: one event each, of the right type, fields verbatim, and Avro round trip."""
    n = usdm() if futures else spot()
    kinds: Counter[str] = Counter()
    for ts, raw in v1_frames(ws):
        receive = int(ts * 1_000_000)
        [ev] = n(raw, receive)
        d = json.loads(raw)["data"]
        kinds[type(ev).__name__] += 1
        assert ev.native_symbol == d["s"] and ev.symbol == ev.symbol.upper()
        assert "/" in ev.symbol and ev.receive_ts == receive
        if isinstance(ev, OrderBook):
            assert (ev.bids, ev.asks, ev.sequence, ev.first_sequence) == (
                d["b"], d["a"], d["u"], d["U"])
            assert ev.prev_sequence == (d["pu"] if futures else None)
            assert ev.exchange_ts == d["E"] * 1000
        elif isinstance(ev, Trades):
            [t] = ev.trades
            assert (t.trade_id, t.price, t.qty) == (str(d["a"]), d["p"], d["q"])
            assert t.side is (Side.SELL if d["m"] else Side.BUY)
            assert t.exchange_ts == d["T"] * 1000
        elif isinstance(ev, BBO):
            assert (ev.bid_price, ev.bid_qty, ev.ask_price, ev.ask_qty, ev.sequence) == (
                d["b"], d["B"], d["a"], d["A"], d["u"])
            assert ev.exchange_ts == (d["E"] * 1000 if futures else receive)
        assert decode(encode(ev)) == ev
    expected = ({"OrderBook": 764, "BBO": 613, "Trades": 91, "Kline": 67} if futures
                else {"OrderBook": 177, "BBO": 84, "Trades": 2, "Kline": 2})
    assert kinds == expected


@pytest.mark.parametrize("rest, futures", [(BINANCE_SPOT_REST, False), (BINANCE_USDM_REST, True)])
def test_rest_depth_snapshots_from_the_live_capture(rest: str, futures: bool) -> None:
    n = usdm() if futures else spot()
    for url, _, body in v1_http(rest):
        native = url.split("symbol=")[1].split("&")[0]
        snap = n.depth_snapshot(body, native, RECV)
        d = json.loads(body)
        assert snap.update_type is UpdateType.SNAPSHOT
        assert (snap.bids, snap.asks, snap.sequence) == (d["bids"], d["asks"], d["lastUpdateId"])
        assert snap.exchange_ts == (d["E"] * 1000 if futures else RECV)


def test_spot_instruments_from_the_live_exchange_info() -> None:
    [(_, _, body)] = v1_http(BINANCE_SPOT_INFO)
    infos = spot().instruments(body, RECV)
    assert len(infos) == 1695
    symbols = SymbolMap("binance", infos)
    assert symbols.resolve("NKN/USDT") == ("NKN/USDT", "NKNUSDT")
    assert symbols.resolve("lrcbtc") == ("LRC/BTC", "LRCBTC")
    nkn = symbols.instruments["NKN/USDT"]
    assert nkn == InstrumentInfo(
        venue="binance", symbol="NKN/USDT", native_symbol="NKNUSDT",
        exchange_ts=1633998511098_000, receive_ts=RECV, market_type=MarketType.SPOT, base="NKN",
        quote="USDT", trading=True, tick_size="0.00010000", lot_size="1.00000000",
        min_qty="1.00000000", max_qty="9000000.00000000", min_notional="10.00000000",
    )
    assert decode(encode(nkn)) == nkn
    assert any(not i.trading for i in infos)  # BREAK symbols are listed, not trading


def test_usdm_instruments_perpetual_and_dated() -> None:
    [(_, _, body)] = v1_http(BINANCE_USDM_INFO)
    symbols = SymbolMap("binance_usdm", usdm().instruments(body, RECV))
    sushi = symbols.instruments["SUSHI/USDT"]
    assert (sushi.native_symbol, sushi.market_type, sushi.tick_size, sushi.lot_size,
            sushi.min_qty, sushi.max_qty, sushi.min_notional) == (
        "SUSHIUSDT", MarketType.LINEAR, "0.0010", "1", "1", "10000000", "5")
    assert symbols.resolve("BTC/USDT-210924") == ("BTC/USDT-210924", "BTCUSDT_210924")
    assert symbols.resolve("BTC/USDT") == ("BTC/USDT", "BTCUSDT")


# ---------------------------------------------------------------- docs examples


def test_spot_docs_examples() -> None:
    n = spot()
    [book] = n(load_jsonc("binance/docs_spot_ws_depthUpdate_diff.jsonc"), RECV)
    assert book == OrderBook(
        venue="binance", symbol="BNB/BTC", native_symbol="BNBBTC", exchange_ts=1672515782136_000,
        receive_ts=RECV, sequence=160, update_type=UpdateType.DELTA, bids=[["0.0024", "10"]],
        asks=[["0.0026", "100"]], first_sequence=157,
    )
    [agg] = n(load_jsonc("binance/docs_spot_ws_aggTrade.jsonc"), RECV)
    assert agg.trades == [Trade(trade_id="12345", price="0.001", qty="100", side=Side.SELL,  # type: ignore[attr-defined]
                                exchange_ts=1672515782136_000)]
    [trade] = n(load_jsonc("binance/docs_spot_ws_trade.jsonc"), RECV)
    assert trade == Trades(
        venue="binance", symbol="BNB/BTC", native_symbol="BNBBTC", exchange_ts=1672515782136_000,
        receive_ts=RECV, sequence=12345,
        trades=[Trade(trade_id="12345", price="0.001", qty="100", side=Side.SELL,
                      exchange_ts=1672515782136_000)],
    )
    [kline] = n(load_jsonc("binance/docs_spot_ws_kline.jsonc"), RECV)
    assert kline == Kline(
        venue="binance", symbol="BNB/BTC", native_symbol="BNBBTC", exchange_ts=1672515782136_000,
        receive_ts=RECV, interval="1m", open_time=1672515780000_000,
        close_time=1672515839999_000, open="0.0010", high="0.0025", low="0.0015",
        close="0.0020", volume="1000", quote_volume="1.0000", trade_count=100, closed=False,
    )
    [bbo] = n(load_jsonc("binance/docs_spot_ws_bookTicker.jsonc"), RECV)
    assert (bbo.symbol, bbo.sequence, bbo.bid_price, bbo.bid_qty, bbo.ask_price, bbo.ask_qty) == (  # type: ignore[attr-defined]
        "BNB/USDT", 400900217, "25.35190000", "31.21000000", "25.36520000", "40.66000000")
    # partial depth has no symbol: only a combined frame (stream name) says which book it is
    partial = {"stream": "bnbbtc@depth5",
               "data": load_jsonc("binance/docs_spot_ws_partial_depth.jsonc")}
    [snap] = n(partial, RECV)
    assert (snap.update_type, snap.symbol, snap.sequence, snap.bids, snap.asks) == (  # type: ignore[attr-defined]
        UpdateType.SNAPSHOT, "BNB/BTC", 160, [["0.0024", "10"]], [["0.0026", "100"]])
    rest = n.depth_snapshot(load_jsonc("binance/docs_spot_rest_depth_snapshot.jsonc"), "BNBBTC",
                            RECV)
    assert (rest.sequence, rest.bids, rest.asks) == (
        1027024, [["4.00000000", "431.00000000"]], [["4.00000200", "12.00000000"]])
    [eth] = n.instruments(load_jsonc("binance/docs_spot_rest_exchangeInfo.jsonc"), RECV)
    assert (eth.symbol, eth.native_symbol, eth.base, eth.quote, eth.trading) == (
        "ETH/BTC", "ETHBTC", "ETH", "BTC", True)


def test_usdm_docs_examples() -> None:
    n = usdm()
    [book] = n(load_jsonc("binance/docs_usdm_ws_diff_depth_depthUpdate.jsonc"), RECV)
    assert book == OrderBook(
        venue="binance_usdm", symbol="BTC/USDT", native_symbol="BTCUSDT",
        exchange_ts=123456789_000, receive_ts=RECV, sequence=160, update_type=UpdateType.DELTA,
        bids=[["0.0024", "10"]], asks=[["0.0026", "100"]], first_sequence=157,
        prev_sequence=149,
    )
    [agg] = n(load_jsonc("binance/docs_usdm_ws_aggTrade.jsonc"), RECV)
    assert agg == Trades(
        venue="binance_usdm", symbol="BTC/USDT", native_symbol="BTCUSDT",
        exchange_ts=123456789_000, receive_ts=RECV, sequence=5933014,
        trades=[Trade(trade_id="5933014", price="0.001", qty="100", side=Side.SELL,
                      exchange_ts=123456785_000)],
    )
    [kline] = n(load_jsonc("binance/docs_usdm_ws_kline.jsonc"), RECV)
    assert (kline.venue, kline.open_time, kline.close_time, kline.closed) == (  # type: ignore[attr-defined]
        "binance_usdm", 1638747660000_000, 1638747719999_000, False)
    [bbo] = n(jsonl("binance/live_extract_usdm_ws_bookTicker.jsonl")[0], RECV)
    assert (bbo.exchange_ts, bbo.sequence) == (1626992741017_000, 600859600576)


# ---------------------------------------------------------------- bad input


def test_method_answers_give_no_events_and_errors_raise() -> None:
    n = spot()
    assert n('{"result":null,"id":1}', RECV) == []
    with pytest.raises(ExchangeMessageError, match="binance error 2: Invalid request"):
        n('{"error":{"code":2,"msg":"Invalid request: unknown variant"},"id":3}', RECV)


@pytest.mark.parametrize("raw, what", [
    ("}{ not json at all", "not JSON"),
    ('{"stream":"nknusdt@depth@100ms","data":{"e":"depthUpdate","E":1}}', "missing field 's'"),
    ('{"stream":"x@aggTrade","data":{"e":"aggTrade","E":1,"s":"X","a":1}}', "missing field 'p'"),
    ('{"stream":"x@kline_1m","data":{"e":"kline","E":1,"s":"X","k":[]}}',
     "Expected `object`, got `array`"),
    ('{"stream":"x@depth","data":{"e":"depthUpdate","E":"x","s":"X","U":1,"u":2,"b":[],"a":[]}}',
     "Expected `int`, got `str`"),
    ('{"something":"else"}', "unknown binance message"),
    ("[1, 2]", "not a JSON object"),
])
def test_malformed_frames_raise_a_clear_error(raw: str, what: str) -> None:
    with pytest.raises(MalformedMessage, match=what):
        spot()(raw, RECV)
    with pytest.raises(MalformedMessage):
        usdm()(raw.replace('"b":[]', '"pu":1,"b":[]'), RECV)


def test_bytes_frames_and_unknown_symbols() -> None:
    raw = jsonl("binance/live_extract_spot_ws_depthUpdate.jsonl")[0].encode()
    [ev] = BinanceSpotNormalizer()(raw, RECV)  # no symbol map: guessed from the quote asset
    assert (ev.symbol, ev.native_symbol) == ("NKN/USDT", "NKNUSDT")


# ---------------------------------------------------------------- typed decoding (msgspec)

# What a field is replaced by in the mutation tests (`...`: the field is removed).
MUTATIONS: tuple[Any, ...] = (..., None, 1.5, 7, "abc", True, [], {}, [[1.5, "1"]])
AGG = ('{"stream":"ctkusdt@aggTrade","data":{"e":"aggTrade","E":1626992741575,"a":16599292,'
       '"s":"CTKUSDT","p":"1.01100","q":"10","f":23961322,"l":23961322,"T":1626992741421,'
       '"m":false}}')
DEPTH = ('{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"T":1,'
         '"s":"BTCUSDT","U":5,"u":7,"pu":4,"b":[["1.5","2"]],"a":[["1.6","0"]]}}')


@pytest.mark.parametrize("raw, what", [
    # a price or quantity as a JSON number is refused: it would have to pass through a float
    (AGG.replace('"p":"1.01100"', '"p":1.011'), r"Expected `str`, got `float` - at `\$.data.p`"),
    (AGG.replace('"q":"10"', '"q":10'), r"Expected `str`, got `int` - at `\$.data.q`"),
    (DEPTH.replace('[["1.5","2"]]', '[[1.5,"2"]]'),
     r"Expected `str`, got `float` - at `\$.data.b\[0\]\[0\]`"),
    (DEPTH.replace('[["1.6","0"]]', '[["1.6"]]'), r"length >= 2 - at `\$.data.a\[0\]`"),
    (DEPTH.replace('[["1.6","0"]]', '[["1.6","0","x"]]'), r"length <= 2 - at `\$.data.a\[0\]`"),
    # ids and times are integers, flags booleans
    (AGG.replace('"E":1626992741575', '"E":"abc"'), r"Expected `int`, got `str` - at `\$.data.E`"),
    (AGG.replace('"E":1626992741575', '"E":"1626992741575"'), r"Expected `int`, got `str`"),
    (AGG.replace('"T":1626992741421', '"T":1.5'), r"Expected `int`, got `float` - at `\$.data.T`"),
    (AGG.replace('"m":false', '"m":"false"'), r"Expected `bool`, got `str` - at `\$.data.m`"),
    (DEPTH.replace('"pu":4', '"pu":null'), r"Expected `int`, got `null` - at `\$.data.pu`"),
    # missing fields, named
    (AGG.replace('"q":"10",', ""), r"missing field 'q' - at `\$.data`"),
    (DEPTH.replace(',"pu":4', ""), r"missing field 'pu' - at `\$.data`"),
    ('{"stream":"x@kline_1m","data":{"e":"kline","E":1,"s":"X","k":{"t":1}}}',
     r"missing field 'T' - at `\$.data.k`"),
    # unknown event types, and frames that are no stream payload at all
    ('{"stream":"btcusdt@markPrice","data":{"e":"markPriceUpdate","E":1,"s":"BTCUSDT"}}',
     "unknown binance event type 'markPriceUpdate'"),
    ('{"e":"forceOrder","E":1}', "unknown binance event type 'forceOrder'"),
    ('{"stream":"x","data":[1]}', "data is not a JSON object"),
    ('{"stream":"x","data":{"e":7}}', "unknown binance event type 7"),
    ("", "not JSON"),
    ("null", "not a JSON object"),
    ("42", "not a JSON object"),
    ('"depthUpdate"', "not a JSON object"),
    (b"\xff\xfe{", "not JSON"),
    (AGG[:-5], "not JSON"),
])
def test_frames_of_the_wrong_shape_are_refused_naming_the_field(raw: str | bytes,
                                                               what: str) -> None:
    with pytest.raises(MalformedMessage, match=what):
        usdm()(raw, RECV)


def test_float_prices_are_refused_on_every_path() -> None:
    """Parsed objects, raw `/ws` payloads, spot bookTicker (slow path) and REST bodies too."""
    parsed = json.loads(AGG)
    parsed["data"]["p"] = 1.011
    with pytest.raises(MalformedMessage, match=r"got `float` - at `\$.data.p`"):
        usdm()(parsed, RECV)
    with pytest.raises(MalformedMessage, match=r"got `float` - at `\$.p`"):
        usdm()(json.dumps(parsed["data"]), RECV)
    ticker = ('{"stream":"x@bookTicker","data":{"u":1,"s":"NKNUSDT","b":0.35,"B":"1","a":"2",'
              '"A":"3"}}')
    with pytest.raises(MalformedMessage, match=r"got `float` - at `\$.b`"):
        spot()(ticker, RECV)
    with pytest.raises(MalformedMessage, match=r"got `float` - at `\$.bids\[0\]\[0\]`"):
        spot().depth_snapshot('{"lastUpdateId":1,"bids":[[4.0,"1"]],"asks":[]}', "BNBBTC", RECV)
    with pytest.raises(MalformedMessage, match="missing field 'lastUpdateId'"):
        spot().depth_snapshot('{"bids":[],"asks":[]}', "BNBBTC", RECV)


def test_every_path_gives_the_same_events() -> None:
    """A combined frame (typed fast path), its payload alone (`/ws`), the frame as bytes and
    as a parsed object (slow path) normalize to the same events."""
    for n, frames in ((spot(), v1_frames(BINANCE_SPOT_WS)), (usdm(), v1_frames(BINANCE_USDM_WS))):
        for _, raw in frames:
            expected = n(raw, RECV)
            payload = json.dumps(json.loads(raw)["data"])
            assert n(raw.encode(), RECV) == expected
            assert n(json.loads(raw), RECV) == expected
            if '"e":' in raw:  # a `/ws` payload names its type (spot bookTicker does not)
                assert n(payload, RECV) == expected


def test_mutated_frames_raise_only_malformed_message() -> None:
    """Every field of every message type removed or replaced by a value of another type: the
    frame normalizes or raises MalformedMessage, never another exception; a price, quantity
    or level that is not a string never reaches an event."""
    for market, stream in [(market, stream) for market in ("spot", "usdm")
                           for stream in ("depthUpdate", "aggTrade", "kline", "bookTicker")]:
        n = spot() if market == "spot" else usdm()
        frame = json.loads(jsonl(f"binance/live_extract_{market}_ws_{stream}.jsonl")[0])
        for key in list(frame["data"]):
            for value in MUTATIONS:
                data = dict(frame["data"])
                if value is ...:
                    del data[key]
                else:
                    data[key] = value
                mutated = json.dumps({"stream": frame["stream"], "data": data})
                try:
                    events = n(mutated, RECV)
                except MalformedMessage:
                    continue
                for ev in events:
                    decode(encode(ev))  # every field still of its schema type
