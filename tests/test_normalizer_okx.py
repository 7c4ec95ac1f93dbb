"""OKX v5 spot and swap normalizers on every docs example and live capture in the fixtures
(`okx/`): exact events (strings verbatim, ms -> µs, symbols mapped); the `books` rule (seqId
chain, checksum 0 = not sent); every captured checksum (290 pushes, spot, swap and the dated
future) reproduced on the connector's own `Book`; an injected checksum mismatch or broken chain
on the connector: BOOK_RESYNC with the reason, no delta on the broken book, a rebuild
(unsubscribe + subscribe), BOOK_SYNCED after the next snapshot, every time."""

from __future__ import annotations

import json
from typing import Any

import pytest
from connector_support import fixture, jsonl, v1_http
from okx_support import OKX_WS, okx_crc, okx_frames, okx_reference

from ttxt_kafka.book import Book
from ttxt_kafka.bus.asyncio_queue import AsyncioQueue
from ttxt_kafka.codec import decode, encode
from ttxt_kafka.connectors.base.book_sync import Action
from ttxt_kafka.connectors.base.checksums import interleaved_crc32
from ttxt_kafka.connectors.base.connector import SymbolState
from ttxt_kafka.connectors.base.errors import ExchangeMessageError, MalformedMessage
from ttxt_kafka.connectors.config import parse_config
from ttxt_kafka.connectors.okx.book_sync import OkxBookSync, book_checksum
from ttxt_kafka.connectors.okx.connector import OkxSpotConnector, okx_error
from ttxt_kafka.connectors.okx.normalizer_spot import INTERVALS, OkxSpotNormalizer
from ttxt_kafka.connectors.okx.normalizer_swap import OkxSwapNormalizer
from ttxt_kafka.connectors.okx.sim.capture import SeqIds
from ttxt_kafka.events import (
    BBO,
    ConnectorState,
    ConnectorStatus,
    Kline,
    MarketType,
    OrderBook,
    Side,
    Trade,
    Trades,
    UpdateType,
)

RECV = 1_695_711_000_000_000
REST = ("okx/live_rest_v5_public_instruments_spot_swap_futures_option__cryptofeed_OKX.0"
        ".head5lines.txt")


def spot() -> OkxSpotNormalizer:
    return OkxSpotNormalizer({"BTC-USDT": "BTC/USDT"})


def docs(name: str) -> str:
    return fixture(f"okx/{name}").read_text(encoding="utf-8")


# ---------------------------------------------------------------------- docs examples


def test_books_snapshot_docs_example() -> None:
    [ev] = spot()(docs("fixture_nautilus_ws_books_snapshot_docs_example.json"), RECV)
    assert isinstance(ev, OrderBook) and ev.update_type is UpdateType.SNAPSHOT
    assert (ev.symbol, ev.native_symbol, ev.exchange_ts) == ("BTC/USDT", "BTC-USDT",
                                                              1_597_026_383_085_000)
    assert (ev.sequence, ev.prev_sequence) == (123456, -1)
    assert ev.bids[0] == ["8476.97", "256"] and ev.asks[0] == ["8476.98", "415"]
    assert len(ev.bids) == len(ev.asks) == 8
    # the docs' checksum is illustrative (SYNC_RULES.md): it goes out as sent, and our book's
    # is what the shared rule computes (-2102840145), which the connector would flag
    assert ev.checksum == -855196043
    book = Book()
    book.update(ev)
    assert book_checksum(book) == -2102840145 != ev.checksum
    assert decode(encode(ev)) == ev


def test_trades_docs_example() -> None:
    [ev] = OkxSpotNormalizer()(docs("fixture_nautilus_ws_trades.json"), RECV)
    assert ev == Trades(venue="okx_spot", symbol="BTC/USD", native_symbol="BTC-USD",
                        exchange_ts=1_630_048_897_897_000, receive_ts=RECV, trades=[
                            Trade(trade_id="130639474", price="42219.9", qty="0.12060306",
                                  side=Side.BUY, exchange_ts=1_630_048_897_897_000)])


def test_candle_docs_example() -> None:
    [k] = spot()(docs("fixture_nautilus_ws_candle1D.json"), RECV)
    assert isinstance(k, Kline)
    assert (k.interval, k.open, k.high, k.low, k.close) == ("1d+8", "8533.02", "8553.74",
                                                            "8527.17", "8548.26")
    assert (k.volume, k.quote_volume, k.closed) == ("45247", "5529.5858061", True)
    assert k.close_time - k.open_time == 86_400_000_000 - 1000


def test_every_platform_interval_is_an_okx_candle() -> None:
    from ttxt_kafka.connectors.okx.endpoints import KLINE_CHANNELS
    from ttxt_kafka.venues import venue

    for v in ("okx_spot", "okx_swap"):
        for interval in venue(v).kline_intervals:
            assert INTERVALS[KLINE_CHANNELS[interval]][0] == interval


def test_rest_fixtures_instruments_and_candles() -> None:
    infos = spot().instruments(docs("fixture_nautilus_rest_public_instruments_spot.json"), RECV)
    assert infos and all(i.market_type is MarketType.SPOT for i in infos)
    body = json.loads(docs("fixture_nautilus_rest_market_candles.json"))
    assert body["code"] == "0" and all(len(k) >= 6 for k in body["data"])


# ---------------------------------------------------------------------- live capture


@pytest.mark.parametrize("name", ["live_extract_ws_books_snapshot.jsonl",
                                  "live_extract_ws_books_update.jsonl",
                                  "live_extract_ws_tickers.jsonl",
                                  "live_extract_ws_trades.jsonl"])
def test_every_live_extract_normalizes(name: str) -> None:
    n = OkxSpotNormalizer()
    for raw in jsonl(f"okx/{name}"):
        msg = json.loads(raw)
        [ev] = n(raw, RECV)
        assert ev.native_symbol == msg["arg"]["instId"]
        assert decode(encode(ev)) == ev
        d = msg["data"][0]
        if isinstance(ev, OrderBook):
            assert ev.bids == [lv[:2] for lv in d["bids"]] and ev.checksum == d["checksum"]
        elif isinstance(ev, BBO):
            assert (ev.bid_price, ev.bid_qty, ev.ask_price, ev.ask_qty) == (
                d["bidPx"], d["bidSz"], d["askPx"], d["askSz"])
        else:
            assert isinstance(ev, Trades)
            assert ev.trades[0].price == d["px"] and ev.trades[0].qty == d["sz"]


def test_every_captured_push_normalizes_and_every_checksum_matches_our_book() -> None:
    """The whole capture (spot, swap and the dated future), mapped as the simulator presents it
    (seqId/prevSeqId added): our normalizer + OkxBookSync + Book + the shared checksum rule."""
    n, seq = OkxSpotNormalizer(), SeqIds()
    syncs: dict[str, OkxBookSync] = {}
    books: dict[str, Book] = {}
    checked = 0
    for raw in okx_frames("books"):
        [ev] = n(json.dumps(seq.frame(json.loads(raw))), RECV)
        assert isinstance(ev, OrderBook)
        sync = syncs.setdefault(ev.native_symbol, OkxBookSync())
        book = books.setdefault(ev.native_symbol, Book())
        action = sync.on_snapshot(ev) if ev.is_snapshot else sync.on_delta(ev)
        assert action is (Action.SYNCED if ev.is_snapshot else Action.APPLY)
        book.update(ev)
        assert book_checksum(book) == ev.checksum
        checked += 1
    assert checked == 290 == okx_reference().matched
    for native, ref in okx_reference().books.items():
        assert (books[native].bids(), books[native].asks()) == ref.levels()
    for channel in ("trades", "tickers"):
        for raw in okx_frames(channel):
            assert len(n(raw, RECV)) == 1


def test_live_instruments_spot_and_swap() -> None:
    bodies = {url.rsplit("=", 1)[1]: body for url, _, body in v1_http(REST) if "OPTION" not in url}
    spot_infos = {i.native_symbol: i for i in OkxSpotNormalizer().instruments(bodies["SPOT"], 1)}
    btc = spot_infos["BTC-USDT"]
    assert (btc.symbol, btc.tick_size, btc.lot_size, btc.min_qty, btc.contract_size) == (
        "BTC/USDT", "0.1", "0.00000001", "0.00001", None)
    assert OkxSpotNormalizer().instruments(bodies["SWAP"], 1) == []  # another instType
    swaps = {i.native_symbol: i for i in OkxSwapNormalizer().instruments(bodies["SWAP"], 1)}
    assert len(swaps) == 166
    linear, inverse = swaps["BTC-USDT-SWAP"], swaps["UNI-USD-SWAP"]
    assert (linear.symbol, linear.market_type, linear.contract_size, linear.lot_size,
            linear.min_qty) == ("BTC/USDT", MarketType.LINEAR, "0.01", "0.01", "0.01")
    assert (inverse.symbol, inverse.market_type, inverse.contract_size, inverse.lot_size) == (
        "UNI/USD", MarketType.INVERSE, "10", "10")


# ---------------------------------------------------------------------- the rule


def book_ev(kind: UpdateType, seq: int | None, prev: int | None) -> OrderBook:
    return OrderBook(venue="okx_spot", symbol="BTC/USDT", exchange_ts=1, receive_ts=1,
                     sequence=seq, prev_sequence=prev, update_type=kind)


def test_seq_chain_keepalive_reset_and_gap() -> None:
    s = OkxBookSync()
    assert s.on_delta(book_ev(UpdateType.DELTA, 5, 4)) is Action.DROP  # before a snapshot
    assert s.on_snapshot(book_ev(UpdateType.SNAPSHOT, 10, -1)) is Action.SYNCED
    assert s.on_delta(book_ev(UpdateType.DELTA, 15, 10)) is Action.APPLY  # steps are not 1
    assert s.on_delta(book_ev(UpdateType.DELTA, 15, 15)) is Action.APPLY  # keep-alive
    assert s.on_delta(book_ev(UpdateType.DELTA, 3, 15)) is Action.APPLY  # a sequence reset
    assert s.on_delta(book_ev(UpdateType.DELTA, 9, 7)) is Action.GAP
    assert s.reason == "gap: prevSeqId=7 != previous seqId 3" and not s.synced
    with pytest.raises(ValueError):
        s.on_delta(book_ev(UpdateType.DELTA, 9, None))


def test_checksum_zero_means_not_sent() -> None:
    frame = {"arg": {"channel": "books", "instId": "BTC-USDT"}, "action": "update",
             "data": [{"asks": [["1.1", "2", "0", "1"]], "bids": [], "ts": "1", "checksum": 0,
                       "seqId": 2, "prevSeqId": 1}]}
    [ev] = spot()(json.dumps(frame, separators=(",", ":")), RECV)
    assert ev.checksum is None and ev.asks == [["1.1", "2"]]


def test_control_error_and_malformed_frames() -> None:
    n = spot()
    assert n("pong", RECV) == []
    assert n('{"event":"subscribe","arg":{"channel":"books","instId":"BTC-USDT"},'
             '"connId":"a4d3ae55"}', RECV) == []
    assert n('{"event":"notice","code":"64008","msg":"upgrade","connId":"1"}', RECV) == []
    with pytest.raises(ExchangeMessageError, match="60018"):
        n('{"event":"error","code":"60018","msg":"Wrong URL or channel","connId":"1"}', RECV)
    for bad in ("}{", '{"arg":{"channel":"books","instId":"BTC-USDT"},"action":"update",'
                      '"data":[{"asks":[[1.5,"2"]],"bids":[],"ts":"1"}]}',
                '{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"px":"1"}]}',
                '{"arg":{"channel":"nope","instId":"BTC-USDT"},"data":[{}]}',
                '{"arg":{"channel":"trades","instId":"BTC-USDT"}}'):
        with pytest.raises(MalformedMessage):
            n(bad, RECV)


def test_rest_errors() -> None:
    assert okx_error(200, {"code": "0", "data": []}) is None
    assert okx_error(200, {"code": "50014", "msg": "instType empty"}) == ("50014",
                                                                          "instType empty")
    assert okx_error(200, {"code": "1", "msg": "", "data": [
        {"sCode": "51008", "sMsg": "Insufficient balance"}]}) == ("51008", "Insufficient balance")


def test_shared_checksum_rule_is_bitgets_and_the_tests() -> None:
    bids, asks = [("3366.1", "7"), ("3368", "8")], [("3366.8", "9"), ("3372", "8")]
    assert interleaved_crc32(bids, asks) == okx_crc(bids, asks) == 831078360


# ---------------------------------------------------------------------- on the connector


class _Recorder(OkxSpotConnector):
    """The connector's book keeping, fed directly; rebuilds are recorded, not sent."""

    rebuilds: list[str]

    async def rebuild(self, state: SymbolState) -> None:
        self.rebuilds.append(state.native)


async def test_injected_checksum_mismatch_and_gap_are_rebuilt_every_time() -> None:
    config = parse_config({"connectors": [{"venue": "okx_spot", "symbols": ["BTC/USDT"],
                                           "streams": {"book": True}}]})
    queue = AsyncioQueue()
    c = _Recorder(config.connectors[0], queue)
    c.rebuilds = []
    c.states["BTC-USDT"] = SymbolState("BTC-USDT", "BTC/USDT", c.make_sync(),
                                       Book("okx_spot", "BTC/USDT"))
    n, published = spot(), []

    async def publish(event: Any) -> bool:
        published.append(event)
        return True

    c._publish = publish  # type: ignore[method-assign]
    frames = [json.loads(raw) for raw in okx_frames("books", "spot")]
    seq = SeqIds()
    pushes = [seq.frame(f) for f in frames]

    def ev(obj: dict[str, Any]) -> OrderBook:
        [e] = n(json.dumps(obj), RECV)
        assert isinstance(e, OrderBook)
        return e

    async def feed(obj: dict[str, Any]) -> None:
        e = ev(obj)
        bad = c.numbers.book(e)
        assert bad is None
        await c._on_book(e)

    snapshot = pushes[0]
    for round_, (i, fault) in enumerate([(5, "checksum"), (20, "gap"), (40, "checksum")], 1):
        await feed(snapshot if round_ == 1 else _resnapshot(c, snapshot, pushes[i - 3]))
        start = 1 if round_ == 1 else i - 2
        for push in pushes[start:i]:
            await feed(push)
        broken = json.loads(json.dumps(pushes[i]))
        if fault == "checksum":
            broken["data"][0]["checksum"] += 1
        else:
            broken["data"][0]["prevSeqId"] -= 1
        before = len(published)
        await feed(broken)
        [status] = published[before:]
        assert isinstance(status, ConnectorStatus) and status.status is ConnectorState.BOOK_RESYNC
        why = "checksum mismatch: exchange " if fault == "checksum" else "gap: prevSeqId="
        assert status.reason.startswith(why), status.reason
        assert c.rebuilds == ["BTC-USDT"] * round_
        await feed(pushes[i + 1])  # the old subscription's next update: not on a broken book
        assert published[before:] == [status]
    await feed(_resnapshot(c, snapshot, pushes[45]))
    assert published[-1].status is ConnectorState.BOOK_SYNCED  # type: ignore[attr-defined]
    syncs = [e for e in published if isinstance(e, ConnectorStatus)
             and e.status is ConnectorState.BOOK_SYNCED]
    assert len(syncs) == 4 and c.stats.checksum_mismatches == 2 and c.stats.gaps == 1


def _resnapshot(c: OkxSpotConnector, snapshot: dict[str, Any], upto: dict[str, Any]
                ) -> dict[str, Any]:
    """What OKX answers a new subscription with: the book as of `upto`, as a snapshot (the
    reference book of the capture replayed to that push), seqId continuing, prevSeqId -1."""
    target = upto["data"][0]["seqId"]
    book = Book()
    n, seq = OkxSpotNormalizer(), SeqIds()
    for raw in okx_frames("books", "spot"):
        e = n(json.dumps(seq.frame(json.loads(raw))), RECV)[0]
        book.update(e)  # type: ignore[arg-type]
        if e.sequence == target:
            break
    levels = [[p, q, "0", "1"] for p, q in book.bids()], [[p, q, "0", "1"] for p, q in book.asks()]
    return {"arg": snapshot["arg"], "action": "snapshot",
            "data": [{"asks": levels[1], "bids": levels[0], "ts": upto["data"][0]["ts"],
                      "checksum": okx_crc(book.bids(25), book.asks(25)), "seqId": target,
                      "prevSeqId": -1}]}


def test_capture_file_is_the_documented_one() -> None:
    assert fixture(OKX_WS).exists()


def test_trades_items_without_inst_id_take_the_envelopes() -> None:
    frame = ('{"arg":{"channel":"trades","instId":"BTC-USDT"},"data":[{"tradeId":"7","px":"1.5",'
             '"sz":"2","side":"sell","ts":"1000"}]}')
    [ev] = spot()(frame, RECV)
    assert isinstance(ev, Trades) and (ev.native_symbol, ev.symbol) == ("BTC-USDT", "BTC/USDT")
    assert ev.trades[0] == Trade(trade_id="7", price="1.5", qty="2", side=Side.SELL,
                                 exchange_ts=1_000_000)
