"""Planning a taker's fills without changing anything.

The engine first plans what an incoming (or re-priced) order would do — which resting orders
and external levels it trades with, at what price and quantity, which of its own orders
self-trade prevention expires — then checks the plan (FOK all-or-nothing, post-only, balance or
margin) and only then applies it. A rejected request therefore never leaves a trace.

Walk order: best price first; at one price our resting orders trade before external
liquidity (their queue is known, the external one is not; it also keeps fills between our own
accounts deterministic), oldest first.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from ttxt_kafka.events import Side

from .book import BookSide
from .model import ZERO, Order, StpMode


@dataclass(slots=True)
class Fill:
    maker: Order | None  # None: external liquidity
    price: Decimal
    qty: Decimal


@dataclass(slots=True)
class StpExpire:
    maker: Order


@dataclass(slots=True)
class Plan:
    actions: list[Fill | StpExpire] = field(default_factory=list)
    filled: Decimal = ZERO
    cost: Decimal = ZERO  # sum of price * qty
    taker_stp: bool = False  # self-trade prevention stops the taker here

    @property
    def fills(self) -> list[Fill]:
        return [a for a in self.actions if isinstance(a, Fill)]


def within(side: Side, price: Decimal, limit: Decimal | None) -> bool:
    """Can a taker of `side` with `limit` (None = market) trade at `price`?"""
    if limit is None:
        return True
    return price <= limit if side is Side.BUY else price >= limit


def _better(side: Side, a: Decimal, b: Decimal) -> bool:
    """Is `a` a strictly better price than `b` for a taker of `side`?"""
    return a < b if side is Side.BUY else a > b


def _checked(side: Side, levels: Iterable[tuple[Decimal, Decimal]]
             ) -> Iterator[tuple[Decimal, Decimal]]:
    """External levels, checked to be best first for a taker of `side` (they rest opposite)."""
    last: Decimal | None = None
    for price, qty in levels:
        if last is not None and not _better(side, last, price):
            raise ValueError(f"external liquidity levels are not best first: {last} then {price}")
        last = price
        if qty > 0:
            yield price, qty


def plan_taker(account: str, side: Side, limit: Decimal | None, qty: Decimal, stp: StpMode,
               resting: BookSide, external: Iterable[tuple[Decimal, Decimal]]) -> Plan:
    """The fills a taker of `side` for `qty` would get from `resting` (the opposite side of
    our book) and `external` (the opposite side of the market book)."""
    plan = Plan()
    makers = resting.orders()
    ext = _checked(side, external)
    maker = next(makers, None)
    level = next(ext, None)
    left = qty
    while left > 0:
        fill: Fill
        maker_price = maker.price if maker is not None else None
        if maker is not None and maker_price is not None and (
                level is None or not _better(side, level[0], maker_price)):
            if not within(side, maker_price, limit):
                break
            if maker.account == account and stp is not StpMode.NONE:
                if stp in (StpMode.EXPIRE_MAKER, StpMode.EXPIRE_BOTH):
                    plan.actions.append(StpExpire(maker))
                if stp in (StpMode.EXPIRE_TAKER, StpMode.EXPIRE_BOTH):
                    plan.taker_stp = True
                    break
                maker = next(makers, None)
                continue
            fill = Fill(maker, maker_price, min(left, maker.remaining))
            maker = next(makers, None)
        elif level is not None:
            price, avail = level
            if not within(side, price, limit):
                break
            fill = Fill(None, price, min(left, avail))
            level = next(ext, None)
        else:
            break
        plan.actions.append(fill)
        left -= fill.qty
        plan.filled += fill.qty
        plan.cost += fill.qty * fill.price
    return plan
