"""Drive cryptofeed's order book the way cryptofeed's own feeds apply deltas.

cryptofeed keeps one ``cryptofeed.types.OrderBook`` (Cython) per symbol; its ``.book`` is
``order_book.OrderBook`` (bmoscon's C sorted dicts, PyPI ``order-book``). Every exchange handler
applies a delta level by level, e.g. ``Binance._book`` (cryptofeed/exchanges/binance.py)::

    price = Decimal(update[0]); amount = Decimal(update[1])
    if amount == 0:
        if price in self._l2_book[pair].book[side]:
            del self._l2_book[pair].book[side][price]
    else:
        self._l2_book[pair].book[side][price] = amount

``apply()`` below is that loop. Differences, all in cryptofeed's favour and the same for every
library in this bench: the ``Decimal(...)`` parsing is done once in ``prepare()`` (untimed), and
the handler's per-message extras (sequence check, building the ``delta`` dict for callbacks, the
callback itself) are left out — this bench times book maintenance only. The starting book is
built like ``Binance._snapshot`` does: ``OrderBook(..., bids={Decimal: Decimal}, asks=...)``,
``max_depth=0`` (the feed default: unlimited).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from benchmarks.data import BookData, Level

DecLevels = list[tuple[Decimal, Decimal]]


@dataclass
class CryptofeedState:
    book: Any  # cryptofeed.types.OrderBook
    deltas: list[tuple[DecLevels, DecLevels]]  # (bids, asks) per delta
    bid: str  # cryptofeed.defines.BID
    ask: str  # cryptofeed.defines.ASK


def _dec(levels: list[Level]) -> DecLevels:
    return [(Decimal(p), Decimal(q)) for p, q in levels]


def prepare(data: BookData) -> CryptofeedState:
    """Untimed: parse strings to Decimal and build the starting book."""
    from cryptofeed.defines import ASK, BID
    from cryptofeed.types import OrderBook

    book = OrderBook(
        "BINANCE",
        "BTC-USDT",
        bids=dict(_dec(data.snapshot_bids)),
        asks=dict(_dec(data.snapshot_asks)),
    )
    deltas = [(_dec(d.bids), _dec(d.asks)) for d in data.deltas]
    return CryptofeedState(book, deltas, BID, ASK)


def apply(state: CryptofeedState) -> None:
    """Timed: cryptofeed's per-level delta loop (see the module docstring)."""
    book = state.book.book
    bid, ask = state.bid, state.ask
    for bids, asks in state.deltas:
        for side, updates in ((bid, bids), (ask, asks)):
            for price, amount in updates:
                if amount == 0:
                    if price in book[side]:
                        del book[side][price]
                else:
                    book[side][price] = amount


def levels(state: CryptofeedState) -> tuple[DecLevels, DecLevels]:
    """The book, best first (``to_dict()`` keeps sorted order: bids descending)."""
    book = state.book.book
    return list(book[state.bid].to_dict().items()), list(book[state.ask].to_dict().items())
