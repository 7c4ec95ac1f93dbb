"""Kraken WS v2 public messages as typed msgspec structs (what the normalizer reads).

Prices and quantities are JSON numbers: they decode straight into `Decimal` (msgspec keeps the
digits as sent; no float is ever made) and the normalizer writes them with the pair's precision.
"""

from __future__ import annotations

from decimal import Decimal

from msgspec import Struct


class Level(Struct, gc=False):
    price: Decimal
    qty: Decimal


class BookData(Struct, gc=False):
    symbol: str
    bids: list[Level] = []
    asks: list[Level] = []
    checksum: int | None = None
    timestamp: str | None = None


class BookPush(Struct, gc=False):
    channel: str
    type: str
    data: list[BookData]


class TradeData(Struct, gc=False):
    symbol: str
    side: str
    price: Decimal
    qty: Decimal
    trade_id: int
    timestamp: str
    ord_type: str = ""


class TradePush(Struct, gc=False):
    channel: str
    type: str
    data: list[TradeData]


class TickerData(Struct, gc=False):
    symbol: str
    bid: Decimal
    bid_qty: Decimal
    ask: Decimal
    ask_qty: Decimal


class TickerPush(Struct, gc=False):
    channel: str
    type: str
    data: list[TickerData]


class OhlcData(Struct, gc=False):
    symbol: str
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    interval_begin: str
    interval: int
    timestamp: str | None = None


class OhlcPush(Struct, gc=False):
    channel: str
    type: str
    data: list[OhlcData]
