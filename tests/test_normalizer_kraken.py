"""Kraken WS v2 normalizer: JSON numbers read as exact decimals and written with the pair's
precision (never through a float), every live v1 capture frame presented in v2 framing by the
capture dialect, the checksum rule on every captured checksum, instruments from the live
AssetPairs, bad frames refused with a clear error."""

from __future__ import annotations

import json

import pytest
from connector_support import KRAKEN_WS, fixture, jsonl

from ttxt_kafka.connectors.base.errors import ExchangeMessageError, MalformedMessage
from ttxt_kafka.connectors.base.symbols import SymbolMap
from ttxt_kafka.connectors.kraken.book_sync import checksum
from ttxt_kafka.connectors.kraken.normalizer_spot import (
    KrakenSpotNormalizer,
    rfc3339_us,
    written,
)
from ttxt_kafka.connectors.kraken.sim.capture import KrakenCaptureDialect, number
from ttxt_kafka.events import BBO, OrderBook, Side, Trades, UpdateType
from ttxt_kafka.simulator.captures import Frame
from ttxt_kafka.venues import venue

RECV = 1_700_000_000_000_000
PAIRS = "kraken/live_rest_AssetPairs__cryptofeed_KRAKEN.0.txt"


def pairs_body() -> str:
    return fixture(PAIRS).read_text().split("\n")[0].partition(": ")[2]


def test_instruments_from_the_live_asset_pairs() -> None:
    infos = {i.native_symbol: i for i in KrakenSpotNormalizer().instruments(pairs_body(), RECV)}
    xbt = infos["BTC/USD"]  # v1's XBT/USD is v2's BTC/USD
    assert (xbt.symbol, xbt.base, xbt.quote, xbt.tick_size, xbt.lot_size) == (
        "BTC/USD", "BTC", "USD", "0.1", "0.00000001")
    assert xbt.min_qty == "0.0002" and xbt.trading  # ordermin in 2021
    assert all("/" in n and ".d" not in n for n in infos)  # dark-pool pairs have no wsname
    with pytest.raises(ExchangeMessageError, match="Unknown asset pair"):
        KrakenSpotNormalizer().instruments('{"error":["EQuery:Unknown asset pair"]}', RECV)


def test_json_numbers_are_exact_and_written_with_the_pair_precision() -> None:
    n = KrakenSpotNormalizer({"BTC/USD": "BTC/USD"})
    n._places["BTC/USD"] = (1, 8)
    raw = ('{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":'
           '45283.5,"qty":0.1},{"price":45283.4,"qty":1e-7}],"asks":[{"price":45285.2,'
           '"qty":0}],"checksum":12345,"timestamp":"2023-10-06T17:35:55.440295Z"}]}')
    [ev] = n(raw, RECV)
    assert isinstance(ev, OrderBook) and ev.update_type is UpdateType.DELTA
    assert ev.bids == [["45283.5", "0.10000000"], ["45283.4", "0.00000010"]]
    assert ev.asks == [["45285.2", "0.00000000"]] and ev.checksum == 12345
    assert ev.exchange_ts == rfc3339_us("2023-10-06T17:35:55.440295Z") == 1696613755440295
    # the digits as sent, never a float: 0.1 stays 0.1; a float's 0.30000000000000004 would not
    # fit the precision and is refused, not rounded
    assert written("0.1", 8, "qty") == "0.10000000" and written(5, 2, "qty") == "5.00"
    assert written("1e-7", 8, "qty") == "0.00000010"
    with pytest.raises(MalformedMessage, match="more than 8 decimals"):
        written("0.30000000000000004", 8, "qty")
    with pytest.raises(MalformedMessage, match="more than 1 decimals"):
        n(raw.replace("45283.5", "45283.55"), RECV)
    assert rfc3339_us("2023-10-04T16:10:00.000000000Z") == 1696435800000000  # nanoseconds


def test_every_live_frame_through_the_dialect_and_every_captured_checksum() -> None:
    """The v1 capture presented as v2 (numbers, framing), normalized with the instruments the
    dialect answers: each book push's checksum holds on the book the events build."""
    from ttxt_kafka.book import Book
    from ttxt_kafka.simulator import CaptureSource

    feed = CaptureSource(fixture(KRAKEN_WS)).bind(venue("kraken_spot"))
    n = KrakenSpotNormalizer(SymbolMap("kraken_spot", KrakenSpotNormalizer().instruments(
        feed.dialect.instruments_body(None), RECV)), depth=1000)  # type: ignore[attr-defined]
    books: dict[str, Book] = {}
    held = 0
    kinds: dict[str, int] = {}
    for pub in feed.publications:  # type: ignore[attr-defined]
        for ev in n(pub.payload, RECV):
            kinds[type(ev).__name__] = kinds.get(type(ev).__name__, 0) + 1
            if isinstance(ev, OrderBook):
                book = books.setdefault(ev.symbol, Book(max_depth=1000))
                book.update(ev)
                assert ev.checksum == checksum(book.bids(10), book.asks(10)), ev.symbol
                held += ev.update_type is UpdateType.DELTA
    assert held == 4269 and len(books) == 10
    assert kinds == {"OrderBook": 4279, "Trades": 8, "BBO": 18}


def test_live_extracts_keep_the_captured_strings() -> None:
    dialect = KrakenCaptureDialect(venue("kraken_spot"))
    frames = [dialect.classify(Frame(1.0, raw, "c", "recv"))
              for raw in jsonl("kraken/live_extract_ws_v1_book_update.jsonl")]
    n = KrakenSpotNormalizer(SymbolMap("kraken_spot", KrakenSpotNormalizer().instruments(
        dialect.instruments_body(None), RECV)))
    first = frames[0]
    assert first is not None and '"price":354.15,"qty":5.0' in str(first.payload)
    [ev] = n(first.payload, RECV)
    assert isinstance(ev, OrderBook)
    assert ev.bids == [["354.15000000", "5.00000000"]] and ev.checksum == 2583817756
    trades = [dialect.classify(Frame(1.0, raw, "c", "recv"))
              for raw in jsonl("kraken/live_extract_ws_v1_trade.jsonl")]
    assert trades[0] is not None
    [t] = n(trades[0].payload, RECV)
    assert isinstance(t, Trades) and t.symbol == "XMR/USD"
    [trade] = t.trades
    assert (trade.price, trade.qty, trade.side, trade.trade_id) == (
        "354.11000000", "0.89594024", Side.SELL, "1")
    assert number("5.00000000") == "5.0" and number("0.04287") == "0.04287"


def test_ticker_and_control_frames() -> None:
    n = KrakenSpotNormalizer()
    [bbo] = n('{"channel":"ticker","type":"update","data":[{"symbol":"ALGO/USD","bid":0.10025,'
              '"bid_qty":740.0,"ask":0.10036,"ask_qty":1361.44813783,"last":0.10035}]}', RECV)
    assert isinstance(bbo, BBO) and (bbo.bid_price, bbo.ask_qty) == ("0.10025000", "1361.44813783")
    assert n('{"channel":"heartbeat"}', RECV) == []
    assert n('{"method":"pong","req_id":1,"time_in":"x","time_out":"y"}', RECV) == []
    ack = {"method": "subscribe", "result": {"channel": "book", "symbol": "BTC/USD"},
           "success": True}
    assert n(json.dumps(ack), RECV) == []
    with pytest.raises(ExchangeMessageError, match="Currency pair not supported"):
        n('{"error":"Currency pair not supported FOO/BAR","method":"subscribe",'
          '"success":false}', RECV)
    with pytest.raises(MalformedMessage):
        n('{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[{"price":'
          '"NaN","qty":1}]}]}', RECV)  # not a number a book can hold
    with pytest.raises(MalformedMessage):
        n("}{ not json", RECV)


def test_ohlc() -> None:
    n = KrakenSpotNormalizer()
    [k] = n('{"channel":"ohlc","type":"update","data":[{"symbol":"MATIC/USD","open":0.5624,'
            '"high":0.5628,"low":0.5622,"close":0.5627,"trades":12,"volume":30927.68066226,'
            '"vwap":0.5626,"interval_begin":"2023-10-04T16:10:00.000000000Z","interval":5,'
            '"timestamp":"2023-10-04T16:14:59.999999Z"}]}', RECV)
    assert (k.interval, k.open, k.volume) == ("5m", "0.56240000", "30927.68066226")
    assert k.close_time - k.open_time == 5 * 60_000_000 - 1000


def _general(n: KrakenSpotNormalizer, raw: str) -> list[object]:
    """The full decoder's reading (a decoded message skips the trade text path)."""
    from ttxt_kafka.connectors.kraken.normalizer_spot import _decode

    return n(_decode(raw), RECV)


TRADE = ('{"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"buy",'
         '"price":45283.5,"qty":0.1,"ord_type":"limit","trade_id":7,'
         '"timestamp":"2023-10-06T17:35:55.440295Z"}]}')


@pytest.mark.parametrize("raw", [
    TRADE,
    TRADE.replace("45283.5", "45283"),  # a whole number
    TRADE.replace("0.1,", "0.10000000000,"),  # more zeros than the precision: trimmed
    TRADE.replace("0.1,", "1e-7,"),  # scientific: not the text path's shape
    TRADE.replace('"side":"buy","price":45283.5', '"price":45283.5,"side":"buy"'),  # key order
    TRADE.replace("}]}", '},' + TRADE.partition("[")[2].replace("BTC/USD", "ETH/USD")
                  .replace('"trade_id":7', '"trade_id":8')),  # two symbols in one push
    TRADE.replace("}]}", '},' + TRADE.partition("[")[2].replace('"trade_id":7', '"trade_id":8')),
    TRADE.replace('"type":"update"', '"type":"snapshot"'),
])
def test_trade_text_path_reads_as_the_decoder_does(raw: str) -> None:
    n = KrakenSpotNormalizer({"BTC/USD": "BTC/USD", "ETH/USD": "ETH/USD"})
    n._places.update({"BTC/USD": (1, 8), "ETH/USD": (2, 8)})
    assert n(raw, RECV) == _general(n, raw) != []


@pytest.mark.parametrize("bad", [
    TRADE.replace("45283.5", "45283.55"),  # more decimals than the pair's precision
    TRADE.replace("45283.5", "045283.5"),  # not a JSON number
    TRADE.replace("}]}", "},]}"),  # not JSON
])
def test_trade_text_path_leaves_bad_frames_to_the_decoder(bad: str) -> None:
    n = KrakenSpotNormalizer({"BTC/USD": "BTC/USD"})
    n._places["BTC/USD"] = (1, 8)
    with pytest.raises(MalformedMessage):
        n(bad, RECV)


def test_every_captured_trade_push_reads_the_same_by_text_and_by_decoder() -> None:
    from ttxt_kafka.connectors.kraken import trade_fastpath
    from ttxt_kafka.simulator import CaptureSource

    feed = CaptureSource(fixture("kraken/live_ws_v1_trade__cryptofeed_KRAKEN.ws.48.0.txt")
                         ).bind(venue("kraken_spot"))
    n = KrakenSpotNormalizer(SymbolMap("kraken_spot", KrakenSpotNormalizer().instruments(
        feed.dialect.instruments_body(None), RECV)))  # type: ignore[attr-defined]
    pushes = [p.text for p in feed.publications  # type: ignore[attr-defined]
              if p.text.startswith(trade_fastpath.PREFIX)]
    assert len(pushes) == 8
    for raw in pushes:
        assert n._read_trades(raw, RECV) is not None  # the text path took it
        assert n(raw, RECV) == _general(n, raw)
