"""Maker/taker fee rates and which asset a fee is charged in.

Spot, as Binance charges by default (no BNB discount): a buy pays its fee in the base asset it
receives, a sell in the quote asset it receives. Linear perpetuals pay in the quote (settle)
asset. Fees are exact: rate * quantity (* price), never rounded, so every unit an account pays
shows up in `fees_collected`. A negative rate is a rebate.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ttxt_kafka.events import Side

from .model import Instrument, MarketKind


@dataclass(frozen=True, slots=True)
class FeeSchedule:
    maker: Decimal = Decimal(0)
    taker: Decimal = Decimal(0)

    def rate(self, is_maker: bool) -> Decimal:
        return self.maker if is_maker else self.taker


def fee_for(market: MarketKind, instrument: Instrument, side: Side, price: Decimal,
            qty: Decimal, rate: Decimal) -> tuple[Decimal, str]:
    """(fee amount, fee asset) of one fill."""
    if market is MarketKind.SPOT and side is Side.BUY:
        return qty * rate, instrument.base
    return qty * price * rate, instrument.quote
