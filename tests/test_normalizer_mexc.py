"""MEXC spot v3: the protobuf modules against MEXC's .proto files, a round trip of every message
type, and the normalizer on every docs example (the decoded protobuf examples built back into
protobuf frames; the legacy JSON depth examples through the capture dialect): exact strings,
versions and times as the exchange sent them; bad frames refused with a clear error."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from connector_support import fixture, load_jsonc
from google.protobuf import text_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from ttxt_kafka.connectors.base.errors import ExchangeMessageError, MalformedMessage
from ttxt_kafka.connectors.mexc import pb
from ttxt_kafka.connectors.mexc.normalizer_spot import MexcSpotNormalizer
from ttxt_kafka.connectors.mexc.pb.PushDataV3ApiWrapper_pb2 import PushDataV3ApiWrapper
from ttxt_kafka.connectors.mexc.sim.capture import MexcCaptureDialect
from ttxt_kafka.events import BBO, Kline, OrderBook, Side, Trades, UpdateType
from ttxt_kafka.simulator.captures import Frame
from ttxt_kafka.venues import venue

RECV = 1_700_000_000_000_000
PROTOS = sorted(p.stem for p in fixture("mexc/proto").glob("*.proto"))


def norm() -> MexcSpotNormalizer:
    return MexcSpotNormalizer()


def _module(stem: str) -> Any:
    import importlib

    return importlib.import_module(f"{pb.__name__}.{stem}_pb2")


# ------------------------------------------------------------------ the generated code


_FIELD = re.compile(r"^\s*(optional\s+|repeated\s+)?(\w+)\s+(\w+)\s*=\s*(\d+)\s*;", re.M)
_TYPES = {"string": FieldDescriptor.TYPE_STRING, "int64": FieldDescriptor.TYPE_INT64,
          "int32": FieldDescriptor.TYPE_INT32, "bool": FieldDescriptor.TYPE_BOOL}


@pytest.mark.parametrize("stem", PROTOS)
def test_the_committed_modules_match_mexcs_proto_files(stem: str) -> None:
    """Every field of every message in the .proto (name, number, type, repeated) is in the
    committed module, and nothing else: regenerate with connectors/mexc/pb/generate.py."""
    text = re.sub(r"/\*.*?\*/|//[^\n]*", "", fixture(f"mexc/proto/{stem}.proto").read_text(),
                  flags=re.S)
    module = _module(stem)
    for name, body in re.findall(r"message\s+(\w+)\s*\{(.*?)\n\}", text, flags=re.S):
        desc: Descriptor = getattr(module, name).DESCRIPTOR
        declared = {(f, int(n)) for _, _, f, n in _FIELD.findall(body)}
        assert {(f.name, f.number) for f in desc.fields} == declared, name
        for label, kind, fname, _ in _FIELD.findall(body):
            field = desc.fields_by_name[fname]
            assert field.is_repeated == (label.strip() == "repeated"), fname
            if kind in _TYPES:
                assert field.type == _TYPES[kind], fname
            else:
                assert field.message_type.name == kind, fname


def _fill(msg: Message, depth: int = 0) -> None:
    """Every field set to a distinct value (two items in repeated ones)."""
    for i, field in enumerate(msg.DESCRIPTOR.fields):
        if field.containing_oneof is not None and depth == 0 and field.name != "publicAggreDepths":
            continue  # a oneof holds one body: filled one at a time by the caller
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            items = ([getattr(msg, field.name).add() for _ in range(2)]
                     if field.is_repeated
                     else [getattr(msg, field.name)])
            for item in items:
                _fill(item, depth + 1)
            continue
        value: Any = {FieldDescriptor.TYPE_STRING: f"{i}.{depth}0001",
                      FieldDescriptor.TYPE_INT64: 1_736_417_034_281 + i,
                      FieldDescriptor.TYPE_INT32: 2 + i, FieldDescriptor.TYPE_BOOL: True
                      }[field.type]
        if field.is_repeated:
            getattr(msg, field.name).extend([value, value])
        else:
            setattr(msg, field.name, value)


@pytest.mark.parametrize("body", [f.name for f in PushDataV3ApiWrapper.DESCRIPTOR.oneofs_by_name[
    "body"].fields])
def test_every_message_type_round_trips(body: str) -> None:
    """encode -> decode gives the same message, for each body the wrapper can carry."""
    push = PushDataV3ApiWrapper(channel="spot@x", symbol="BTCUSDT", symbolId="abc",
                                createTime=1, sendTime=2)
    _fill(getattr(push, body), 1)
    assert push.WhichOneof("body") == body
    data = push.SerializeToString()
    back = PushDataV3ApiWrapper.FromString(data)
    assert back == push and back.WhichOneof("body") == body
    assert back.SerializeToString() == data


# ------------------------------------------------------------------ docs examples


def _decoded(name: str) -> dict[str, Any]:
    """A decoded-protobuf docs example (JSON with // comments and the JS library's key
    spellings: `publicincreasedepths`, `asksList`, `sendtime`)."""
    return load_jsonc(name)  # type: ignore[no-any-return]


def _set(msg: Message, obj: dict[str, Any]) -> None:
    """The docs object into the message: keys matched case-insensitively, `xList` = `x`."""
    fields = {f.name.lower(): f for f in msg.DESCRIPTOR.fields}
    for key, value in obj.items():
        field = fields[key.lower().removesuffix("list")]
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            if field.is_repeated:
                for item in value:
                    _set(getattr(msg, field.name).add(), item)
            else:
                _set(getattr(msg, field.name), value)
        elif field.type in (FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_INT32):
            setattr(msg, field.name, int(value))
        else:
            setattr(msg, field.name, value)


_BODIES = {"aggre.depth": "publicAggreDepths", "aggre.deals": "publicAggreDeals",
           "kline": "publicSpotKline", "aggre.bookTicker": "publicAggreBookTicker",
           "limit.depth": "publicLimitDepths", "increase.depth.batch": "publicIncreaseDepthsBatch"}


def frame_of(name: str) -> bytes:
    """A decoded docs example built back into the binary frame MEXC sends."""
    obj = _decoded(name)
    channel = obj["channel"]
    body = next(v for k, v in _BODIES.items() if f"public.{k}.v3" in channel)
    push = PushDataV3ApiWrapper()
    for key, value in obj.items():
        if isinstance(value, dict):
            _set(getattr(push, body), value)
        else:
            _set(push, {key: value})
    return push.SerializeToString()


def test_aggre_depth_docs_example() -> None:
    [ev] = norm()(frame_of("mexc/docs_spot_v3_ws_aggre_depth_pb_decoded.json"), RECV)
    assert isinstance(ev, OrderBook) and ev.update_type is UpdateType.DELTA
    assert (ev.symbol, ev.native_symbol, ev.first_sequence, ev.sequence) == (
        "BTC/USDT", "BTCUSDT", 10589632359, 10589632359)
    assert ev.bids == [["92877.58", "0.00000000"]] and ev.asks == []  # a removal, verbatim
    assert ev.exchange_ts == 1736411507002 * 1000 and ev.receive_ts == RECV


def test_aggre_deals_docs_example() -> None:
    [ev] = norm()(frame_of("mexc/docs_spot_v3_ws_aggre_deals_pb_decoded.json"), RECV)
    assert isinstance(ev, Trades) and ev.symbol == "BTC/USDT"
    [t] = ev.trades
    assert (t.price, t.qty, t.side, t.exchange_ts) == (
        "93220.00", "0.04438243", Side.SELL, 1736409765051 * 1000)
    assert t.trade_id == ""  # the docs' push has no tradeId (the .proto has one: kept if sent)
    assert ev.exchange_ts == 1736409765052 * 1000


def test_kline_docs_example() -> None:
    [k] = norm()(frame_of("mexc/docs_spot_v3_ws_kline_pb_decoded.json"), RECV)
    assert isinstance(k, Kline) and k.interval == "15m"
    assert (k.open, k.high, k.low, k.close, k.volume, k.quote_volume) == (
        "92925", "93158.47", "92800", "93158.47", "36.83803224", "3424811.05")
    assert k.open_time == 1736410500 * 1_000_000 and k.close_time == 1736411400 * 1_000_000 - 1000
    # createtime (no sendtime in this example) is inside the window: not closed yet
    assert k.exchange_ts == 1736410707571 * 1000 and not k.closed


def test_book_ticker_docs_example() -> None:
    [b] = norm()(frame_of("mexc/docs_spot_v3_ws_aggre_bookTicker_pb_decoded.json"), RECV)
    assert isinstance(b, BBO)
    assert (b.bid_price, b.bid_qty, b.ask_price, b.ask_qty) == (
        "93387.28", "3.73485", "93387.29", "7.669875")
    assert b.exchange_ts == 1736412092433 * 1000


@pytest.mark.parametrize("name", ["mexc/docs_spot_v3_ws_limit_depth_pb_decoded.json",
                                  "mexc/docs_spot_v3_ws_increase_depth_batch_pb_decoded.json"])
def test_streams_the_connector_does_not_subscribe_give_nothing(name: str) -> None:
    data = frame_of(name)
    assert PushDataV3ApiWrapper.FromString(data).WhichOneof("body") is not None
    assert norm()(data, RECV) == []


@pytest.mark.parametrize("kind", ["account", "deals", "orders"])
def test_private_docs_examples_parse_and_round_trip(kind: str) -> None:
    """The private examples are protobuf text format: they parse into the wrapper, round trip,
    and the public normalizer leaves them to the private side."""
    text = fixture(f"mexc/docs_spot_v3_ws_private_{kind}_pb_decoded.txt").read_text()
    text = re.sub(r"^\{|\}\s*$", "", text.strip())  # the example wraps the message in braces
    push = text_format.Parse(text, PushDataV3ApiWrapper())
    assert push.WhichOneof("body") == f"private{kind.capitalize()}"
    data = push.SerializeToString()
    assert PushDataV3ApiWrapper.FromString(data) == push
    assert norm()(data, RECV) == []


def test_control_frames() -> None:
    ack = fixture("mexc/docs_spot_v3_ws_subscribe_response.json").read_text()
    assert norm()(ack, RECV) == []
    assert norm()('{"id":0,"code":0,"msg":"PONG"}', RECV) == []
    with pytest.raises(ExchangeMessageError, match="Not Subscribed successfully"):
        norm()('{"id":1,"code":0,"msg":"Not Subscribed successfully! [spot@x].  Reason： '
               'Blocked! "}', RECV)
    with pytest.raises(ExchangeMessageError, match="10007"):
        norm()('{"id":1,"code":10007,"msg":"symbol not support api"}', RECV)


def test_bad_frames_are_refused_clearly() -> None:
    good = frame_of("mexc/docs_spot_v3_ws_aggre_depth_pb_decoded.json")
    with pytest.raises(MalformedMessage, match="not a MEXC protobuf push"):
        norm()(good[: len(good) // 2], RECV)
    with pytest.raises(MalformedMessage, match="without a body"):
        norm()(PushDataV3ApiWrapper(channel="x", symbol="BTCUSDT").SerializeToString(), RECV)
    with pytest.raises(MalformedMessage, match="not JSON"):
        norm()("}{ garbage", RECV)
    no_versions = PushDataV3ApiWrapper(channel="x", symbol="BTCUSDT", sendTime=1)
    no_versions.publicAggreDepths.bids.add(price="1", quantity="1")
    with pytest.raises(MalformedMessage, match="without versions"):
        norm()(no_versions.SerializeToString(), RECV)


def test_rest_docs_examples() -> None:
    depth = fixture("mexc/docs_spot_v3_rest_depth.json").read_text()
    snap = norm().depth_snapshot(depth, "BTCUSDT", RECV)
    assert snap.update_type is UpdateType.SNAPSHOT and snap.sequence == 1112416
    assert snap.bids == [["15.00000", "49999.00000"]] and snap.asks == [["14.0000", "1.0000"]]
    entry = load_jsonc("mexc/docs_spot_v3_rest_exchangeInfo_symbol.json")
    [info] = norm().instruments(json.dumps({"timezone": "CST", "serverTime": 1,
                                            "symbols": [entry]}), RECV)
    assert (info.symbol, info.native_symbol, info.base, info.quote) == (
        "TOMO3L/USDT", "TOMO3LUSDT", "TOMO3L", "USDT")
    assert (info.tick_size, info.lot_size, info.min_notional) == ("0.001", "0.0001", "5")
    assert not info.trading  # status "ENABLED", but isSpotTradingAllowed false in the example


def test_legacy_json_depth_docs_examples_through_the_capture_dialect() -> None:
    """The legacy JSON diff carries one version `r`: the dialect sends it as an aggre.depth
    push with fromVersion = toVersion = r, the strings verbatim."""
    dialect = MexcCaptureDialect(venue("mexc_spot"))
    raw = fixture("mexc/docs_legacy_json_ws_increase_depth.json").read_text()
    pub = dialect.classify(Frame(1.0, json.dumps(json.loads(raw)), "c", "recv"))
    assert pub is not None and isinstance(pub.payload, bytes)
    [ev] = norm()(pub.payload, RECV)
    assert isinstance(ev, OrderBook)
    assert (ev.first_sequence, ev.sequence, ev.asks, ev.bids) == (
        3407459756, 3407459756, [["20290.89", "0.000000"]], [])
    limit = fixture("mexc/docs_legacy_json_ws_limit_depth.json").read_text()
    assert dialect.classify(Frame(1.0, json.dumps(json.loads(limit)), "c", "recv")) is None
    body = json.loads(dialect.depth_body("BTCUSDT", 100, None, 0.0))
    assert body["lastUpdateId"] == 3407459756 and body["asks"] == [["20290.89", "0.650000"]]


# ------------------------------------------------------------------ private side


def _private(kind: str) -> bytes:
    text = fixture(f"mexc/docs_spot_v3_ws_private_{kind}_pb_decoded.txt").read_text()
    text = re.sub(r"^\{|\}\s*$", "", text.strip())
    return text_format.Parse(text, PushDataV3ApiWrapper()).SerializeToString()  # type: ignore[no-any-return]


def test_private_order_docs_example() -> None:
    from ttxt_kafka.connectors.mexc.normalizer_private import MexcPrivateNormalizer
    from ttxt_kafka.events import OrderStatus, OrderType, OrderUpdate

    [u] = MexcPrivateNormalizer()(_private("orders"), RECV)
    assert isinstance(u, OrderUpdate)
    assert (u.symbol, u.order_id, u.client_order_id) == ("MX/USDT", "C02__505979017439002624115",
                                                         "")
    assert (u.order_type, u.side, u.status) == (OrderType.MARKET, Side.SELL, OrderStatus.FILLED)
    assert (u.price, u.qty, u.filled_qty, u.avg_price) == (None, "1", "1", "3.6962")
    assert u.exchange_ts == 1736417034281 * 1000 and u.created_ts == 1736417034259 * 1000


def test_private_deal_docs_example() -> None:
    from ttxt_kafka.connectors.mexc.normalizer_private import MexcPrivateNormalizer
    from ttxt_kafka.events import Fill

    [f] = MexcPrivateNormalizer()(_private("deals"), RECV)
    assert isinstance(f, Fill)
    assert (f.trade_id, f.order_id, f.side, f.price, f.qty) == (
        "505979017439002624X1", "C02__505979017439002624115", Side.SELL, "3.6962", "1")
    assert (f.fee, f.fee_currency, f.is_maker) == ("0.0003998377369698171", "MX", False)
    assert f.exchange_ts == 1736417034280 * 1000


def test_private_account_docs_example() -> None:
    from ttxt_kafka.connectors.mexc.normalizer_private import MexcPrivateNormalizer
    from ttxt_kafka.events import Wallet

    [w] = MexcPrivateNormalizer()(_private("account"), RECV)
    assert isinstance(w, Wallet) and not w.is_snapshot
    [b] = w.balances
    assert (b.asset, b.available, b.locked, b.total) == (
        "USDT", "21.94210356004384", "0", "21.94210356004384")
    assert w.exchange_ts == 1736417034307 * 1000


def test_private_rest_bodies() -> None:
    from ttxt_kafka.connectors.mexc.normalizer_private import (
        MexcPrivateNormalizer,
        orders_from_rest,
        wallet_from_rest,
    )
    from ttxt_kafka.events import OrderStatus, TimeInForce

    order = {"symbol": "MXUSDT", "orderId": "06a480e6", "orderListId": -1,
             "clientOrderId": "my-1", "price": "0.1", "origQty": "50", "executedQty": "20",
             "cummulativeQuoteQty": "2", "status": "PARTIALLY_CANCELED",
             "timeInForce": None, "type": "IMMEDIATE_OR_CANCEL", "side": "BUY",
             "time": 1666676533741, "updateTime": 1666676533999}
    [u] = orders_from_rest(json.dumps(order), MexcPrivateNormalizer(), RECV)
    assert (u.status, u.time_in_force, u.filled_qty, u.avg_price) == (
        OrderStatus.CANCELED, TimeInForce.IOC, "20", "0.1")
    w = wallet_from_rest(json.dumps({"balances": [{"asset": "USDT", "free": "10.5",
                                                   "locked": "2"}]}), RECV, "mexc_spot")
    assert w.is_snapshot and w.balances[0].total == "12.5"
    with pytest.raises(ExchangeMessageError, match="-2011"):
        orders_from_rest('{"code":-2011,"msg":"Unknown order sent."}', MexcPrivateNormalizer(),
                         RECV)
