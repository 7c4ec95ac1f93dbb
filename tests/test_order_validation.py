"""Order command validation: every problem named exactly, nothing but InvalidCommand raised."""

from __future__ import annotations

import dataclasses
import random
from decimal import Decimal
from typing import Any

import pytest

from ttxt_kafka.connectors.binance import orders as binance_orders
from ttxt_kafka.connectors.bybit import orders as bybit_orders
from ttxt_kafka.events import (
    AckStatus,
    AmendOrder,
    CancelAllOrders,
    CancelOrder,
    CommandType,
    CreateOrder,
    InstrumentInfo,
    MarketType,
    OrderType,
    Side,
    TimeInForce,
)
from ttxt_kafka.orders.acks import accepted_ack, not_sent_ack, rejected_ack
from ttxt_kafka.orders.client_ids import client_order_id_for, client_order_id_problem
from ttxt_kafka.orders.state import KnownOrder
from ttxt_kafka.orders.validation import (
    InvalidCommand,
    validate_amend,
    validate_cancel,
    validate_cancel_all,
    validate_create,
)

D = Decimal
HEADER = {"venue": "binance", "symbol": "BTC/USDT", "exchange_ts": 1, "receive_ts": 2}
SPOT = InstrumentInfo(**HEADER, native_symbol="BTCUSDT", market_type=MarketType.SPOT,  # type: ignore[arg-type]
                      base="BTC", quote="USDT", trading=True, tick_size="0.1",
                      lot_size="0.001", min_qty="0.001", max_qty="100", min_notional="5")
LINEAR = InstrumentInfo(**{**HEADER, "venue": "bybit_linear"}, native_symbol="BTCUSDT",  # type: ignore[arg-type]
                        market_type=MarketType.LINEAR, base="BTC", quote="USDT", trading=True,
                        tick_size="0.10", lot_size="0.001", min_qty="0.001")


def create(**kwargs: Any) -> CreateOrder:
    fields: dict[str, Any] = {**HEADER, "command_id": "cmd-1", "side": Side.BUY,
                              "order_type": OrderType.LIMIT, "qty": "0.010", "price": "60000.1"}
    fields.update(kwargs)
    return CreateOrder(**fields)


def problem(command: Any, instrument: InstrumentInfo | None = SPOT, **kwargs: Any) -> str:
    with pytest.raises(InvalidCommand) as err:
        if isinstance(command, CreateOrder):
            validate_create(command, instrument, exchange=kwargs.pop("exchange", "binance"),
                            **kwargs)
        elif isinstance(command, AmendOrder):
            validate_amend(command, instrument, **kwargs)
        elif isinstance(command, CancelOrder):
            validate_cancel(command, instrument)
        else:
            validate_cancel_all(command, instrument)
    return str(err.value)


# ---------------------------------------------------------------- create


def test_a_valid_limit_order() -> None:
    order = validate_create(create(), SPOT, exchange="binance")
    assert (order.qty, order.price, order.native_symbol) == (D("0.010"), D("60000.1"), "BTCUSDT")
    assert str(order.qty) == "0.010"  # the scale the user wrote is kept
    assert order.client_order_id == client_order_id_for("cmd-1")
    assert len(order.client_order_id) == 36 and order.client_order_id.startswith("ttxt-")
    # a redelivered command gets the same id; the user's own id is kept
    assert validate_create(create(), SPOT, exchange="bybit").client_order_id == (
        order.client_order_id)
    assert validate_create(create(client_order_id="mine-1"), SPOT,
                           exchange="binance").client_order_id == "mine-1"


@pytest.mark.parametrize(("kwargs", "reason"), [
    ({"price": "60000.123"}, "price 60000.123 is not a multiple of tick 0.1"),
    ({"qty": "0.0105"}, "quantity 0.0105 is not a multiple of lot size 0.001"),
    ({"qty": "0.000"}, "quantity 0.000 must be positive"),
    ({"qty": "101"}, "quantity 101 is above the maximum 100"),
    ({"qty": "0.001", "price": "4999.9"},
     "notional 4.9999 (quantity 0.001 x price 4999.9) is below the minimum 5"),
    ({"qty": "-1"}, "quantity '-1' is not a plain decimal number"),
    ({"qty": "1e3"}, "quantity '1e3' is not a plain decimal number"),
    ({"qty": "NaN"}, "quantity 'NaN' is not a plain decimal number"),
    ({"qty": "1_000"}, "quantity '1_000' is not a plain decimal number"),
    ({"qty": " 1"}, "quantity ' 1' is not a plain decimal number"),
    ({"qty": ""}, "quantity '' is not a plain decimal number"),
    ({"price": "abc"}, "price 'abc' is not a plain decimal number"),
    ({"price": None}, "a LIMIT order needs a price"),
    ({"order_type": OrderType.MARKET}, "a MARKET order takes no price"),
    ({"order_type": OrderType.MARKET, "price": None, "post_only": True},
     "a MARKET order cannot be post-only"),
    ({"order_type": OrderType.MARKET, "price": None, "time_in_force": TimeInForce.FOK},
     "a MARKET order is GTC or IOC, not FOK"),
    ({"post_only": True, "time_in_force": TimeInForce.IOC}, "a post-only order cannot be IOC"),
    ({"side": Side.UNKNOWN}, "side must be BUY or SELL"),
    ({"reduce_only": True}, "reduce-only is not available on spot"),
    ({"command_id": ""}, "command id is missing"),
    ({"take_profit": "59000"}, "take-profit 59000 must be above the price 60000.1 of a BUY order"),
    ({"stop_loss": "61000"}, "stop-loss 61000 must be below the price 60000.1 of a BUY order"),
    ({"side": Side.SELL, "take_profit": "61000"},
     "take-profit 61000 must be below the price 60000.1 of a SELL order"),
    ({"take_profit": "65000.05"}, "take-profit 65000.05 is not a multiple of tick 0.1"),
    ({"client_order_id": "has space"},
     "client order id 'has space' must be 1-36 characters of letters, digits and . : / _ -"),
    ({"client_order_id": "x" * 37},
     f"client order id '{'x' * 37}' must be 1-36 characters of letters, digits and . : / _ -"),
    ({"client_order_id": "autoclose-1"}, "client order id 'autoclose-1' uses a prefix Binance "
                                         "reserves"),
])
def test_invalid_creates_name_the_problem(kwargs: dict[str, Any], reason: str) -> None:
    assert problem(create(**kwargs)) == reason


def test_instrument_level_problems() -> None:
    assert problem(create(), None) == "unknown symbol BTC/USDT on binance"
    halted = dataclasses.replace(SPOT, trading=False)
    assert problem(create(), halted) == "BTC/USDT is not trading on binance"
    assert problem(create(venue="bybit_linear"), SPOT) == (
        "command for bybit_linear given to binance")


def test_market_orders_notional_against_a_reference_price() -> None:
    market = create(order_type=OrderType.MARKET, price=None, qty="0.001")
    assert validate_create(market, SPOT, exchange="binance").price is None
    assert problem(market, reference_price=D("4000")) == (
        "notional 4.000 (quantity 0.001 x price 4000) is below the minimum 5")


def test_bybit_client_order_ids_are_stricter() -> None:
    assert problem(create(client_order_id="a:b"), exchange="bybit") == (
        "client order id 'a:b' must be 1-36 characters of letters, digits, _ and -")
    assert validate_create(create(client_order_id="a:b"), SPOT, exchange="binance")
    assert client_order_id_problem("ok_id-1", "bybit") is None


def test_reduce_only_on_derivatives() -> None:
    order = validate_create(create(venue="bybit_linear", reduce_only=True, price="60000.10"),
                            LINEAR, exchange="bybit")
    assert order.reduce_only and order.price == D("60000.10")


def test_huge_numbers_do_not_break_exact_checks() -> None:
    big = "9" * 40 + "." + "9" * 39 + "1"
    assert "is not a multiple of tick" in problem(create(price=big))


# ---------------------------------------------------------------- amend / cancel / cancel-all

KNOWN = KnownOrder(client_order_id="c1", order_id="42", side=Side.BUY,
                   order_type=OrderType.LIMIT, price=D("60000.1"), qty=D("1"),
                   filled_qty=D("0.4"))


def amend(**kwargs: Any) -> AmendOrder:
    return AmendOrder(**{**HEADER, "command_id": "cmd-2", "client_order_id": "c1", **kwargs})


def test_amend_validation() -> None:
    ok = validate_amend(amend(new_price="60001.0"), SPOT, current=KNOWN)
    assert (ok.new_price, ok.native_symbol) == (D("60001.0"), "BTCUSDT")
    assert problem(amend(client_order_id=None, new_qty="1")) == (
        "name the order: client_order_id or order_id")
    assert problem(amend()) == ("an amendment changes nothing: give a new quantity, price, "
                                "take-profit or stop-loss")
    assert problem(amend(new_price="60001.05")) == (
        "new price 60001.05 is not a multiple of tick 0.1")
    assert problem(amend(new_qty="0.4"), current=KNOWN) == (
        "new quantity 0.4 is not above the filled quantity 0.4")
    assert problem(amend(new_qty="1", new_price="60000.1"), current=KNOWN) == (
        "the amendment gives the order's current values")
    assert problem(amend(new_qty="0.5", new_price="1"), current=KNOWN) == (
        "notional 0.5 (quantity 0.5 x price 1) is below the minimum 5")
    assert problem(amend(new_stop_loss="60500"), current=KNOWN) == (
        "stop-loss 60500 must be below the price 60000.1 of a BUY order")


def test_cancel_and_cancel_all_validation() -> None:
    cancel = CancelOrder(**HEADER, command_id="c", order_id="42")  # type: ignore[arg-type]
    assert validate_cancel(cancel, SPOT).native_symbol == "BTCUSDT"
    assert problem(CancelOrder(**HEADER, command_id="c"), SPOT) == (  # type: ignore[arg-type]
        "name the order: client_order_id or order_id")
    assert problem(cancel, None) == "unknown symbol BTC/USDT on binance"
    venue_wide = CancelAllOrders(**{**HEADER, "symbol": ""}, command_id="c")  # type: ignore[arg-type]
    assert validate_cancel_all(venue_wide).native_symbol == ""
    assert problem(CancelAllOrders(**HEADER, command_id="c"), None) == (  # type: ignore[arg-type]
        "unknown symbol BTC/USDT on binance")


# ---------------------------------------------------------------- acks


def test_acks() -> None:
    command = create(client_order_id="mine")
    rejected = rejected_ack(command, "price 60000.123 is not a multiple of tick 0.1",
                            now_us=123, error_code="-1013")
    assert (rejected.status, rejected.command_type, rejected.command_id, rejected.client_order_id,
            rejected.error_code, rejected.exchange_ts) == (
        AckStatus.REJECTED, CommandType.CREATE, "cmd-1", "mine", "-1013", 123)
    accepted = accepted_ack(amend(new_qty="1"), now_us=5, exchange_ts=4, order_id="42")
    assert (accepted.status, accepted.command_type, accepted.order_id, accepted.exchange_ts) == (
        AckStatus.ACCEPTED, CommandType.AMEND, "42", 4)
    off = not_sent_ack(command, now_us=1, client_order_id="mine")
    assert off.status is AckStatus.NOT_SENT and "not sent" in off.reason


# ---------------------------------------------------------------- fuzz


def _garbage(rng: random.Random, good: list[str]) -> Any:
    if rng.random() < 0.6:
        return rng.choice(good)
    return rng.choice(["", "0", "-0", "1e9", "NaN", "inf", "-5", "abc", " ", "9" * 90,
                       "0." + "0" * 50 + "1", "1.0.0", "１", None, "60000.123", "0.0015"])


def test_fuzzed_commands_are_validated_or_rejected_never_crash() -> None:
    rng = random.Random(7)
    accepted = 0
    for i in range(1000):
        market = rng.random() < 0.3
        command = create(
            command_id=rng.choice([f"cmd-{i}"] * 8 + ["", "x" * 300]),
            side=rng.choice([Side.BUY, Side.SELL, Side.BUY, Side.SELL, Side.UNKNOWN]),
            order_type=OrderType.MARKET if market else OrderType.LIMIT,
            time_in_force=rng.choice([TimeInForce.GTC] * 3 + list(TimeInForce)),
            post_only=rng.random() < 0.1, reduce_only=rng.random() < 0.05,
            qty=_garbage(rng, ["0.010", "1", "0.5", "2.000"]) or "",
            price=None if market and rng.random() < 0.9 else _garbage(
                rng, ["60000.1", "60000", "100.0"]),
            take_profit=_garbage(rng, ["70000"]) if rng.random() < 0.1 else None,
            stop_loss=_garbage(rng, ["50000"]) if rng.random() < 0.1 else None,
            client_order_id=rng.choice(["", "", "", "ok-1", "bad id", "ü", "a" * 40]),
            extras=rng.choice([{}, {}, {"selfTradePreventionMode": "NONE"}, {"price": "1"}]))
        try:
            order = validate_create(command, SPOT, exchange="binance")
        except InvalidCommand as exc:
            assert str(exc)
            continue
        accepted += 1
        for translate in (binance_orders.new_order, bybit_orders.create_args):
            try:
                translate(order, "spot")
            except InvalidCommand as exc:  # TP/SL on Binance, extras collisions
                assert str(exc)
    assert accepted > 100, accepted  # enough valid ones to exercise the translators
