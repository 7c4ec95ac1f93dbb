"""What a backtest is configured with, and the parsing of its command-line forms.

Per-venue settings (balances, fees, market type) are keyed by venue, with `"*"` for every venue;
a venue's own entry wins over `"*"`. Everything is exact: balances and fee rates are Decimals.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TypeVar

from ttxt_kafka import venues
from ttxt_kafka.events import InstrumentInfo, MarketType
from ttxt_kafka.matching import FeeSchedule, MarketKind

T = TypeVar("T")

ALL = "*"
DEFAULT_LATENCY_US = 5_000  # order arrival: 5 ms of exchange time after the event answered
DEFAULT_QUOTE_BALANCE = Decimal(100_000)  # when no balance is configured: per quote asset
DEFAULT_SAMPLE_US = 1_000_000  # equity samples: every second of exchange time (and per fill)

# Unless --fees says otherwise a venue pays the regular-tier rates of its VenueSpec (they
# change: check your own tier); a venue the registry does not know pays this spot rate.
DEFAULT_FEES = FeeSchedule(Decimal("0.001"), Decimal("0.001"))


def venue_fees(venue: str) -> FeeSchedule:
    spec = venues.find(venue)
    return DEFAULT_FEES if spec is None else FeeSchedule(spec.fees.maker, spec.fees.taker)


class ConfigError(ValueError):
    """A backtest setting that cannot be used; the text says which and why."""


@dataclass
class BacktestConfig:
    # venue (or "*") -> asset -> amount. Empty: DEFAULT_QUOTE_BALANCE of each quote asset.
    balances: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    fees: dict[str, FeeSchedule] = field(default_factory=dict)  # venue or "*"; else venue_fees()
    markets: dict[str, MarketKind] = field(default_factory=dict)  # venue or "*"; else by name
    latency_us: int = DEFAULT_LATENCY_US  # command -> matching engine
    report_latency_us: int = 0  # matching engine -> strategy (acks, updates, fills, account)
    fill_on_touch: bool = False  # a market trade AT a resting order's price fills it
    leverage: Decimal = Decimal(1)  # linear venues
    # Win over recorded InstrumentInfo, which wins over instruments inferred from the data.
    instruments: list[InstrumentInfo] = field(default_factory=list)
    run_id: str = "bt"  # fixed: the same order ids every run
    sample_us: int = DEFAULT_SAMPLE_US

    def __post_init__(self) -> None:
        if self.latency_us < 0 or self.report_latency_us < 0:
            raise ConfigError("latencies cannot be negative")
        if self.sample_us <= 0:
            raise ConfigError("the sample interval must be positive")
        if self.leverage <= 0:
            raise ConfigError(f"leverage must be positive: {self.leverage}")

    def market_of(self, venue: str) -> MarketKind:
        kind = _pick(self.markets, venue)
        if kind is not None:
            return kind
        spec = venues.find(venue)
        return MarketKind.LINEAR if spec is not None and spec.derivatives else MarketKind.SPOT

    def fees_of(self, venue: str) -> FeeSchedule:
        return _pick(self.fees, venue) or venue_fees(venue)

    def balances_of(self, venue: str) -> dict[str, Decimal] | None:
        """Configured starting balances of a venue; None when nothing is configured at all
        (the default then applies: DEFAULT_QUOTE_BALANCE of each quote asset)."""
        if not self.balances:
            return None
        return {**self.balances.get(ALL, {}), **self.balances.get(venue, {})}


def _pick(table: Mapping[str, T], venue: str) -> T | None:
    return table.get(venue, table.get(ALL))


# ---------------------------------------------------------------------- command-line forms


def _decimal(text: str, what: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise ConfigError(f"{what}: {text!r} is not a decimal number") from None
    if not value.is_finite():
        raise ConfigError(f"{what}: {text!r} is not a finite number")
    return value


def _venue_prefix(text: str) -> tuple[str, str]:
    """`VENUE:rest` -> (venue, rest); `rest` alone -> ("*", rest)."""
    venue, sep, rest = text.partition(":")
    return (venue.strip(), rest) if sep else (ALL, text)


def parse_balance(text: str, into: dict[str, dict[str, Decimal]]) -> None:
    """`ASSET=QTY` (every venue) or `VENUE:ASSET=QTY`."""
    venue, rest = _venue_prefix(text)
    asset, sep, qty = rest.partition("=")
    if not sep or not asset.strip():
        raise ConfigError(f"--balance {text!r}: use ASSET=QTY or VENUE:ASSET=QTY")
    amount = _decimal(qty, f"--balance {text}")
    if amount < 0:
        raise ConfigError(f"--balance {text!r}: a balance cannot be negative")
    into.setdefault(venue, {})[asset.strip().upper()] = amount


def parse_fees(text: str, into: dict[str, FeeSchedule]) -> None:
    """`MAKER,TAKER` (rates: 0.001 is 0.1 %; negative = rebate) or `VENUE:MAKER,TAKER`."""
    venue, rest = _venue_prefix(text)
    parts = rest.split(",")
    if len(parts) != 2:
        raise ConfigError(f"--fees {text!r}: use MAKER,TAKER (rates, e.g. 0.0002,0.0005) "
                          "or VENUE:MAKER,TAKER")
    maker, taker = (_decimal(p, f"--fees {text}") for p in parts)
    if maker >= 1 or taker >= 1 or taker < 0:
        raise ConfigError(f"--fees {text!r}: rates are fractions (0.001 = 0.1 %); a taker "
                          "fee cannot be negative")
    into[venue] = FeeSchedule(maker, taker)


def parse_market(text: str, into: dict[str, MarketKind]) -> None:
    """`VENUE=spot|linear` (or `spot|linear` for every venue)."""
    venue, sep, kind = text.rpartition("=")
    try:
        into[venue.strip() if sep else ALL] = MarketKind(kind.strip().upper())
    except ValueError:
        raise ConfigError(f"--market {text!r}: use VENUE=spot or VENUE=linear") from None


_INSTRUMENT_KEYS = ("tick", "lot", "min_qty", "max_qty", "min_notional")


def parse_instrument(text: str, default_venue: str | None, config: BacktestConfig
                     ) -> InstrumentInfo:
    """`[VENUE:]BASE/QUOTE:tick=0.01,lot=0.001[,min_qty=..][,max_qty=..][,min_notional=..]`."""
    head, sep, spec = text.rpartition(":")
    if not sep or not head:
        raise ConfigError(f"--instrument {text!r}: use [VENUE:]BASE/QUOTE:tick=0.01,lot=0.001")
    named, symbol = _venue_prefix(head)
    venue = default_venue if named == ALL else named
    if not venue:
        raise ConfigError(f"--instrument {text!r}: name the venue (VENUE:BASE/QUOTE:...) "
                          "when the strategy reads several")
    base, slash, quote = symbol.partition("/")
    if not slash or not base or not quote:
        raise ConfigError(f"--instrument {text!r}: the symbol is BASE/QUOTE")
    values: dict[str, str] = {}
    for item in spec.split(","):
        key, eq, value = item.partition("=")
        key = key.strip()
        if not eq or key not in _INSTRUMENT_KEYS:
            raise ConfigError(f"--instrument {text!r}: {item!r} is not one of "
                              f"{', '.join(k + '=' for k in _INSTRUMENT_KEYS)}")
        number = _decimal(value, f"--instrument {text}")
        if number <= 0:
            raise ConfigError(f"--instrument {text!r}: {key} must be positive")
        values[key] = format(number, "f")
    kind = config.market_of(venue)
    return InstrumentInfo(
        venue=venue, symbol=symbol, native_symbol=(base + quote.split("-")[0]).upper(),
        exchange_ts=0, receive_ts=0,
        market_type=MarketType.LINEAR if kind is MarketKind.LINEAR else MarketType.SPOT,
        base=base, quote=quote.split("-")[0], trading=True,
        tick_size=values.get("tick", "0"), lot_size=values.get("lot", "0"),
        min_qty=values.get("min_qty", "0"), max_qty=values.get("max_qty"),
        min_notional=values.get("min_notional"))
