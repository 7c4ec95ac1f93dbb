"""Instruments of the synthetic market and exact decimal formatting.

Prices are integers in ticks and quantities integers in lots: the market never holds a float.
A decimal string is made only when a message is formatted, from the integer and the step's
decimal exponent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

_QUOTES = ("USDT", "USDC", "FDUSD", "BUSD", "BTC", "ETH", "BNB", "EUR", "TRY", "USD")


def fmt(value: int, exp: int, decimals: int | None = None) -> str:
    """`value * 10**-exp` as a decimal string: `decimals` fixed places, or trailing zeros trimmed.

    Never rounds: if `decimals` is smaller than `exp` the full precision is kept.
    """
    if decimals is not None and decimals > exp:
        value *= 10 ** (decimals - exp)
        exp = decimals
    sign = "-" if value < 0 else ""
    digits = str(abs(value))
    if exp == 0:
        return sign + digits
    digits = digits.rjust(exp + 1, "0")
    text = f"{digits[:-exp]}.{digits[-exp:]}"
    if decimals is None or decimals < exp:
        text = text.rstrip("0").rstrip(".")
    return sign + text


@dataclass(frozen=True, slots=True)
class Step:
    """A price or quantity increment such as "0.10": `units * 10**-exp` (here 10 and 2)."""

    units: int
    exp: int

    @classmethod
    def of(cls, text: str) -> Step:
        d = Decimal(text)
        if d <= 0:
            raise ValueError(f"step must be positive: {text!r}")
        sign, digits, exponent = d.as_tuple()
        assert isinstance(exponent, int)
        units = int("".join(map(str, digits)))
        if exponent >= 0:
            return cls(units * 10**exponent, 0)
        return cls(units, -exponent)

    def count(self, text: str) -> int:
        """How many steps make `text` (which must be a multiple of the step)."""
        n, rem = divmod(Decimal(text) * 10**self.exp, self.units)
        if rem:
            raise ValueError(f"{text} is not a multiple of the step")
        return int(n)

    def value(self, n: int) -> int:
        """`n` steps as an integer at scale 10**-exp."""
        return n * self.units


@dataclass(frozen=True)
class Instrument:
    symbol: str
    base: str
    quote: str
    tick_size: str  # e.g. "0.10"
    lot_size: str  # e.g. "0.001"
    start_price: str  # initial mid, a multiple of tick_size
    max_lots: int = 2000  # largest size of one resting level, in lots
    tick: Step = field(init=False)
    lot: Step = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tick", Step.of(self.tick_size))
        object.__setattr__(self, "lot", Step.of(self.lot_size))

    @property
    def start_ticks(self) -> int:
        return self.tick.count(self.start_price)

    def price(self, ticks: int, decimals: int | None = None) -> str:
        return fmt(self.tick.value(ticks), self.tick.exp, decimals)

    def qty(self, lots: int, decimals: int | None = None) -> str:
        return fmt(self.lot.value(lots), self.lot.exp, decimals)

    def notional(self, tick_lots: int, decimals: int | None = None) -> str:
        """Sum of price*qty held as ticks*lots (exact): as a decimal string."""
        return fmt(
            tick_lots * self.tick.units * self.lot.units, self.tick.exp + self.lot.exp, decimals
        )

    @property
    def price_decimals(self) -> int:
        return self.tick.exp

    @property
    def qty_decimals(self) -> int:
        return self.lot.exp


_DEFAULTS = {
    "BTCUSDT": ("0.10", "0.001", "65000"),
    "ETHUSDT": ("0.01", "0.01", "3500"),
    "SOLUSDT": ("0.01", "0.1", "150"),
    "BNBUSDT": ("0.01", "0.01", "600"),
    "XRPUSDT": ("0.0001", "0.1", "0.5"),
    "DOGEUSDT": ("0.00001", "1", "0.15"),
}


def default_instrument(symbol: str) -> Instrument:
    """Sensible tick/lot sizes for well-known symbols, generic ones for anything else."""
    symbol = symbol.upper()
    # BTC_USDT, BTC-USDT, BTC/USDT, a perpetual's BTC-USDT-SWAP: as BTCUSDT
    plain = symbol.removesuffix("-SWAP").replace("_", "").replace("-", "").replace("/", "")
    quote = next((q for q in _QUOTES if plain.endswith(q) and plain != q), "USDT")
    base = plain[: -len(quote)] if plain.endswith(quote) else plain
    tick, lot, price = _DEFAULTS.get(plain, ("0.01", "0.01", "100"))
    return Instrument(symbol, base, quote, tick, lot, price)
