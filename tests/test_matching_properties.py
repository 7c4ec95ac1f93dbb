"""Property tests of the matching engine: random operation sequences (seeded, reproducible)
checked against a naive reference matcher and against invariants after every operation.

Invariants: the book is never crossed; assets are conserved (accounts + fees + the external
market = deposits); locks equal what open orders hold; FOK is all-or-nothing; IOC and market
orders never rest; post-only orders never take; a rejected request changes nothing; client
order ids are unique among open orders; linear wallets = deposits + realized - fees and PnL
is zero-sum with the market. `hypothesis` is not a dependency of the project, so the
generator is `random.Random(seed)`: a failure names its seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from decimal import Decimal

import pytest

from ttxt_kafka.events import OrderType, Side, TimeInForce
from ttxt_kafka.matching import (
    EngineEvent,
    ExternalBook,
    FeeSchedule,
    Instrument,
    MarketKind,
    MatchingEngine,
    OrderAccepted,
    OrderRejected,
    OrderRequest,
    StpMode,
    TradeFill,
)

D = Decimal
SYM = "XY"
BUY, SELL = Side.BUY, Side.SELL
ACCOUNTS = ("a", "b", "c")

# ====================================================================== reference matcher


@dataclass
class RefOrder:
    oid: int
    side: Side
    price: Decimal
    qty: Decimal
    post_only: bool
    prio: int
    filled: Decimal = D(0)

    @property
    def remaining(self) -> Decimal:
        return self.qty - self.filled


@dataclass
class Reference:
    """The obvious, slow matcher: sort everything on every call."""

    book: dict[int, RefOrder] = field(default_factory=dict)
    next_id: int = 1
    prio: int = 0
    trades: list[tuple[int, int, Decimal, Decimal]] = field(default_factory=list)

    def _opposite(self, side: Side, limit: Decimal | None) -> list[RefOrder]:
        other = [o for o in self.book.values() if o.side is not side]
        if limit is not None:
            other = [o for o in other if (o.price <= limit if side is BUY else o.price >= limit)]
        key = (lambda o: (o.price, o.prio)) if side is BUY else (lambda o: (-o.price, o.prio))
        return sorted(other, key=key)

    def _match(self, oid: int, side: Side, limit: Decimal | None, qty: Decimal) -> Decimal:
        left = qty
        for maker in self._opposite(side, limit):
            if not left:
                break
            q = min(left, maker.remaining)
            maker.filled += q
            left -= q
            self.trades.append((maker.oid, oid, maker.price, q))
            if not maker.remaining:
                del self.book[maker.oid]
        return qty - left

    def submit(self, side: Side, limit: Decimal | None, qty: Decimal, tif: TimeInForce,
               post_only: bool) -> bool:
        if post_only and limit is not None and self._opposite(side, limit):
            return False
        oid = self.next_id
        self.next_id += 1
        fillable = sum((o.remaining for o in self._opposite(side, limit)), D(0))
        if tif is TimeInForce.FOK and fillable < qty:
            return True
        filled = self._match(oid, side, limit, qty)
        if limit is not None and tif is TimeInForce.GTC and filled < qty:
            self.prio += 1
            self.book[oid] = RefOrder(oid, side, limit, qty, post_only, self.prio, filled)
        return True

    def cancel(self, oid: int) -> bool:
        return self.book.pop(oid, None) is not None

    def amend(self, oid: int, qty: Decimal, price: Decimal) -> bool:
        order = self.book.get(oid)
        if order is None or (qty == order.qty and price == order.price) or qty <= order.filled:
            return False
        repriced = price != order.price
        if repriced and order.post_only and self._opposite(order.side, price):
            return False
        if repriced or qty > order.qty:
            self.prio += 1
            order.prio = self.prio
        order.qty, order.price = qty, price
        if repriced:
            del self.book[oid]
            order.filled += self._match(oid, order.side, price, order.remaining)
            if order.remaining:
                self.book[oid] = order
        return True

    def resting(self, side: Side) -> list[tuple[int, Decimal, Decimal]]:
        return [(o.oid, o.price, o.remaining) for o in self._opposite(
            BUY if side is SELL else SELL, None)]


def random_request(rng: random.Random, prices: list[Decimal], lots: list[Decimal],
                   cids: bool = False) -> OrderRequest:
    is_market = rng.random() < 0.15
    tif = rng.choice([TimeInForce.GTC] * 4 + [TimeInForce.IOC, TimeInForce.FOK])
    post_only = not is_market and tif is TimeInForce.GTC and rng.random() < 0.2
    return OrderRequest(
        symbol=SYM, side=rng.choice([BUY, SELL]),
        order_type=OrderType.MARKET if is_market else OrderType.LIMIT,
        qty=rng.choice(lots), price=None if is_market else rng.choice(prices),
        time_in_force=tif, post_only=post_only,
        client_order_id=f"c{rng.randrange(6)}" if cids and rng.random() < 0.5 else "")


@pytest.mark.parametrize("seed", range(40))
def test_engine_matches_like_the_reference(seed: int) -> None:
    rng = random.Random(seed)
    engine = MatchingEngine(MarketKind.SPOT)
    engine.add_instrument(Instrument(SYM, "X", "Y", tick_size=D(1), lot_size=D(1)))
    for account in ACCOUNTS:
        engine.deposit(account, "X", D(10) ** 9)
        engine.deposit(account, "Y", D(10) ** 12)
    ref = Reference()
    owners: dict[int, str] = {}
    trades: list[tuple[int, int, Decimal, Decimal]] = []
    prices = [D(p) for p in range(95, 106)]
    lots = [D(q) for q in range(1, 6)]
    for step in range(250):
        roll = rng.random()
        open_ids = sorted(ref.book)
        if roll < 0.65 or not open_ids:
            req = random_request(rng, prices, lots)
            account = rng.choice(ACCOUNTS)
            events = engine.submit(account, req)
            ok = ref.submit(req.side, req.price, req.qty, req.time_in_force, req.post_only)
            owners.update((e.order.order_id, account) for e in events
                          if isinstance(e, OrderAccepted))
        elif roll < 0.8:
            oid = rng.choice(open_ids + [999])
            events = engine.cancel(owners.get(oid, "a"), SYM, order_id=oid)
            ok = ref.cancel(oid)
        else:
            oid = rng.choice(open_ids)
            order = ref.book[oid]
            qty = order.qty + rng.choice([-2, -1, 0, 1, 2]) if rng.random() < 0.6 else order.qty
            price = rng.choice(prices) if rng.random() < 0.6 else order.price
            events = engine.amend(owners[oid], SYM, order_id=oid, new_qty=max(D(1), qty),
                                  new_price=price)
            ok = ref.amend(oid, max(D(1), qty), price)
        assert ok == (not isinstance(events[0], OrderRejected)), (seed, step, events[0])
        maker_side = [e for e in events if isinstance(e, TradeFill) and e.is_maker]
        taker_side = [e for e in events if isinstance(e, TradeFill) and not e.is_maker]
        trades += [(m.order_id, t.order_id, m.price, m.qty) for m, t in zip(
            maker_side, taker_side, strict=True)]
        assert trades == ref.trades, (seed, step)
        for side in (BUY, SELL):
            assert [(o.order_id, o.price, o.remaining) for o in engine.resting(SYM, side)] == (
                ref.resting(side)), (seed, step, side)


# ====================================================================== invariants


@dataclass
class Tracker:
    """What the events said, to compare with what the engine holds."""

    filled: dict[int, Decimal] = field(default_factory=dict)
    taker_of: dict[int, bool] = field(default_factory=dict)  # order id -> ever a taker
    requests: dict[int, OrderRequest] = field(default_factory=dict)

    def record(self, events: list[EngineEvent], request: OrderRequest | None = None) -> None:
        for event in events:
            if isinstance(event, OrderAccepted) and request is not None:
                self.requests[event.order.order_id] = request
            if isinstance(event, TradeFill):
                self.filled[event.order_id] = self.filled.get(event.order_id, D(0)) + event.qty
                if not event.is_maker:
                    self.taker_of[event.order_id] = True


def state(engine: MatchingEngine) -> tuple[object, ...]:
    """Everything a rejected request must leave unchanged."""
    balances = sorted((k, v) for k, v in engine.spot.free.items())
    locked = sorted((k, v) for k, v in engine.spot.locked.items())
    return (balances, locked, sorted(engine.wallets.items()), sorted(engine.positions.items()),
            [o for a in ACCOUNTS for o in engine.open_orders(a)],
            engine.depth(SYM), dict(engine.fees_collected), dict(engine.external_flows))


def check_not_crossed(engine: MatchingEngine, market: ExternalBook | None) -> None:
    """Our book is not crossed, nor crossed with the market's (the engine syncs every update)."""
    book = engine._books[SYM]
    assert not book.crossed()
    if market is not None:
        bid, ask = book.bids.best(), book.asks.best()
        ext_bid, ext_ask = market.best(BUY), market.best(SELL)
        assert bid is None or ext_ask is None or bid < ext_ask[0]
        assert ask is None or ext_bid is None or ask > ext_bid[0]


def check_spot(engine: MatchingEngine, tracker: Tracker, market: ExternalBook | None) -> None:
    check_not_crossed(engine, market)
    assets = ("X", "Y")
    for asset in assets:
        held = sum((sum(engine.spot.balance(a, asset), D(0)) for a in ACCOUNTS), D(0))
        deposits = sum((engine.deposits.get((a, asset), D(0)) for a in ACCOUNTS), D(0))
        assert held + engine.fees_collected.get(asset, D(0)) + engine.external_flows.get(
            asset, D(0)) == deposits, asset
    for account in ACCOUNTS:
        open_orders = engine.open_orders(account)
        for asset in assets:
            free, locked = engine.spot.balance(account, asset)
            assert free >= 0 and locked >= 0, (account, asset, free, locked)
            held = sum((engine._orders[o.order_id].reserved for o in open_orders
                        if (o.side is SELL) == (asset == "X")), D(0))
            assert locked == held, (account, asset)
        cids = [o.client_order_id for o in open_orders if o.client_order_id]
        assert len(cids) == len(set(cids))
    resting = {o.order_id for side in (BUY, SELL) for o in engine.resting(SYM, side)}
    opened = {o.order_id for a in ACCOUNTS for o in engine.open_orders(a)}
    assert resting == opened
    for oid, request in tracker.requests.items():
        order = engine._orders[oid]
        assert tracker.filled.get(oid, D(0)) == order.filled_qty <= order.qty
        if request.time_in_force is TimeInForce.FOK:
            assert order.filled_qty in (D(0), order.qty), oid
        if request.order_type is OrderType.MARKET or request.time_in_force is not (
                TimeInForce.GTC):
            assert not order.is_open
        if request.post_only:
            assert not tracker.taker_of.get(oid), oid
        if order.is_open:
            assert order.remaining > 0


def run_random_ops(engine: MatchingEngine, rng: random.Random, tracker: Tracker,
                   market: ExternalBook | None, prices: list[Decimal], lots: list[Decimal],
                   steps: int, check: object) -> None:
    for _ in range(steps):
        roll = rng.random()
        account = rng.choice(ACCOUNTS)
        before = state(engine)
        request = None
        if roll < 0.5:
            request = random_request(rng, prices, lots, cids=True)
            if engine.market is MarketKind.LINEAR and rng.random() < 0.15:
                request = replace(request, reduce_only=True)
            events = engine.submit(account, request)
        elif roll < 0.6:
            events = engine.cancel(account, SYM, client_order_id=f"c{rng.randrange(6)}")
        elif roll < 0.65:
            events = engine.cancel_all(account, rng.choice([SYM, None]))
        elif roll < 0.75:
            open_orders = engine.open_orders(account)
            if not open_orders:
                continue
            order = rng.choice(open_orders)
            events = engine.amend(account, SYM, order_id=order.order_id,
                                  new_qty=rng.choice([None, *lots]),
                                  new_price=rng.choice([None, *prices]))
        elif roll < 0.85 and market is not None:
            side = rng.choice([BUY, SELL])
            mid = prices[len(prices) // 2]
            fresh = [(p, rng.choice(lots) * 2) for p in prices
                     if (p < mid if side is BUY else p > mid) and rng.random() < 0.5]
            market.update(**{"bids" if side is BUY else "asks": fresh})
            events = engine.sync_external(SYM)
        elif roll < 0.92:
            events = engine.on_external_trade(SYM, rng.choice([BUY, SELL]), rng.choice(prices),
                                              rng.choice(lots))
        elif engine.market is MarketKind.LINEAR:
            events = engine.set_mark_price(SYM, rng.choice(prices))
        else:
            continue
        if events and isinstance(events[0], OrderRejected):
            assert len(events) == 1
            assert state(engine) == before
        tracker.record(events, request)
        check(engine, tracker, market)  # type: ignore[operator]


def new_market(rng: random.Random, prices: list[Decimal], lots: list[Decimal]) -> ExternalBook:
    mid = prices[len(prices) // 2]
    market = ExternalBook()
    market.replace(bids=[(p, rng.choice(lots)) for p in prices if p < mid],
                   asks=[(p, rng.choice(lots)) for p in prices if p > mid])
    return market


@pytest.mark.parametrize("seed", range(30))
def test_spot_invariants_hold_after_every_operation(seed: int) -> None:
    rng = random.Random(seed)
    engine = MatchingEngine(
        MarketKind.SPOT, fees=FeeSchedule(maker=D("0.001"), taker=D("0.0025")),
        stp=rng.choice(list(StpMode)), fill_on_touch=rng.random() < 0.5)
    engine.add_instrument(Instrument(SYM, "X", "Y", tick_size=D("0.5"), lot_size=D("0.01")))
    for account in ACCOUNTS:
        engine.deposit(account, "X", D(rng.randrange(1, 40)))
        engine.deposit(account, "Y", D(rng.randrange(100, 4000)))
    prices = [D("100") + D("0.5") * k for k in range(-10, 11)]
    lots = [D("0.01") * k for k in (1, 7, 50, 120, 333)]
    market = new_market(rng, prices, lots) if seed % 3 else None
    if market is not None:
        engine.set_external(SYM, market)
    run_random_ops(engine, rng, Tracker(), market, prices, lots, 300, check_spot)


def check_linear(engine: MatchingEngine, tracker: Tracker, market: ExternalBook | None) -> None:
    check_not_crossed(engine, market)
    fees_by_account: dict[str, Decimal] = {}
    for account in ACCOUNTS:
        position = engine.position(account, SYM)
        wallet = engine.wallets.get((account, "Y"), D(0))
        fees_by_account[account] = engine.deposits[(account, "Y")] + position.realized - wallet
        for order in engine.open_orders(account, SYM):
            if order.reduce_only:
                assert order.remaining <= position.closable(order.side)
    # every fee an account paid was collected, and PnL is zero-sum with the external market
    assert sum(fees_by_account.values(), D(0)) == engine.fees_collected.get("Y", D(0))
    total = sum((p.realized - p.signed_entry_value for p in engine.positions.values()), D(0))
    assert total + engine.external_flows.get("Y", D(0)) == 0
    for oid, request in tracker.requests.items():
        placed = engine._orders[oid]
        assert tracker.filled.get(oid, D(0)) == placed.filled_qty
        if request.time_in_force is TimeInForce.FOK:
            assert placed.filled_qty in (D(0), placed.qty)
        if request.post_only:
            assert not tracker.taker_of.get(oid)


@pytest.mark.parametrize("seed", range(30))
def test_linear_invariants_hold_after_every_operation(seed: int) -> None:
    rng = random.Random(1000 + seed)
    engine = MatchingEngine(MarketKind.LINEAR, leverage=D(rng.choice([1, 3, 10])),
                            fees=FeeSchedule(maker=D("-0.0001"), taker=D("0.0005")),
                            stp=rng.choice(list(StpMode)))
    engine.add_instrument(Instrument(SYM, "X", "Y", tick_size=D("0.1"), lot_size=D("0.001")))
    for account in ACCOUNTS:
        engine.deposit(account, "Y", D(rng.randrange(50, 3000)))
    prices = [D("100") + D("0.3") * k for k in range(-10, 11)]
    lots = [D("0.001") * k for k in (1, 33, 500, 1234, 3000)]
    market = new_market(rng, prices, lots) if seed % 2 else None
    if market is not None:
        engine.set_external(SYM, market)
    run_random_ops(engine, rng, Tracker(), market, prices, lots, 300, check_linear)
