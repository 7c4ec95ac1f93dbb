"""Balances and positions, folded from the account topic's `Wallet` and `PositionUpdate`.

A Wallet snapshot replaces a venue's balances; an incremental one sets the assets it lists.
Positions keep the latest update per (venue, symbol) — one-way mode, the default on both
exchanges; hedge-mode legs reach `on_position` unchanged. Values stay the exchange's strings;
`position()` gives the signed size as a Decimal (LONG +, SHORT -, FLAT 0).
"""

from __future__ import annotations

from decimal import Decimal

from ttxt_kafka.events import Balance, Event, PositionSide, PositionUpdate, Wallet


class AccountState:
    def __init__(self) -> None:
        self.balances: dict[str, dict[str, Balance]] = {}  # venue -> asset -> balance
        self.positions: dict[tuple[str, str], PositionUpdate] = {}

    def apply(self, event: Event) -> None:
        if isinstance(event, Wallet):
            if event.is_snapshot:
                self.balances[event.venue] = {}
            held = self.balances.setdefault(event.venue, {})
            for b in event.balances:
                held[b.asset] = b
        elif isinstance(event, PositionUpdate):
            self.positions[(event.venue, event.symbol)] = event

    def balance(self, venue: str, asset: str) -> Balance | None:
        return self.balances.get(venue, {}).get(asset)

    def position(self, venue: str, symbol: str) -> Decimal:
        p = self.positions.get((venue, symbol))
        if p is None or p.side is PositionSide.FLAT:
            return Decimal(0)
        size = Decimal(p.size)
        return -size if p.side is PositionSide.SHORT else size
