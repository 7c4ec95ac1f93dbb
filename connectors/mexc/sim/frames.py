"""MEXC's protobuf pushes, built from plain values: what the synthetic market and the capture
dialect send (one place that knows the wrapper's shape on the sending side)."""

from __future__ import annotations

from collections.abc import Iterable

from ttxt_kafka.connectors.mexc import endpoints as ep
from ttxt_kafka.connectors.mexc.pb.PushDataV3ApiWrapper_pb2 import PushDataV3ApiWrapper

Levels = Iterable[tuple[str, str]]


def depth(channel: str, symbol: str, ms: int, first: int, last: int, bids: Levels,
          asks: Levels) -> bytes:
    push = PushDataV3ApiWrapper(channel=channel, symbol=symbol, sendTime=ms)
    d = push.publicAggreDepths
    for price, qty in asks:
        d.asks.add(price=price, quantity=qty)
    for price, qty in bids:
        d.bids.add(price=price, quantity=qty)
    d.eventType = f"{ep.DEPTH}@{ep.SPEED}"
    d.fromVersion, d.toVersion = str(first), str(last)
    return push.SerializeToString()


def deals(channel: str, symbol: str, ms: int,
          items: Iterable[tuple[str, str, bool, int, str]]) -> bytes:
    """`items`: (price, qty, taker buys, time ms, trade id)."""
    push = PushDataV3ApiWrapper(channel=channel, symbol=symbol, sendTime=ms)
    d = push.publicAggreDeals
    for price, qty, taker_buy, t, tid in items:
        d.deals.add(price=price, quantity=qty, tradeType=1 if taker_buy else 2, time=t,
                    tradeId=tid)
    d.eventType = f"{ep.DEALS}@{ep.SPEED}"
    return push.SerializeToString()


def book_ticker(channel: str, symbol: str, ms: int, bid: tuple[str, str], ask: tuple[str, str],
                version: int) -> bytes:
    push = PushDataV3ApiWrapper(channel=channel, symbol=symbol, sendTime=ms)
    t = push.publicAggreBookTicker
    t.bidPrice, t.bidQuantity = bid
    t.askPrice, t.askQuantity = ask
    t.version = str(version)
    return push.SerializeToString()


def kline(channel: str, symbol: str, ms: int, interval: str, start_s: int, end_s: int,
          ohlc: tuple[str, str, str, str], volume: str, amount: str) -> bytes:
    push = PushDataV3ApiWrapper(channel=channel, symbol=symbol, sendTime=ms)
    k = push.publicSpotKline
    k.interval, k.windowStart, k.windowEnd = interval, start_s, end_s
    k.openingPrice, k.highestPrice, k.lowestPrice, k.closingPrice = ohlc
    k.volume, k.amount = volume, amount
    return push.SerializeToString()
