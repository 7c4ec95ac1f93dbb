"""Readers of the simulator's own market for the matching engine's external liquidity
(`ttxt_kafka.matching.LiveBook`): the synthetic market's book as it stands, or the
venue's REST
snapshot body of any other feed (a capture)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from ttxt_kafka.matching.live import Levels, Reader
from ttxt_kafka.simulator.feeds import Feed, UnknownSymbol
from ttxt_kafka.simulator.synthetic import SyntheticFeed

DEPTH = 100  # levels per side offered as liquidity


def reader_for(feed: Feed, symbol: str) -> Reader:
    """How to read `symbol`'s current book from this feed."""
    if isinstance(feed, SyntheticFeed):
        market = feed.markets[symbol]
        inst, book = market.inst, market.flow.book

        def read_synthetic() -> tuple[Levels, Levels]:
            bids, asks = ({Decimal(inst.price(p)): Decimal(inst.qty(q)) for p, q in side.top(DEPTH)}
                          for side in (book.bids, book.asks))
            return bids, asks

        return read_synthetic

    def read_snapshot() -> tuple[Levels, Levels]:
        try:
            return _parse_depth(feed.depth_body(symbol, 1000, None))
        except UnknownSymbol:  # listed, but the capture has no book of it: no liquidity
            return {}, {}

    return read_snapshot


def _parse_depth(body: str) -> tuple[Levels, Levels]:
    """A Binance (`bids`/`asks`) or Bybit (`result.b`/`result.a`) REST depth body."""
    d: Any = json.loads(body)
    if "result" in d:
        d = d["result"]
        bids, asks = d["b"], d["a"]
    else:
        bids, asks = d["bids"], d["asks"]
    return ({Decimal(p): Decimal(q) for p, q in bids[:DEPTH]},
            {Decimal(p): Decimal(q) for p, q in asks[:DEPTH]})
