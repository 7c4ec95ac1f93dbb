"""Seeded random order flow for one symbol: each step changes a valid book a little.

A step is: maybe one taker trade against the best level as the book stood before the step, then
one to three limit-order adds or cancels near the top. The book never crosses, both sides keep
at least `min_levels` levels and at most `max_levels`. The same seed and symbol always produce
the same steps, whatever is subscribed and however fast the loop runs.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from ttxt_kafka.simulator.market.book import Book, Side
from ttxt_kafka.simulator.market.instruments import Instrument

TRADE_PROBABILITY = 0.3
ADD_PROBABILITY = 0.6  # of a non-trade change; the rest are cancels


@dataclass(slots=True)
class Trade:
    price: int  # ticks
    qty: int  # lots
    taker_buy: bool
    number: int  # 1, 2, ... per symbol


@dataclass(slots=True)
class FlowStep:
    number: int  # 1, 2, ... per symbol
    bids: dict[int, int]  # changed bid levels: price -> new quantity (0 = removed)
    asks: dict[int, int]
    trade: Trade | None
    ts_ms: int
    top_changed: bool

    @property
    def changes(self) -> int:
        return len(self.bids) + len(self.asks)


class OrderFlow:
    def __init__(
        self,
        inst: Instrument,
        seed: int,
        levels: int = 50,
        min_levels: int = 10,
        max_levels: int = 300,
    ) -> None:
        self.inst = inst
        self.rng = random.Random(f"{seed}:{inst.symbol}")  # str seeds are stable across runs
        self.book = Book()
        self.min_levels = min_levels
        self.max_levels = max(max_levels, levels)
        self.steps = 0
        self.trades = 0
        self._seed_book(levels)

    def _seed_book(self, levels: int) -> None:
        rng, mid = self.rng, self.inst.start_ticks
        bid, ask = mid - 1, mid + 1
        for _ in range(levels):
            self.book.bids.set(bid, rng.randint(1, self.inst.max_lots))
            self.book.asks.set(ask, rng.randint(1, self.inst.max_lots))
            bid -= rng.randint(1, 3)
            ask += rng.randint(1, 3)
            if bid < 1:
                break

    def step(self, ts_ms: int) -> FlowStep:
        rng, book = self.rng, self.book
        self.steps += 1
        before = book.top_of_book()
        changes: tuple[dict[int, int], dict[int, int]] = ({}, {})
        trade = None
        if rng.random() < TRADE_PROBABILITY:
            trade = self._trade(changes)
        for _ in range(rng.randint(1, 3)):
            is_bid = rng.random() < 0.5
            side = book.bids if is_bid else book.asks
            out = changes[0] if is_bid else changes[1]
            if rng.random() < ADD_PROBABILITY or len(side) <= self.min_levels:
                self._add(side, out)
            else:
                self._cancel(side, out)
        for side, out in ((book.bids, changes[0]), (book.asks, changes[1])):
            while len(side) > self.max_levels:  # keep the book bounded: drop the far end
                price = side.worst()
                side.set(price, 0)
                out[price] = 0
            while len(side) < self.min_levels:
                self._add(side, out)
        return FlowStep(
            self.steps, changes[0], changes[1], trade, ts_ms, book.top_of_book() != before
        )

    def _trade(self, changes: tuple[dict[int, int], dict[int, int]]) -> Trade:
        rng = self.rng
        taker_buy = rng.random() < 0.5
        side = self.book.asks if taker_buy else self.book.bids
        price = side.best()
        assert price is not None
        level = side.levels[price]
        qty = rng.randint(1, level)
        side.set(price, level - qty)
        (changes[1] if taker_buy else changes[0])[price] = level - qty
        self.trades += 1
        return Trade(price, qty, taker_buy, self.trades)

    def _add(self, side: Side, out: dict[int, int]) -> None:
        rng = self.rng
        offset = min(int(rng.expovariate(0.15)), 3 * self.max_levels)
        qty = rng.randint(1, self.inst.max_lots)
        if side.is_bid:
            ask = self.book.asks.best()
            ref = ask if ask is not None else (side.best() or self.inst.start_ticks) + 2
            price = max(1, ref - 1 - offset)
            if ask is not None and price >= ask:
                return  # no room below a one-tick ask: skip rather than cross
        else:
            bid = self.book.bids.best()
            ref = bid if bid is not None else (side.best() or self.inst.start_ticks) - 2
            price = ref + 1 + offset
        side.set(price, qty)
        out[price] = qty

    def _cancel(self, side: Side, out: dict[int, int]) -> None:
        rank = min(int(self.rng.expovariate(0.1)), len(side) - 1)
        price = side.at_rank(rank)
        side.set(price, 0)
        out[price] = 0
