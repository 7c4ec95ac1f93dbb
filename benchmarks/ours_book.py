"""Drive ttxt-kafka's `Book` with `OrderBook` events, as a consumer of the book topic does.

The events carry the exchange's decimal strings (what a decoded record holds); parsing them is
inside the timed region — unlike the cryptofeed adapter, which gets pre-parsed Decimals.
"""

from __future__ import annotations

from decimal import Decimal

from benchmarks.data import BookData
from ttxt_kafka.book import Book
from ttxt_kafka.events import OrderBook, UpdateType

State = tuple[Book, list[OrderBook]]


def _event(kind: UpdateType, bids: list[tuple[str, str]], asks: list[tuple[str, str]],
           seq: int) -> OrderBook:
    return OrderBook(venue="binance", symbol="BTC/USDT", exchange_ts=seq, receive_ts=seq,
                     sequence=seq, update_type=kind, bids=list(bids), asks=list(asks))


def prepare(data: BookData) -> State:
    book = Book()
    book.update(_event(UpdateType.SNAPSHOT, data.snapshot_bids, data.snapshot_asks, 0))
    deltas = [_event(UpdateType.DELTA, d.bids, d.asks, i) for i, d in enumerate(data.deltas, 1)]
    return book, deltas


def apply(state: State) -> None:
    book, deltas = state
    update = book.update
    for delta in deltas:
        update(delta)


def levels(state: State) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
    book = state[0]
    return ([(Decimal(p), Decimal(q)) for p, q in book.bids()],
            [(Decimal(p), Decimal(q)) for p, q in book.asks()])
