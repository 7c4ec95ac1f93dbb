"""Kraken spot WS v2 private messages, private REST bodies and order requests.

The fixtures hold no Kraken v2 private message (MANIFEST: Kraken WS v1 only), so the messages
here are built from the shapes Kraken documents for WS v2 (`executions`: "Example: Pending",
"Example: Live Order", "Example: Execution"; `balances`; the method answers) and for REST
OpenOrders / ClosedOrders / BalanceEx, with this test's own values. Numbers are JSON numbers, as
Kraken sends them."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from ttxt_kafka.connectors.base.errors import ExchangeMessageError, MalformedMessage
from ttxt_kafka.connectors.kraken import orders as rq
from ttxt_kafka.connectors.kraken.normalizer_private import (
    KrakenPrivateNormalizer,
    orders_from_rest,
    wallet_from_rest,
)
from ttxt_kafka.connectors.kraken.order_errors import classify
from ttxt_kafka.events import (
    Fill,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Side,
    TimeInForce,
)
from ttxt_kafka.orders.errors import ErrorKind, ExchangeFailure
from ttxt_kafka.orders.validation import InvalidCommand, ValidAmend, ValidCancel, ValidCreate

RECV = 1_700_000_000_000_000
PENDING = ('{"channel":"executions","type":"update","data":[{"order_id":"OK4GJX-KSTLS-7DZZO5",'
           '"symbol":"BTC/USD","order_qty":0.0001,"cum_cost":0,"time_in_force":"GTC",'
           '"exec_type":"pending_new","side":"buy","order_type":"limit","order_userref":0,'
           '"limit_price_type":"static","limit_price":26500.0,"stop_price":0.0,'
           '"order_status":"pending_new","fee_usd_equiv":0.0,"fee_ccy_pref":"fciq",'
           '"cl_ord_id":"my-order-1","timestamp":"2023-09-22T10:33:05.709950Z"}],"sequence":8}')
LIVE = ('{"channel":"executions","type":"update","data":[{"timestamp":'
        '"2023-09-22T10:33:05.709993Z","order_status":"new","exec_type":"new",'
        '"order_userref":0,"order_id":"OK4GJX-KSTLS-7DZZO5"}],"sequence":9}')
TRADE = ('{"channel":"executions","type":"update","data":[{"order_id":"OK4GJX-KSTLS-7DZZO5",'
         '"order_userref":0,"exec_id":"TKTWEA-ISOWM-UCKRCE","exec_type":"trade","trade_id":123,'
         '"symbol":"BTC/USD","side":"buy","last_qty":0.0001,"last_price":26500.0,'
         '"liquidity_ind":"m","cost":2.65,"order_status":"filled","order_type":"limit",'
         '"timestamp":"2023-09-22T10:33:05.710000Z","fee_usd_equiv":0.0042,'
         '"fees":[{"asset":"USD","qty":0.0042}]}],"sequence":10}')


def test_pending_live_then_execution() -> None:
    n = KrakenPrivateNormalizer()
    [pending] = n(PENDING, RECV)
    assert isinstance(pending, OrderUpdate)
    assert (pending.symbol, pending.order_id, pending.client_order_id) == (
        "BTC/USD", "OK4GJX-KSTLS-7DZZO5", "my-order-1")
    assert (pending.status, pending.order_type, pending.side, pending.time_in_force) == (
        OrderStatus.NEW, OrderType.LIMIT, Side.BUY, TimeInForce.GTC)
    assert (pending.price, pending.qty, pending.filled_qty) == ("26500.0", "0.0001", "0")
    assert pending.exchange_ts == 1695378785709950
    # the live report carries no shape: the pending one's fields stand
    [live] = n(LIVE, RECV)
    assert isinstance(live, OrderUpdate) and (live.qty, live.price) == ("0.0001", "26500.0")
    fill, done = n(TRADE, RECV)
    assert isinstance(fill, Fill) and isinstance(done, OrderUpdate)
    assert (fill.trade_id, fill.order_id, fill.client_order_id, fill.side) == (
        "123", "OK4GJX-KSTLS-7DZZO5", "my-order-1", Side.BUY)
    assert (fill.price, fill.qty, fill.fee, fill.fee_currency, fill.is_maker) == (
        "26500.0", "0.0001", "0.0042", "USD", True)
    # no cum_qty in the trade report: the trade is added to what was filled
    assert (done.status, done.filled_qty, done.qty) == (OrderStatus.FILLED, "0.0001", "0.0001")
    # the order is closed: forgotten; a late report of it has no shape, a trade still a Fill
    assert n(LIVE, RECV) == []


def test_amend_and_cancel_reports_merge_into_the_order() -> None:
    n = KrakenPrivateNormalizer()
    n(PENDING, RECV)
    amended = PENDING.replace('"pending_new","side"', '"amended","side"').replace(
        "0.0001", "0.0003").replace("26500.0", "26400.5")
    [a] = n(amended, RECV)
    assert isinstance(a, OrderUpdate) and (a.qty, a.price) == ("0.0003", "26400.5")
    canceled = ('{"channel":"executions","type":"update","data":[{"order_id":'
                '"OK4GJX-KSTLS-7DZZO5","exec_type":"canceled","order_status":"canceled",'
                '"cum_qty":0.0001,"reason":"User requested",'
                '"timestamp":"2023-09-22T10:40:00.000001Z"}]}')
    [c] = n(canceled, RECV)
    assert isinstance(c, OrderUpdate)
    assert (c.status, c.filled_qty, c.qty, c.reason) == (
        OrderStatus.CANCELED, "0.0001", "0.0003", "User requested")


def test_a_trade_of_an_order_never_seen_is_still_a_fill() -> None:
    [fill] = KrakenPrivateNormalizer()(TRADE.replace('"order_type":"limit",', ""), RECV)
    assert isinstance(fill, Fill) and fill.qty == "0.0001"


def test_control_messages_balances_and_errors() -> None:
    n = KrakenPrivateNormalizer()
    balances = ('{"channel":"balances","type":"update","data":[{"ledger_id":"DATKX6-PEHL1-HZKND8",'
                '"ref_id":"LKAKN2-N8JVG-W4YGWT","timestamp":"2024-05-24T14:01:53.526524Z",'
                '"type":"trade","asset":"BTC","asset_class":"currency","category":"trade",'
                '"wallet_type":"spot","wallet_id":"main","amount":0.0001,"fee":0,'
                '"balance":1.2345}],"sequence":4}')
    assert n(balances, RECV) == []  # the stream re-reads BalanceEx instead (holds)
    answer = ('{"method":"subscribe","result":{"channel":"executions","maxratecount":125,'
              '"snap_orders":true,"snap_trades":false},"success":true,'
              '"time_in":"2023-10-16T13:18:35.303171Z","time_out":"2023-10-16T13:18:35.318297Z"}')
    assert n(answer, RECV) == []
    assert n('{"channel":"heartbeat"}', RECV) == []
    with pytest.raises(ExchangeMessageError, match="Invalid token"):
        n('{"method":"subscribe","success":false,"error":"EAPI:Invalid token"}', RECV)
    with pytest.raises(MalformedMessage):
        n('{"channel":"executions","type":"update","data":[{"order_id":"X"}]}', RECV)
    with pytest.raises(MalformedMessage):
        n("not json", RECV)


OPEN = {"error": [], "result": {"open": {"OQCLML-BW3P3-BUCMWZ": {
    "refid": None, "userref": 0, "cl_ord_id": "my-order-2", "status": "open",
    "opentm": 1688666559.8974, "starttm": 0, "expiretm": 0,
    "descr": {"pair": "XBTUSDT", "type": "sell", "ordertype": "limit", "price": "30010.0",
              "price2": "0", "leverage": "none", "order": "sell 1.25 XBTUSDT @ limit 30010.0",
              "close": ""},
    "vol": "1.25000000", "vol_exec": "0.37500000", "cost": "11253.7", "fee": "0.00000",
    "price": "30010.0", "stopprice": "0.00000", "limitprice": "0.00000", "misc": "",
    "oflags": "post"}}}}


def test_rest_open_and_closed_orders() -> None:
    n = KrakenPrivateNormalizer({"BTC/USDT": "BTC/USDT"})
    [o] = orders_from_rest(OPEN, n, RECV)
    assert (o.symbol, o.native_symbol, o.order_id, o.client_order_id) == (
        "BTC/USDT", "BTC/USDT", "OQCLML-BW3P3-BUCMWZ", "my-order-2")
    assert (o.status, o.side, o.price, o.qty, o.filled_qty, o.avg_price) == (
        OrderStatus.PARTIALLY_FILLED, Side.SELL, "30010.0", "1.25000000", "0.37500000",
        "30010.0")
    assert o.created_ts == 1688666559897400
    closed = json.loads(json.dumps(OPEN).replace('"open": {', '"closed": {').replace(
        '"status": "open"', '"status": "canceled", "closetm": 1688666600.5, '
        '"reason": "User requested"'))
    [c] = orders_from_rest(closed, n, RECV)
    assert (c.status, c.exchange_ts, c.reason) == (OrderStatus.CANCELED, 1688666600500000,
                                                   "User requested")
    with pytest.raises(ExchangeMessageError, match="Invalid nonce"):
        orders_from_rest({"error": ["EAPI:Invalid nonce"]}, n, RECV)


def test_rest_balance_ex_is_a_wallet_snapshot_in_v2_asset_names() -> None:
    body = {"error": [], "result": {
        "ZUSD": {"balance": "25435.21", "hold_trade": "8249.76"},
        "XXBT": {"balance": "1.2435", "hold_trade": "0.8423"},
        "USDT": {"balance": "100.00000000"}, "XBT.M": {"balance": "0.5"}}}
    w = wallet_from_rest(body, RECV, "kraken_spot")
    assert w.is_snapshot and w.account_type == "spot"
    assert [(b.asset, b.total, b.available, b.locked) for b in w.balances] == [
        ("USDT", "100.00000000", "100.00000000", "0"),
        ("BTC", "1.2435", "0.4012", "0.8423"),
        ("USD", "25435.21", "17185.45", "8249.76")]


def _create(**fields: object) -> ValidCreate:
    base: dict[str, object] = {
        "venue": "kraken_spot", "symbol": "BTC/USDT", "native_symbol": "BTC/USDT",
        "command_id": "c1", "client_order_id": "my-order-3", "side": Side.BUY,
        "order_type": OrderType.LIMIT, "qty": Decimal("0.01"), "price": Decimal("65000.1")}
    return ValidCreate(**(base | fields))  # type: ignore[arg-type]


def test_requests_write_numbers_from_the_decimal_with_the_pairs_precision() -> None:
    params = rq.create_params(_create(post_only=True), (1, 8))
    text = rq.request(rq.ADD, params, 7, "TOKEN").decode()
    assert text == ('{"method":"add_order","params":{"order_type":"limit","side":"buy",'
                    '"symbol":"BTC/USDT","order_qty":0.01000000,"limit_price":65000.1,'
                    '"time_in_force":"gtc","post_only":true,"cl_ord_id":"my-order-3",'
                    '"token":"TOKEN"},"req_id":7}')
    market = rq.create_params(_create(order_type=OrderType.MARKET, price=None,
                                      qty=Decimal("12345678.12345678")), (1, 8))
    assert rq.request(rq.ADD, market, 8, "T").decode().count("12345678.12345678") == 1
    assert "limit_price" not in market and "time_in_force" not in market
    with pytest.raises(InvalidCommand, match="decimals"):
        rq.create_params(_create(price=Decimal("65000.15")), (1, 8))
    ioc = rq.create_params(_create(time_in_force=TimeInForce.FOK), (1, 8))
    assert ioc["time_in_force"] == "fok"
    cancel = ValidCancel(venue="kraken_spot", symbol="BTC/USDT", command_id="c2",
                         client_order_id="my-order-3")
    assert rq.cancel_params(cancel) == {"cl_ord_id": ["my-order-3"]}
    amend = ValidAmend(venue="kraken_spot", symbol="BTC/USDT", command_id="c3",
                       order_id="OQCLML-BW3P3-BUCMWZ", new_price=Decimal("64999.9"))
    assert rq.request(rq.AMEND, rq.amend_params(amend, (1, 8)), 9, "T").decode() == (
        '{"method":"amend_order","params":{"order_id":"OQCLML-BW3P3-BUCMWZ",'
        '"limit_price":64999.9,"token":"T"},"req_id":9}')


def test_answers_and_errors() -> None:
    ok = rq.parse_answer({"method": "add_order", "req_id": 7, "success": True,
                          "result": {"order_id": "OPS23M-VS41G-DDE5Z2", "cl_ord_id": "c"},
                          "time_in": "2023-09-21T14:15:07.197274Z",
                          "time_out": "2023-09-21T14:15:07.205301Z"})
    assert isinstance(ok, rq.OrderResult)
    assert (ok.order_id, ok.client_order_id, ok.exchange_ts) == (
        "OPS23M-VS41G-DDE5Z2", "c", 1695305707205301)
    refused = rq.parse_answer({"method": "add_order", "req_id": 7, "success": False,
                               "error": "EOrder:Insufficient funds"})
    assert isinstance(refused, ExchangeFailure)
    assert (refused.code, refused.kind) == ("EOrder:Insufficient funds",
                                            ErrorKind.INSUFFICIENT_BALANCE)
    assert classify("EOrder:Rate limit exceeded") is ErrorKind.RATE_LIMIT
    assert classify("EGeneral:Invalid arguments:order_qty") is ErrorKind.INVALID_REQUEST
    assert classify("EAPI:Invalid signature") is ErrorKind.AUTH
    assert classify("EService:Unavailable") is ErrorKind.SERVER_BUSY
