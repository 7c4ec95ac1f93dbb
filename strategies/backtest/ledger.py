"""PnL accounting of a backtest, per (venue, symbol), exact.

* **Position**: the signed quantity traded (buys +, sells -). A spot buy's fee is paid in the
  base asset (Binance's default, as the engine charges it); it is counted as a fee, not taken
  off the position.
* **Realized PnL** (quote asset, before fees): FIFO — a fill that reduces the position closes
  the oldest open lots first and realizes (exit - entry) x qty (the other way round for a
  short). FIFO keeps every number exact (an average entry price would need a division).
* **Unrealized PnL**: the open lots marked to a price (the mid), (mark - entry) x qty.
* **Fees**: per asset as charged; valued in the quote asset with base-asset fees at the mark.
  A fee in a third asset is listed but not valued (no price for it here).
* **Total PnL** = realized + unrealized - fees (valued). Marked to the final mid this is exactly
  the change in the account's value from trading: final balances minus starting balances, both
  valued at the final mid.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Context, Decimal

from ttxt_kafka.events import Fill, Side

ZERO = Decimal(0)
# Products and sums of exchange decimals: wide enough that nothing here is ever rounded.
EXACT = Context(prec=120)


@dataclass
class SymbolLedger:
    venue: str
    symbol: str
    base: str
    quote: str
    position: Decimal = ZERO
    realized: Decimal = ZERO
    fees: dict[str, Decimal] = field(default_factory=dict)
    fills: int = 0
    buys: int = 0
    sells: int = 0
    maker_fills: int = 0
    bought: Decimal = ZERO  # base quantity
    sold: Decimal = ZERO
    notional: Decimal = ZERO  # quote volume traded
    _lots: deque[list[Decimal]] = field(default_factory=deque)  # [qty > 0, price], FIFO

    def fill(self, fill: Fill) -> Decimal:
        """Account for one fill; returns the PnL it realized."""
        price, qty, fee = Decimal(fill.price), Decimal(fill.qty), Decimal(fill.fee)
        buy = fill.side is Side.BUY
        self.fills += 1
        self.maker_fills += fill.is_maker
        if buy:
            self.buys += 1
            self.bought = EXACT.add(self.bought, qty)
        else:
            self.sells += 1
            self.sold = EXACT.add(self.sold, qty)
        self.notional = EXACT.add(self.notional, EXACT.multiply(price, qty))
        if fee:
            self.fees[fill.fee_currency] = EXACT.add(self.fees.get(fill.fee_currency, ZERO), fee)
        pnl = ZERO
        left = qty
        # A buy closes a short, a sell closes a long: oldest lots first.
        while left and self._lots and (self.position < 0) == buy:
            lot = self._lots[0]
            q = min(left, lot[0])
            gain = EXACT.multiply(EXACT.subtract(price, lot[1]), q)
            pnl = EXACT.add(pnl, gain if not buy else EXACT.minus(gain))
            lot[0] = EXACT.subtract(lot[0], q)
            left = EXACT.subtract(left, q)
            self.position = EXACT.add(self.position, q if buy else EXACT.minus(q))
            if not lot[0]:
                self._lots.popleft()
        if left:  # what is left opens (or adds to) a position on the fill's side
            self._lots.append([left, price])
            self.position = EXACT.add(self.position, left if buy else EXACT.minus(left))
        self.realized = EXACT.add(self.realized, pnl)
        return pnl

    def entry_price(self) -> Decimal | None:
        """Average entry of the open lots, for display only (rounded to 12 places)."""
        size = _sum(lot[0] for lot in self._lots)
        if not size:
            return None
        cost = _sum(EXACT.multiply(q, p) for q, p in self._lots)
        return EXACT.divide(cost, size).quantize(Decimal("1e-12"), context=EXACT).normalize(
            EXACT)

    def unrealized(self, mark: Decimal | None) -> Decimal:
        if mark is None or not self._lots:
            return ZERO
        gain = _sum(EXACT.multiply(EXACT.subtract(mark, p), q) for q, p in self._lots)
        return gain if self.position > 0 else EXACT.minus(gain)

    def fees_value(self, mark: Decimal | None) -> Decimal:
        """Fees in the quote asset (base-asset fees at `mark`)."""
        value = self.fees.get(self.quote, ZERO)
        base_fee = self.fees.get(self.base, ZERO)
        if base_fee and mark is not None:
            value = EXACT.add(value, EXACT.multiply(base_fee, mark))
        return value

    def unvalued_fees(self, mark: Decimal | None) -> dict[str, Decimal]:
        """Fees this ledger cannot put a quote value on."""
        known = {self.quote} | ({self.base} if mark is not None else set())
        return {a: v for a, v in self.fees.items() if a not in known}

    def total(self, mark: Decimal | None) -> Decimal:
        return EXACT.subtract(EXACT.add(self.realized, self.unrealized(mark)),
                              self.fees_value(mark))


def _sum(values: Iterable[Decimal]) -> Decimal:
    total = ZERO
    for v in values:
        total = EXACT.add(total, v)
    return total
