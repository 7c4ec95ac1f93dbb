"""The matching engine: price-time priority books, fills with fees, balances and positions.

One engine is one venue's matching: spot (assets change hands, free/locked balances) or linear
perpetuals (quote margin, net positions). It is synchronous and deterministic: the same calls
give the same events, ids and balances (order and trade ids count from 1; time comes from the
`clock` given, else a logical clock that ticks once per operation).

Every mutating call returns the events it caused (see `events.py`) and is atomic: a rejected
request returns one `OrderRejected` and changes nothing. Arithmetic is exact: each call runs in
a decimal context that traps any rounding, and the few deliberate roundings (linear margins,
released cost) name their own context.

Behaviour where exchanges differ or the issue was silent (documented for the protocol layers):

* Client order ids are unique among an account's open orders of a symbol; a duplicate is
  rejected. An empty id is allowed and not indexed (the protocol layer may generate one).
* Post-only that would take is rejected (Binance spot LIMIT_MAKER; Binance USD-M GTX and Bybit
  PostOnly instead accept and expire it: the protocol can render a rejection that way).
* FOK that cannot fill completely, IOC and market remainders: accepted, then EXPIRED.
* Amend: new quantity is the order's new total (as Bybit and Binance USD-M). A price change or a
  quantity increase sends the order to the back of its (new) level; a decrease keeps its place.
  A re-priced order that crosses trades as a taker (a post-only one is rejected instead).
  Amending to a quantity not above the filled quantity, or to the same values, is rejected.
* Self-trade prevention uses the taker's mode (the engine default unless the request names one).
* External liquidity (`external.py`): an incoming order trades with our resting orders first at
  each price, then with the market's book. Resting orders fill from the market through
  `on_external_trade` (a trade through their price; at their price only with `fill_on_touch`,
  since they queue behind the visible size) and `sync_external` (the market book moved across
  them); they are makers and fill at their own price.
* Linear: one-way mode; margin as described in `linear.py`; reduce-only must reduce at placement
  and is expired when the position no longer covers it (as Binance cancels them). TP/SL,
  liquidation and funding are not simulated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Context as DecimalContext
from decimal import Decimal, DivisionByZero, Inexact, InvalidOperation, Overflow, localcontext
from functools import wraps
from typing import Any, ParamSpec, TypeVar

from ttxt_kafka.events import OrderStatus, OrderType, Side, TimeInForce
from ttxt_kafka.orders.filters import (
    Filters,
    amount_problem,
    notional_problem,
    price_problem,
    qty_problem,
)

from .book import RestingBook
from .events import (
    BalanceChanged,
    EngineEvent,
    OrderAccepted,
    OrderRejected,
    OrderUpdated,
    PositionChanged,
    TradeFill,
)
from .external import ExternalLiquidity
from .fees import FeeSchedule, fee_for
from .linear import Position, initial_margin
from .model import (
    ZERO,
    Action,
    ExecType,
    Instrument,
    MarketKind,
    Order,
    OrderRequest,
    OrderState,
    Reason,
    StpMode,
    opposite,
)
from .plan import Fill, Plan, StpExpire, plan_taker, within
from .spot import SpotLedger

EXACT = DecimalContext(prec=200, traps=[InvalidOperation, DivisionByZero, Overflow, Inexact])

P = ParamSpec("P")
R = TypeVar("R")
E = TypeVar("E", bound=EngineEvent)


def _exact(fn: Callable[P, R]) -> Callable[P, R]:
    """Run `fn` where any inexact decimal operation raises instead of rounding silently."""

    @wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        with localcontext(EXACT):
            return fn(*args, **kwargs)

    return run


class _Op:
    """One engine call: its time, its events, and what balances/positions it touched."""

    __slots__ = ("ts", "events", "assets", "positions")

    def __init__(self, ts: int) -> None:
        self.ts = ts
        self.events: list[EngineEvent] = []
        self.assets: dict[tuple[str, str], None] = {}  # ordered sets
        self.positions: dict[tuple[str, str], None] = {}


class MatchingEngine:
    def __init__(
        self,
        market: MarketKind = MarketKind.SPOT,
        *,
        fees: FeeSchedule | None = None,
        stp: StpMode = StpMode.NONE,
        leverage: Decimal = Decimal(1),
        settle_decimals: int = 8,
        fill_on_touch: bool = False,
        clock: Callable[[], int] | None = None,
    ) -> None:
        self.market = market
        self.fees = fees or FeeSchedule()
        self.account_fees: dict[str, FeeSchedule] = {}
        self.stp = stp
        self.default_leverage = leverage
        self.quantum = Decimal(1).scaleb(-settle_decimals)
        self.fill_on_touch = fill_on_touch
        self._clock = clock
        self._ticks = 0
        self._seq = 0
        self._next_order_id = 1
        self._next_trade_id = 1
        self._priority = 0
        self.instruments: dict[str, Instrument] = {}
        self._books: dict[str, RestingBook] = {}
        self._external: dict[str, ExternalLiquidity] = {}
        self._orders: dict[int, Order] = {}  # every order ever, by id
        self._open: dict[int, Order] = {}
        self._open_cids: dict[tuple[str, str, str], int] = {}  # (account, symbol, cid) -> id
        self._cid_history: dict[tuple[str, str, str], int] = {}  # latest order with that cid
        self.spot = SpotLedger()
        self.wallets: dict[tuple[str, str], Decimal] = {}  # linear: (account, asset) -> wallet
        self.positions: dict[tuple[str, str], Position] = {}  # linear: (account, symbol)
        self.leverage: dict[tuple[str, str], Decimal] = {}
        self.deposits: dict[tuple[str, str], Decimal] = {}
        self.fees_collected: dict[str, Decimal] = {}
        # What the external market gave (-) and received (+): spot per asset; linear per quote
        # asset, the cash side of its trades with us (it pays for what it buys).
        self.external_flows: dict[str, Decimal] = {}
        self.last_price: dict[str, Decimal] = {}
        self.mark_price: dict[str, Decimal] = {}

    # ================================================================== setup

    def add_instrument(self, instrument: Instrument) -> None:
        self.instruments[instrument.symbol] = instrument
        self._books.setdefault(instrument.symbol, RestingBook())

    def set_external(self, symbol: str, source: ExternalLiquidity | None) -> None:
        """Attach (or detach with None) the market's own book for `symbol`."""
        if source is None:
            self._external.pop(symbol, None)
        else:
            self._external[symbol] = source

    def set_fees(self, account: str, fees: FeeSchedule) -> None:
        """Per-account rates (fee tiers); others use the engine's."""
        self.account_fees[account] = fees

    @_exact
    def deposit(self, account: str, asset: str, amount: Decimal) -> list[EngineEvent]:
        if amount <= 0:
            raise ValueError(f"deposit must be positive: {amount}")
        op = self._begin()
        key = (account, asset)
        self.deposits[key] = self.deposits.get(key, ZERO) + amount
        if self.market is MarketKind.SPOT:
            self.spot.credit(account, asset, amount)
        else:
            self.wallets[key] = self.wallets.get(key, ZERO) + amount
        op.assets[key] = None
        return self._end_op(op)

    @_exact
    def set_leverage(self, account: str, symbol: str, leverage: Decimal) -> list[EngineEvent]:
        if self.market is not MarketKind.LINEAR:
            raise ValueError("leverage applies to linear markets only")
        if leverage <= 0:
            raise ValueError(f"leverage must be positive: {leverage}")
        op = self._begin()
        self.leverage[(account, symbol)] = leverage
        op.assets[(account, self.instruments[symbol].quote)] = None
        op.positions[(account, symbol)] = None
        return self._end_op(op)

    @_exact
    def set_mark_price(self, symbol: str, price: Decimal) -> list[EngineEvent]:
        """A new mark price; every position in `symbol` reports its unrealized PnL."""
        op = self._begin()
        self.mark_price[symbol] = price
        for (account, sym) in self.positions:
            if sym == symbol:
                op.positions[(account, sym)] = None
        return self._end_op(op)

    # ================================================================== orders

    @_exact
    def submit(self, account: str, request: OrderRequest) -> list[EngineEvent]:
        op = self._begin()
        inst = self.instruments.get(request.symbol)
        problem = self._check_new(account, request, inst)
        if problem is not None:
            return self._reject(op, Action.CREATE, account, request.symbol, *problem,
                                client_order_id=request.client_order_id)
        assert inst is not None
        side, qty = request.side, request.qty
        is_limit = request.order_type is OrderType.LIMIT
        limit = request.price if is_limit else None
        stp = request.stp or self.stp
        if request.post_only and self._crosses(request.symbol, side, limit):
            return self._reject(op, Action.CREATE, account, request.symbol,
                                Reason.POST_ONLY_WOULD_TAKE,
                                "post-only order would immediately match and take",
                                client_order_id=request.client_order_id)
        plan = self._plan(account, request.symbol, side, limit, qty, stp)
        fok_fails = request.time_in_force is TimeInForce.FOK and plan.filled < qty
        rests = (is_limit and request.time_in_force is TimeInForce.GTC and not plan.taker_stp)
        rest_qty = qty - plan.filled if rests else ZERO
        problem = self._check_funds(account, inst, request, plan, rest_qty, fok_fails)
        if problem is not None:
            return self._reject(op, Action.CREATE, account, request.symbol, *problem,
                                client_order_id=request.client_order_id)

        order = self._new_order(account, request, stp, op.ts)
        op.events.append(self._event(OrderAccepted, op, order=order.snapshot()))
        self._hold(op, order, inst)
        if fok_fails:
            self._close(op, order, inst, OrderStatus.EXPIRED, ExecType.EXPIRED,
                        Reason.FOK_NOT_FILLED)
            return self._end_op(op)
        self._execute(op, order, inst, plan)
        self._settle_taker(op, order, inst, plan)
        return self._end_op(op)

    @_exact
    def cancel(self, account: str, symbol: str, *, order_id: int | None = None,
               client_order_id: str | None = None) -> list[EngineEvent]:
        op = self._begin()
        order = self._find_open(account, symbol, order_id, client_order_id)
        if order is None:
            return self._reject(op, Action.CANCEL, account, symbol, Reason.UNKNOWN_ORDER,
                                "unknown order", client_order_id=client_order_id or "",
                                order_id=order_id)
        self._close(op, order, self.instruments[symbol], OrderStatus.CANCELED, ExecType.CANCELED)
        return self._end_op(op)

    @_exact
    def cancel_all(self, account: str, symbol: str | None = None) -> list[EngineEvent]:
        """Cancel the account's open orders (of one symbol, or all); none open -> no events."""
        op = self._begin()
        for order in [o for o in self._open.values() if o.account == account
                      and (symbol is None or o.symbol == symbol)]:
            self._close(op, order, self.instruments[order.symbol], OrderStatus.CANCELED,
                        ExecType.CANCELED)
        return self._end_op(op)

    @_exact
    def amend(self, account: str, symbol: str, *, order_id: int | None = None,
              client_order_id: str | None = None, new_qty: Decimal | None = None,
              new_price: Decimal | None = None) -> list[EngineEvent]:
        op = self._begin()

        def reject(reason: Reason, message: str) -> list[EngineEvent]:
            return self._reject(op, Action.AMEND, account, symbol, reason, message,
                                client_order_id=client_order_id or "", order_id=order_id)

        order = self._find_open(account, symbol, order_id, client_order_id)
        if order is None:
            return reject(Reason.UNKNOWN_ORDER, "unknown order")
        inst = self.instruments[symbol]
        qty = order.qty if new_qty is None else new_qty
        price = order.price if new_price is None else new_price
        assert price is not None  # only limit orders rest
        problem = _check_qty(qty, inst) or _check_price(price, inst) or _check_notional(
            qty, price, inst)
        if problem is not None:
            return reject(*problem)
        if qty == order.qty and price == order.price:
            return reject(Reason.AMEND_NO_CHANGE, "order is unchanged")
        if qty <= order.filled_qty:
            return reject(Reason.AMEND_QTY_TOO_LOW,
                          f"new quantity {qty} is not above the filled quantity "
                          f"{order.filled_qty}")
        repriced = price != order.price
        loses_place = repriced or qty > order.qty
        remaining = qty - order.filled_qty
        if repriced and order.post_only and self._crosses(symbol, order.side, price):
            return reject(Reason.POST_ONLY_WOULD_TAKE,
                          "post-only order would immediately match and take")
        plan = (self._plan(account, symbol, order.side, price, remaining, order.stp)
                if repriced else Plan())
        rest_qty = ZERO if plan.taker_stp else remaining - plan.filled
        problem = self._check_amend_funds(order, inst, qty, price, plan, rest_qty)
        if problem is not None:
            return reject(*problem)

        side_book = self._books[symbol].side(order.side)
        if loses_place:
            side_book.remove(order)
        if self.market is MarketKind.SPOT:
            self.spot.release(order, inst)
        order.qty, order.price, order.updated_ts = qty, price, op.ts
        self._hold(op, order, inst)
        op.events.append(self._event(OrderUpdated, op, order=order.snapshot(),
                                     exec_type=ExecType.AMENDED))
        if loses_place:
            self._execute(op, order, inst, plan)
            self._settle_taker(op, order, inst, plan)
        return self._end_op(op)

    # ================================================================== the external market

    @_exact
    def on_external_trade(self, symbol: str, aggressor: Side, price: Decimal,
                          qty: Decimal) -> list[EngineEvent]:
        """A market trade of `qty` at `price` whose taker was on `aggressor`'s side: it fills
        our resting orders on the other side that it went through (see `fill_on_touch`)."""
        op = self._begin()
        inst = self.instruments[symbol]
        resting = self._books[symbol].side(opposite(aggressor))
        left = qty
        for maker in resting.orders():
            assert maker.price is not None
            through = maker.price > price if maker.side is Side.BUY else maker.price < price
            if not (through or (self.fill_on_touch and maker.price == price)) or left <= 0:
                break
            q = min(left, maker.remaining)
            self._fill_from_market(op, maker, inst, q)
            left -= q
        return self._end_op(op)

    @_exact
    def sync_external(self, symbol: str) -> list[EngineEvent]:
        """Fill our resting orders that the market's book now crosses, as makers at their
        price, against (and depleting) the crossing external levels."""
        op = self._begin()
        source = self._external.get(symbol)
        if source is None:
            return []
        inst = self.instruments[symbol]
        for our_side in (Side.BUY, Side.SELL):
            resting = self._books[symbol].side(our_side)
            best = resting.best()
            if best is None:
                continue
            # read the crossing levels first: `take` must not run inside the source's iterator
            crossing = []
            for price, avail in source.levels(opposite(our_side)):
                if not within(our_side, price, best):
                    break
                crossing.append([price, avail])
            takes: list[tuple[Decimal, Decimal]] = []
            for maker in list(resting.orders()):
                assert maker.price is not None
                while maker.remaining > 0 and crossing and within(
                        our_side, crossing[0][0], maker.price):
                    q = min(maker.remaining, crossing[0][1])
                    takes.append((crossing[0][0], q))
                    self._fill_from_market(op, maker, inst, q)
                    crossing[0][1] -= q
                    if crossing[0][1] == 0:
                        crossing.pop(0)
            for price, q in takes:
                source.take(opposite(our_side), price, q)
        return self._end_op(op)

    # ================================================================== queries

    def order(self, account: str, symbol: str, *, order_id: int | None = None,
              client_order_id: str | None = None) -> OrderState | None:
        """Any order, open or not (the latest one with a client order id)."""
        if order_id is None and client_order_id:
            order_id = self._cid_history.get((account, symbol, client_order_id))
        found = self._orders.get(order_id) if order_id is not None else None
        if found is None or found.account != account or found.symbol != symbol:
            return None
        return found.snapshot()

    def open_orders(self, account: str, symbol: str | None = None) -> list[OrderState]:
        return [o.snapshot() for o in self._open.values()
                if o.account == account and (symbol is None or o.symbol == symbol)]

    def depth(self, symbol: str, limit: int | None = None
              ) -> tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]:
        """Our resting orders aggregated per price: (bids, asks), best first."""
        book = self._books[symbol]
        return book.bids.depth(limit), book.asks.depth(limit)

    def resting(self, symbol: str, side: Side) -> list[OrderState]:
        """Resting orders of one side in priority order (for tests and the simulator)."""
        return [o.snapshot() for o in self._books[symbol].side(side).orders()]

    @_exact
    def balance(self, account: str, asset: str) -> tuple[Decimal, Decimal, Decimal]:
        """(total, available, locked)."""
        if self.market is MarketKind.SPOT:
            free, locked = self.spot.balance(account, asset)
            return free + locked, free, locked
        wallet = self.wallets.get((account, asset), ZERO)
        used = self._margin_used(account, asset)
        return wallet, wallet - used, used

    def position(self, account: str, symbol: str) -> Position:
        return self.positions.get((account, symbol), Position())

    def leverage_of(self, account: str, symbol: str) -> Decimal:
        return self.leverage.get((account, symbol), self.default_leverage)

    # ================================================================== checks

    def _check_new(self, account: str, req: OrderRequest,
                   inst: Instrument | None) -> tuple[Reason, str] | None:
        if inst is None:
            return Reason.UNKNOWN_SYMBOL, f"unknown symbol {req.symbol}"
        problem = _check_qty(req.qty, inst)
        if problem is not None:
            return problem
        if req.order_type is OrderType.LIMIT:
            if req.price is None:
                return Reason.INVALID_PRICE, "a LIMIT order needs a price"
            problem = _check_price(req.price, inst) or _check_notional(req.qty, req.price, inst)
            if problem is not None:
                return problem
        else:
            if req.price is not None:
                return Reason.INVALID_PRICE, "a MARKET order takes no price"
            if req.post_only:
                return Reason.INVALID_ORDER, "a MARKET order cannot be post-only"
        if req.post_only and req.time_in_force is not TimeInForce.GTC:
            return Reason.INVALID_ORDER, f"a post-only order cannot be {req.time_in_force}"
        if req.reduce_only and self.market is MarketKind.SPOT:
            return Reason.INVALID_ORDER, "reduce-only is for derivatives"
        cid = req.client_order_id
        if cid and (account, req.symbol, cid) in self._open_cids:
            return (Reason.DUPLICATE_CLIENT_ORDER_ID,
                    f"client order id {cid} is already used by an open order")
        if req.reduce_only:
            closable = self.position(account, req.symbol).closable(req.side)
            if not closable:
                return Reason.REDUCE_ONLY_REJECTED, "reduce-only order would not reduce a position"
            if req.qty > closable:
                return (Reason.REDUCE_ONLY_REJECTED,
                        f"reduce-only quantity {req.qty} exceeds the position {closable}")
        return None

    def _check_funds(self, account: str, inst: Instrument, req: OrderRequest, plan: Plan,
                     rest_qty: Decimal, fok_fails: bool) -> tuple[Reason, str] | None:
        if self.market is MarketKind.SPOT:
            if req.side is Side.SELL:
                asset, need = inst.base, req.qty
            elif req.price is not None:
                asset, need = inst.quote, req.qty * req.price
            else:
                asset, need = inst.quote, plan.cost
            free, _ = self.spot.balance(account, asset)
            if need > free:
                return (Reason.INSUFFICIENT_BALANCE,
                        f"insufficient balance: needs {need} {asset}, {free} available")
            return None
        fills = [] if fok_fails else plan.fills
        rest = None if req.reduce_only or not rest_qty else (rest_qty, req.price or ZERO)
        return self._check_margin(account, inst, req.side, req.qty, fills, rest, exclude=None)

    def _check_amend_funds(self, order: Order, inst: Instrument, qty: Decimal, price: Decimal,
                           plan: Plan, rest_qty: Decimal) -> tuple[Reason, str] | None:
        remaining = qty - order.filled_qty
        if self.market is MarketKind.SPOT:
            asset = inst.base if order.side is Side.SELL else inst.quote
            need = remaining if order.side is Side.SELL else remaining * price
            free, _ = self.spot.balance(order.account, asset)
            if need > free + order.reserved:
                return (Reason.INSUFFICIENT_BALANCE,
                        f"insufficient balance: needs {need} {asset}, "
                        f"{free + order.reserved} available")
            return None
        if order.reduce_only:
            closable = self.position(order.account, order.symbol).closable(order.side)
            if remaining > closable:
                return (Reason.REDUCE_ONLY_REJECTED,
                        f"reduce-only quantity {remaining} exceeds the position {closable}")
            return None
        rest = (rest_qty, price) if rest_qty else None
        return self._check_margin(order.account, inst, order.side, remaining, plan.fills, rest,
                                  exclude=order)

    def _check_margin(self, account: str, inst: Instrument, side: Side, qty: Decimal,
                      fills: list[Fill], rest: tuple[Decimal, Decimal] | None,
                      exclude: Order | None) -> tuple[Reason, str] | None:
        """Linear: would the account still have margin after this order? Orders that only
        close are always allowed, like exchanges do."""
        position = self.position(account, inst.symbol)
        if qty <= position.closable(side):
            return None
        wallet = self.wallets.get((account, inst.quote), ZERO)
        rate = self._fee_schedule(account).taker
        for fill in fills:
            position, pnl = position.apply(side, fill.qty, fill.price, self.quantum)
            wallet += pnl - fill.qty * fill.price * rate
        used = self._margin_used(account, inst.quote, override=(inst.symbol, position),
                                 exclude=exclude)
        if rest is not None:
            used += initial_margin(rest[0] * rest[1], self.leverage_of(account, inst.symbol),
                                   self.quantum)
        if wallet - used < 0:
            return (Reason.INSUFFICIENT_BALANCE,
                    f"insufficient margin: needs {used} {inst.quote}, wallet {wallet}")
        return None

    def _crosses(self, symbol: str, side: Side, limit: Decimal | None) -> bool:
        """Would an order of `side` at `limit` trade on arrival (with us or the market)?"""
        best = self._books[symbol].side(opposite(side)).best()
        if best is not None and within(side, best, limit):
            return True
        source = self._external.get(symbol)
        if source is not None:
            level = next(iter(source.levels(opposite(side))), None)
            if level is not None and within(side, level[0], limit):
                return True
        return False

    # ================================================================== execution

    def _plan(self, account: str, symbol: str, side: Side, limit: Decimal | None, qty: Decimal,
              stp: StpMode) -> Plan:
        source = self._external.get(symbol)
        external: Iterable[tuple[Decimal, Decimal]] = (
            source.levels(opposite(side)) if source is not None else ())
        return plan_taker(account, side, limit, qty, stp,
                          self._books[symbol].side(opposite(side)), external)

    def _execute(self, op: _Op, taker: Order, inst: Instrument, plan: Plan) -> None:
        for action in plan.actions:
            if isinstance(action, StpExpire):
                self._close(op, action.maker, inst, OrderStatus.EXPIRED, ExecType.EXPIRED,
                            Reason.SELF_TRADE_PREVENTED)
                continue
            trade_id = self._trade_id()
            maker = action.maker
            if maker is not None:
                self._fill(op, maker, inst, action.price, action.qty, True, taker.account,
                           trade_id)
                if not maker.remaining:
                    self._close(op, maker, inst, OrderStatus.FILLED, None)
            else:
                source = self._external[inst.symbol]
                source.take(opposite(taker.side), action.price, action.qty)
                self._external_flow(inst, taker.side, action.price, action.qty)
            self._fill(op, taker, inst, action.price, action.qty, False,
                       maker.account if maker is not None else None, trade_id)

    def _settle_taker(self, op: _Op, order: Order, inst: Instrument, plan: Plan) -> None:
        """After its fills: an incoming order is filled, rests, or expires."""
        if not order.remaining:
            self._close(op, order, inst, OrderStatus.FILLED, None, in_book=False)
        elif plan.taker_stp:
            self._close(op, order, inst, OrderStatus.EXPIRED, ExecType.EXPIRED,
                        Reason.SELF_TRADE_PREVENTED, in_book=False)
        elif order.order_type is OrderType.MARKET or order.time_in_force is not TimeInForce.GTC:
            reason = Reason.IOC_REMAINDER if plan.actions else Reason.NO_LIQUIDITY
            self._close(op, order, inst, OrderStatus.EXPIRED, ExecType.EXPIRED, reason,
                        in_book=False)
        else:
            self._rest(order)

    def _fill_from_market(self, op: _Op, maker: Order, inst: Instrument, qty: Decimal) -> None:
        assert maker.price is not None
        self._external_flow(inst, maker.side, maker.price, qty)
        self._fill(op, maker, inst, maker.price, qty, True, None, self._trade_id())
        if not maker.remaining:
            self._close(op, maker, inst, OrderStatus.FILLED, None)

    def _fill(self, op: _Op, order: Order, inst: Instrument, price: Decimal, qty: Decimal,
              is_maker: bool, counterparty: str | None, trade_id: int) -> None:
        rate = self._fee_schedule(order.account).rate(is_maker)
        fee, fee_asset = fee_for(self.market, inst, order.side, price, qty, rate)
        order.filled_qty += qty
        order.cum_quote += qty * price
        order.updated_ts = op.ts
        order.status = OrderStatus.FILLED if not order.remaining else OrderStatus.PARTIALLY_FILLED
        pnl: Decimal | None = None
        account = order.account
        if self.market is MarketKind.SPOT:
            self.spot.fill(order, inst, price, qty, fee)
            op.assets[(account, inst.base)] = None
            op.assets[(account, inst.quote)] = None
        else:
            key = (account, inst.symbol)
            position, pnl = self.position(account, inst.symbol).apply(
                order.side, qty, price, self.quantum)
            self.positions[key] = position
            wallet_key = (account, inst.quote)
            self.wallets[wallet_key] = self.wallets.get(wallet_key, ZERO) + pnl - fee
            op.assets[wallet_key] = None
            op.positions[key] = None
        self.fees_collected[fee_asset] = self.fees_collected.get(fee_asset, ZERO) + fee
        self.last_price[inst.symbol] = price
        op.events.append(self._event(
            TradeFill, op, trade_id=trade_id, account=account, symbol=inst.symbol,
            order_id=order.order_id, client_order_id=order.client_order_id, side=order.side,
            price=price, qty=qty, fee=fee, fee_asset=fee_asset, is_maker=is_maker,
            counterparty=counterparty, realized_pnl=pnl))
        op.events.append(self._event(OrderUpdated, op, order=order.snapshot(),
                                     exec_type=ExecType.TRADE))

    def _external_flow(self, inst: Instrument, our_side: Side, price: Decimal,
                       qty: Decimal) -> None:
        """Book the market's side of a trade with one of our orders of `our_side`."""
        flows = self.external_flows
        cash = qty * price if our_side is Side.BUY else ZERO - qty * price
        flows[inst.quote] = flows.get(inst.quote, ZERO) + cash
        if self.market is MarketKind.SPOT:
            base = ZERO - qty if our_side is Side.BUY else qty
            flows[inst.base] = flows.get(inst.base, ZERO) + base

    # ================================================================== order lifecycle

    def _new_order(self, account: str, req: OrderRequest, stp: StpMode, ts: int) -> Order:
        order = Order(
            order_id=self._next_order_id, account=account, symbol=req.symbol,
            client_order_id=req.client_order_id, side=req.side, order_type=req.order_type,
            time_in_force=req.time_in_force, post_only=req.post_only,
            reduce_only=req.reduce_only, price=req.price, qty=req.qty, stp=stp,
            created_ts=ts, updated_ts=ts,
        )
        self._next_order_id += 1
        self._orders[order.order_id] = order
        self._open[order.order_id] = order
        if order.client_order_id:
            key = (account, req.symbol, order.client_order_id)
            self._open_cids[key] = order.order_id
            self._cid_history[key] = order.order_id
        return order

    def _hold(self, op: _Op, order: Order, inst: Instrument) -> None:
        """Lock what the order may spend (spot); note the margin asset as touched."""
        if self.market is MarketKind.SPOT:
            self.spot.lock(order, inst)
        op.assets[(order.account, self._margin_asset(inst, order.side))] = None

    def _rest(self, order: Order) -> None:
        self._priority += 1
        order.priority = self._priority
        self._books[order.symbol].side(order.side).add(order)

    def _close(self, op: _Op, order: Order, inst: Instrument, status: OrderStatus,
               exec_type: ExecType | None, reason: Reason | None = None,
               in_book: bool = True) -> None:
        """End an order: out of the book, its locks released, its client id free again.
        `exec_type` None: the fill that ended it was already reported."""
        if in_book and order.price is not None:
            level = self._books[order.symbol].side(order.side).levels.get(order.price)
            if level is not None and order.order_id in level:
                self._books[order.symbol].side(order.side).remove(order)
        if self.market is MarketKind.SPOT:
            self.spot.release(order, inst)
        order.status = status
        order.updated_ts = op.ts
        self._open.pop(order.order_id, None)
        if order.client_order_id:
            self._open_cids.pop((order.account, order.symbol, order.client_order_id), None)
        op.assets[(order.account, self._margin_asset(inst, order.side))] = None
        if exec_type is not None:
            op.events.append(self._event(OrderUpdated, op, order=order.snapshot(),
                                         exec_type=exec_type, reason=reason))

    def _find_open(self, account: str, symbol: str, order_id: int | None,
                   client_order_id: str | None) -> Order | None:
        if order_id is None and client_order_id:
            order_id = self._open_cids.get((account, symbol, client_order_id))
        order = self._open.get(order_id) if order_id is not None else None
        if order is None or order.account != account or order.symbol != symbol:
            return None
        return order

    def _sweep_reduce_only(self, op: _Op) -> None:
        """Expire reduce-only orders their position no longer covers."""
        for account, symbol in list(op.positions):
            position = self.position(account, symbol)
            for order in [o for o in self._open.values() if o.reduce_only
                          and o.account == account and o.symbol == symbol]:
                if order.remaining > position.closable(order.side):
                    self._close(op, order, self.instruments[symbol], OrderStatus.EXPIRED,
                                ExecType.EXPIRED, Reason.REDUCE_ONLY_CANCELED)

    # ================================================================== accounting views

    def _fee_schedule(self, account: str) -> FeeSchedule:
        return self.account_fees.get(account, self.fees)

    def _margin_asset(self, inst: Instrument, side: Side) -> str:
        if self.market is MarketKind.LINEAR or side is Side.BUY:
            return inst.quote
        return inst.base

    def _margin_used(self, account: str, asset: str,
                     override: tuple[str, Position] | None = None,
                     exclude: Order | None = None) -> Decimal:
        """Linear: initial margin of the account's positions and open orders settled in
        `asset` (with one position replaced by `override`, one order left out)."""
        used = ZERO
        symbols = {s for (a, s) in self.positions if a == account}
        if override is not None:
            symbols.add(override[0])
        for symbol in sorted(symbols):
            if self.instruments[symbol].quote != asset:
                continue
            position = self.position(account, symbol)
            if override is not None and override[0] == symbol:
                position = override[1]
            used += initial_margin(position.entry_value, self.leverage_of(account, symbol),
                                   self.quantum)
        for order in self._open.values():
            if (order.account != account or order.reduce_only or order is exclude
                    or self.instruments[order.symbol].quote != asset or order.price is None):
                continue
            used += initial_margin(order.remaining * order.price,
                                   self.leverage_of(account, order.symbol), self.quantum)
        return used

    # ================================================================== events

    def _begin(self) -> _Op:
        if self._clock is not None:
            return _Op(self._clock())
        self._ticks += 1
        return _Op(self._ticks)

    def _event(self, cls: type[E], op: _Op, **fields: Any) -> E:
        self._seq += 1
        return cls(seq=self._seq, ts=op.ts, **fields)

    def _trade_id(self) -> int:
        self._next_trade_id += 1
        return self._next_trade_id - 1

    def _reject(self, op: _Op, action: Action, account: str, symbol: str, reason: Reason,
                message: str, *, client_order_id: str = "",
                order_id: int | None = None) -> list[EngineEvent]:
        return [self._event(OrderRejected, op, action=action, account=account, symbol=symbol,
                            reason=reason, message=message, client_order_id=client_order_id,
                            order_id=order_id)]

    def _end_op(self, op: _Op) -> list[EngineEvent]:
        """Finish a call: reduce-only sweep, then the balances and positions it changed."""
        if self.market is MarketKind.LINEAR:
            self._sweep_reduce_only(op)
        for account, asset in op.assets:
            total, available, locked = self.balance(account, asset)
            op.events.append(self._event(BalanceChanged, op, account=account, asset=asset,
                                         total=total, available=available, locked=locked))
        for account, symbol in op.positions:
            position = self.position(account, symbol)
            mark = self.mark_price.get(symbol, self.last_price.get(symbol))
            op.events.append(self._event(
                PositionChanged, op, account=account, symbol=symbol, size=position.size,
                entry_price=position.entry_price(self.quantum), entry_value=position.entry_value,
                realized_pnl=position.realized, unrealized_pnl=position.unrealized(mark),
                mark_price=mark, leverage=self.leverage_of(account, symbol)))
        return op.events


# ====================================================================== filters


def _filters(inst: Instrument) -> Filters:
    return Filters(inst.tick_size, inst.lot_size, inst.min_qty, inst.max_qty, inst.min_notional)


def _check_qty(qty: Decimal, inst: Instrument) -> tuple[Reason, str] | None:
    problem = amount_problem("quantity", qty) or qty_problem("quantity", qty, _filters(inst))
    return (Reason.INVALID_QUANTITY, problem) if problem else None


def _check_price(price: Decimal, inst: Instrument) -> tuple[Reason, str] | None:
    problem = amount_problem("price", price) or price_problem("price", price, _filters(inst))
    return (Reason.INVALID_PRICE, problem) if problem else None


def _check_notional(qty: Decimal, price: Decimal, inst: Instrument) -> tuple[Reason, str] | None:
    problem = notional_problem(qty, price, _filters(inst))
    return (Reason.MIN_NOTIONAL, problem) if problem else None
