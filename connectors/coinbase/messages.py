"""Coinbase Advanced Trade public messages, as typed msgspec Structs (see
`connectors/base/normalizer`).

Every WS message is `{"channel": C, "client_id": "", "timestamp": RFC 3339 ns,
"sequence_num": n, "events": [...]}`. The channel is the tag: one decoder reads any data
message in one pass. Only the fields the normalizer uses are declared; prices and quantities
must be JSON strings (a number is refused, never turned into a float).
"""

from __future__ import annotations

from typing import Literal

from msgspec import Struct


class L2Update(Struct, gc=False, array_like=False):
    side: Literal["bid", "offer"]
    price_level: str
    new_quantity: str  # the absolute size at that price; "0" removes it


class L2Event(Struct, gc=False):
    type: Literal["snapshot", "update"]
    product_id: str
    updates: list[L2Update]


class L2Message(Struct, gc=False, tag_field="channel", tag="l2_data"):
    timestamp: str
    sequence_num: int
    events: list[L2Event]


class MarketTrade(Struct, gc=False):
    product_id: str
    trade_id: str
    price: str
    size: str
    time: str
    side: Literal["BUY", "SELL"]  # the maker's side, per Coinbase's docs (see normalizer)


class TradesEvent(Struct, gc=False):
    type: Literal["snapshot", "update"]
    trades: list[MarketTrade]


class TradesMessage(Struct, gc=False, tag_field="channel", tag="market_trades"):
    timestamp: str
    sequence_num: int
    events: list[TradesEvent]


class Candle(Struct, gc=False):
    start: str  # seconds
    high: str
    low: str
    open: str
    close: str
    volume: str
    product_id: str


class CandlesEvent(Struct, gc=False):
    type: Literal["snapshot", "update"]
    candles: list[Candle]


class CandlesMessage(Struct, gc=False, tag_field="channel", tag="candles"):
    timestamp: str
    sequence_num: int
    events: list[CandlesEvent]


class Ticker(Struct, gc=False):
    product_id: str
    best_bid: str
    best_bid_quantity: str
    best_ask: str
    best_ask_quantity: str


class TickerEvent(Struct, gc=False):
    type: Literal["snapshot", "update"]
    tickers: list[Ticker]


class TickerMessage(Struct, gc=False, tag_field="channel", tag="ticker"):
    timestamp: str
    sequence_num: int
    events: list[TickerEvent]


class ControlMessage(Struct, gc=False, tag_field="channel", tag="heartbeats"):
    """Heartbeats: no events for the topics; their sequence_num is checked all the same."""

    sequence_num: int


class SubscriptionsMessage(Struct, gc=False, tag_field="channel", tag="subscriptions"):
    sequence_num: int


PublicMessage = (L2Message | TradesMessage | CandlesMessage | TickerMessage | ControlMessage
                 | SubscriptionsMessage)


class Product(Struct, gc=False):
    """One entry of GET /api/v3/brokerage/market/products."""

    product_id: str
    base_currency_id: str
    quote_currency_id: str
    base_increment: str
    quote_increment: str
    base_min_size: str
    base_max_size: str
    quote_min_size: str
    status: str = "online"
    trading_disabled: bool = False
    is_disabled: bool = False
    cancel_only: bool = False
    product_type: str = "SPOT"
    price_increment: str = ""


class ProductsResponse(Struct, gc=False):
    products: list[Product]
