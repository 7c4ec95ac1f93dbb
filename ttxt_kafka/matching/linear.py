"""Linear perpetuals: a quote-asset wallet per account, one net position per symbol.

Kept simple but exact:

* A position is its signed size and its entry value (the sum of price * qty of the open part),
  so the average entry price is never rounded inside the books, only when shown.
* Closing `c` of a position of size `s` releases `entry_value * c / s` of cost (rounded half-even
  to the settlement quantum; the last close releases exactly what is left) and realizes
  `exit value - released cost` (long) or the opposite (short). Nothing is lost to rounding: every
  unit of cost is released exactly once.
* Wallet = deposits + realized PnL - fees. Initial margin = entry value / leverage for a
  position, remaining qty * price / leverage for an open order that is not reduce-only, both
  rounded up to the quantum. Available = wallet - position margin - order margin (unrealized
  PnL is not counted: conservative). No liquidation, no funding: the simulator does not need them.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_EVEN, Context, Decimal

from ttxt_kafka.events import Side

from .model import ZERO

# Deliberate rounding (margins, released cost, shown entry price) happens in this context only;
# everything else runs under the engine's exact context, which traps any rounding.
ROUNDING = Context(prec=60)


def round_up(value: Decimal, quantum: Decimal) -> Decimal:
    return value.quantize(quantum, rounding=ROUND_CEILING, context=ROUNDING)


def initial_margin(notional: Decimal, leverage: Decimal, quantum: Decimal) -> Decimal:
    return round_up(ROUNDING.divide(notional, leverage), quantum)


@dataclass(frozen=True, slots=True)
class Position:
    size: Decimal = ZERO  # signed: > 0 long, < 0 short
    entry_value: Decimal = ZERO  # >= 0
    realized: Decimal = ZERO  # cumulative, before fees

    @property
    def signed_entry_value(self) -> Decimal:
        return self.entry_value if self.size >= 0 else -self.entry_value

    def entry_price(self, quantum: Decimal = Decimal("1e-8")) -> Decimal | None:
        """Average entry price, for display: rounded half-even to `quantum`."""
        if not self.size:
            return None
        return ROUNDING.divide(self.entry_value, abs(self.size)).quantize(
            quantum, rounding=ROUND_HALF_EVEN, context=ROUNDING)

    def unrealized(self, mark: Decimal | None) -> Decimal:
        if mark is None or not self.size:
            return ZERO
        return self.size * mark - self.signed_entry_value

    def closable(self, side: Side) -> Decimal:
        """How much an order of `side` can close (0 when it would only add)."""
        if (side is Side.BUY and self.size < 0) or (side is Side.SELL and self.size > 0):
            return abs(self.size)
        return ZERO

    def apply(self, side: Side, qty: Decimal, price: Decimal,
              quantum: Decimal) -> tuple[Position, Decimal]:
        """The position after a fill, and the PnL the fill realized."""
        signed = qty if side is Side.BUY else ZERO - qty
        close = min(qty, self.closable(side))
        if not close:
            return Position(self.size + signed, self.entry_value + qty * price, self.realized), ZERO
        size_abs = abs(self.size)
        if close == size_abs:
            released = self.entry_value
        else:
            share = ROUNDING.divide(self.entry_value * close, size_abs)
            released = min(share.quantize(quantum, rounding=ROUND_HALF_EVEN, context=ROUNDING),
                           self.entry_value)
        exit_value = close * price
        pnl = exit_value - released if self.size > 0 else released - exit_value
        rest = qty - close  # what flips the position to the other side
        if close < size_abs:
            position = Position(self.size + signed, self.entry_value - released,
                                self.realized + pnl)
        else:  # `ZERO - rest`, not `-rest`: Decimal keeps the sign of a negated zero
            flipped = rest if side is Side.BUY else ZERO - rest
            position = Position(flipped, rest * price, self.realized + pnl)
        return position, pnl
