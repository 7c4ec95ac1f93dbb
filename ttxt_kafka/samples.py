"""One realistic instance of every event type: for the demo, the tests and the benchmarks."""

from __future__ import annotations

from typing import Any

from ttxt_kafka.events import (
    BBO,
    AckStatus,
    AmendOrder,
    Balance,
    CancelAllOrders,
    CancelOrder,
    CommandType,
    ConnectorState,
    ConnectorStatus,
    CreateOrder,
    Event,
    Fill,
    InstrumentInfo,
    Kline,
    MarketType,
    OrderAck,
    OrderBook,
    OrderStatus,
    OrderType,
    OrderUpdate,
    PositionSide,
    PositionUpdate,
    Side,
    TimeInForce,
    Trade,
    Trades,
    UpdateType,
    Wallet,
)

T0 = 1_700_000_000_123_456  # µs


def header(venue: str = "binance", symbol: str = "BTC/USDT", native: str = "BTCUSDT",
           seq: int | None = None) -> dict[str, Any]:
    return dict(venue=venue, symbol=symbol, native_symbol=native, exchange_ts=T0,
                receive_ts=T0 + 850, sequence=seq)


def all_samples() -> list[Event]:
    h = header
    return [
        OrderBook(**h(seq=1027024), update_type=UpdateType.DELTA,
                  bids=[["60000.10000000", "1.50000000"], ["59999.9", "0"]],
                  asks=[["60000.2", "0.001"]], first_sequence=1027020, prev_sequence=1027019),
        OrderBook(**h(venue="bybit_linear", seq=7), update_type=UpdateType.SNAPSHOT,
                  bids=[["0.000001234", "1000000"]], asks=[["0.000001240", "2"]], depth=50,
                  checksum=-855196043),
        Trades(**h(), trades=[
            Trade(trade_id="12345", price="60000.1", qty="0.01", side=Side.BUY, exchange_ts=T0),
            Trade(trade_id="12346", price="60000.0", qty="0.5", side=Side.SELL, exchange_ts=T0 + 1),
            Trade(trade_id="12347", price="59999.99", qty="2", side=Side.UNKNOWN,
                  exchange_ts=T0 + 2),
        ]),
        Kline(**h(), interval="1m", open_time=T0, close_time=T0 + 59_999_000, open="60000.1",
              high="60100", low="59950.5", close="60050.25", volume="12.345",
              quote_volume="741000.5", trade_count=321, closed=True),
        BBO(**h(seq=400900217), bid_price="25.35190000", bid_qty="31.21000000",
            ask_price="25.36520000", ask_qty="40.66000000"),
        ConnectorStatus(**h(symbol=""), stream="public", status=ConnectorState.BOOK_RESYNC,
                        reason="gap: U=101 after u=99"),
        InstrumentInfo(**h(), market_type=MarketType.SPOT, base="BTC", quote="USDT",
                       trading=True, tick_size="0.01", lot_size="0.00001", min_qty="0.00001",
                       max_qty="9000", min_notional="5"),
        CreateOrder(**h(), command_id="c-1", client_order_id="my-1", side=Side.BUY,
                    order_type=OrderType.LIMIT, time_in_force=TimeInForce.IOC, post_only=False,
                    qty="0.010", price="60000.1", take_profit="65000", stop_loss="55000",
                    extras={"selfTradePreventionMode": "EXPIRE_MAKER"}),
        CancelOrder(**h(), command_id="c-2", client_order_id="my-1"),
        AmendOrder(**h(), command_id="c-3", order_id="98765", new_price="60001.5",
                   new_qty="0.02"),
        CancelAllOrders(**h(symbol=""), command_id="c-4"),
        OrderAck(**h(), command_id="c-1", command_type=CommandType.CREATE,
                 client_order_id="my-1", order_id="98765", status=AckStatus.REJECTED,
                 reason="price 60000.123 is not a multiple of tick 0.1", error_code="-1013"),
        OrderUpdate(**h(), client_order_id="my-1", order_id="98765", side=Side.BUY,
                    order_type=OrderType.LIMIT, status=OrderStatus.PARTIALLY_FILLED,
                    price="60000.1", qty="0.010", filled_qty="0.004", avg_price="60000.1",
                    created_ts=T0 - 5),
        Fill(**h(), client_order_id="my-1", order_id="98765", trade_id="t-1", side=Side.BUY,
             price="60000.1", qty="0.004", fee="0.000004", fee_currency="BTC", is_maker=True),
        Wallet(**h(symbol="", native=""), account_type="SPOT", is_snapshot=True, balances=[
            Balance(asset="BTC", total="1.00000000", available="0.99", locked="0.01"),
            Balance(asset="USDT", total="1000.5", available="1000.5"),
        ]),
        PositionUpdate(**h(venue="bybit_linear"), side=PositionSide.LONG, size="0.5",
                       entry_price="59000", mark_price="60000.1", unrealized_pnl="500.05",
                       leverage="10", liquidation_price="53000.5"),
    ]
