"""OKX v5 translation: REST order calls (spot and swaps: contracts from base quantities),
answers, error codes, and the compact client order id OKX's rule needs."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from ttxt_kafka.connectors.okx import orders as ok
from ttxt_kafka.connectors.okx.order_errors import REJECTS, classify
from ttxt_kafka.events import InstrumentInfo, MarketType, OrderType, Side, TimeInForce
from ttxt_kafka.matching import Reason
from ttxt_kafka.orders.client_ids import client_order_id_for
from ttxt_kafka.orders.errors import ErrorKind, ExchangeFailure
from ttxt_kafka.orders.validation import InvalidCommand, ValidAmend, ValidCancel, ValidCreate

SPOT = {"venue": "okx_spot", "symbol": "BTC/USDT", "native_symbol": "BTC-USDT",
        "command_id": "c-1"}
SWAP = {**SPOT, "venue": "okx_swap", "native_symbol": "BTC-USDT-SWAP"}


def info(market: MarketType = MarketType.LINEAR, ct: str = "0.01",
         lot: str = "0.01") -> InstrumentInfo:
    return InstrumentInfo(venue="okx_swap", symbol="BTC/USDT", native_symbol="BTC-USDT-SWAP",
                          exchange_ts=0, receive_ts=0, market_type=market, base="BTC",
                          quote="USDT", trading=True, tick_size="0.1", lot_size=lot,
                          min_qty=lot, contract_size=ct)


def order(base: dict[str, Any] = SPOT, **kwargs: Any) -> ValidCreate:
    fields: dict[str, Any] = {**base, "client_order_id": "ttxt1", "side": Side.BUY,
                              "order_type": OrderType.LIMIT, "qty": "0.5", "price": "60000.1"}
    return ValidCreate.model_validate({**fields, **kwargs})


def test_spot_orders() -> None:
    call = ok.create_call(order(), None)
    assert (call.method, call.path) == ("POST", "/api/v5/trade/order")
    assert call.body == {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy",
                         "ordType": "limit", "px": "60000.1", "sz": "0.5", "clOrdId": "ttxt1"}
    market = ok.create_call(order(order_type=OrderType.MARKET, price=None), None).body
    assert market is not None and (market["ordType"], market["tgtCcy"]) == ("market", "base_ccy")
    assert "px" not in market
    for tif, kind in ((TimeInForce.IOC, "ioc"), (TimeInForce.FOK, "fok")):
        assert ok.create_call(order(time_in_force=tif), None).body["ordType"] == kind  # type: ignore[index]
    assert ok.create_call(order(post_only=True), None).body["ordType"] == "post_only"  # type: ignore[index]
    with pytest.raises(InvalidCommand, match="derivatives"):
        ok.create_call(order(reduce_only=True), None)


def test_swap_sizes_are_contracts() -> None:
    body = ok.create_call(order(SWAP, qty="0.05", reduce_only=True), info()).body
    assert body == {"instId": "BTC-USDT-SWAP", "tdMode": "cross", "side": "buy",
                    "ordType": "limit", "px": "60000.1", "sz": "5", "clOrdId": "ttxt1",
                    "reduceOnly": True}
    assert ok.contracts(Decimal("0.001"), info(ct="0.01", lot="0.001")) == Decimal("0.1")
    with pytest.raises(InvalidCommand, match="whole number of BTC-USDT-SWAP lots"):
        ok.create_call(order(SWAP, qty="0.015"), info())
    with pytest.raises(InvalidCommand, match="inverse swap"):
        ok.create_call(order(SWAP), info(MarketType.INVERSE, ct="100", lot="100"))
    amend = ValidAmend.model_validate({**SWAP, "client_order_id": "ttxt1", "new_qty": "0.02",
                                       "new_price": "59000"})
    assert ok.amend_call(amend, info()).body == {"instId": "BTC-USDT-SWAP", "clOrdId": "ttxt1",
                                                 "newSz": "2", "newPx": "59000"}


def test_cancel_query_batch_and_account_calls() -> None:
    cancel = ValidCancel.model_validate({**SPOT, "client_order_id": "a", "order_id": "42"})
    assert ok.cancel_call(cancel).body == {"instId": "BTC-USDT", "ordId": "42"}  # ordId wins
    query = ok.query_call("BTC-USDT", client_order_id="a")
    assert query.params == (("instId", "BTC-USDT"), ("clOrdId", "a")) and query.method == "GET"
    batches = ok.cancel_batch_calls([("BTC-USDT", str(i)) for i in range(45)])
    assert [len(c.body) for c in batches] == [20, 20, 5]  # type: ignore[arg-type]
    assert batches[0].path == "/api/v5/trade/cancel-batch-orders"
    assert [c.path for c in ok.account_calls(spot=False)] == ["/api/v5/account/balance",
                                                              "/api/v5/account/positions"]
    assert ok.open_orders_call("SWAP", "BTC-USDT-SWAP").params == (
        ("instType", "SWAP"), ("instId", "BTC-USDT-SWAP"))


def test_answers_and_codes() -> None:
    placed = ok.parse_response({"code": "0", "msg": "", "data": [
        {"ordId": "12", "clOrdId": "c", "sCode": "0", "sMsg": "", "ts": "1695190491421"}]})
    assert placed == ok.OrderResult("12", "c", 1695190491421000)
    refused = ok.parse_response({"code": "1", "msg": "Operation failed.", "data": [
        {"ordId": "", "clOrdId": "c", "sCode": "51008", "sMsg": "Insufficient balance"}]})
    assert isinstance(refused, ExchangeFailure)
    assert (refused.code, refused.kind) == ("51008", ErrorKind.INSUFFICIENT_BALANCE)
    assert ok.parse_response("<html>", 502).kind is ErrorKind.UNKNOWN_OUTCOME  # type: ignore[union-attr]
    for code, kind in (("51016", ErrorKind.DUPLICATE_ORDER), ("51603", ErrorKind.UNKNOWN_ORDER),
                       ("50011", ErrorKind.RATE_LIMIT), ("50113", ErrorKind.AUTH),
                       ("50102", ErrorKind.TIMESTAMP), ("51169", ErrorKind.REDUCE_ONLY_REJECTED),
                       ("51999", ErrorKind.INVALID_REQUEST), ("59999", ErrorKind.OTHER)):
        assert classify(code) is kind, code
    assert set(REJECTS) <= {r.value for r in Reason}  # every simulator answer is a real reason


def test_derived_client_order_ids_fit_okx() -> None:
    cid = client_order_id_for("cmd-1", exchange="okx")
    assert cid.isalnum() and len(cid) == 32 and cid.startswith("ttxt")
    assert cid == client_order_id_for("cmd-1", exchange="okx")  # stable across redeliveries
    assert client_order_id_for("cmd-1", exchange="bitget") == client_order_id_for("cmd-1")
