"""What the simulator's private side is configured with: the account's API key, its starting
balances and fees, and how often resting orders are matched against the moving market."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from ttxt_kafka.credentials import Credentials

# Starting balances when none are given: enough of the usual quote and base assets to trade.
DEFAULT_BALANCES: Mapping[str, Decimal] = {
    "USDT": Decimal("1000000"), "USDC": Decimal("1000000"), "BTC": Decimal("100"),
    "ETH": Decimal("1000"),
}


@dataclass(frozen=True)
class TradingSettings:
    """`credentials` is the one account's key and secret (requests signed with anything else are
    refused as the exchange refuses them). Fees are rates (0.001 = 0.1%); `leverage` applies to
    linear venues."""

    credentials: Credentials
    balances: Mapping[str, Decimal] = field(default_factory=lambda: dict(DEFAULT_BALANCES))
    maker_fee: Decimal = Decimal("0.001")
    taker_fee: Decimal = Decimal("0.001")
    leverage: Decimal = Decimal("10")
    account: str = "main"
    sync_interval: float = 0.05  # seconds between matching resting orders against the market
