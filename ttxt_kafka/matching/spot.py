"""Spot balances: free and locked per account and asset.

An accepted order locks what it may spend: a limit buy `qty * price` of the quote, a sell
`qty` of the base (Binance reserves the full amount the same way). A market buy locks nothing:
its cost is known from the fills the engine planned, and was checked against the free balance.
Each fill moves the assets; when an order ends, what it still holds goes back to free.
"""

from __future__ import annotations

from decimal import Decimal

from ttxt_kafka.events import Side

from .model import ZERO, Instrument, Order


class SpotLedger:
    def __init__(self) -> None:
        self.free: dict[tuple[str, str], Decimal] = {}
        self.locked: dict[tuple[str, str], Decimal] = {}

    def balance(self, account: str, asset: str) -> tuple[Decimal, Decimal]:
        key = (account, asset)
        return self.free.get(key, ZERO), self.locked.get(key, ZERO)

    def assets(self, account: str) -> list[str]:
        seen = {a for (acct, a) in self.free if acct == account}
        seen |= {a for (acct, a) in self.locked if acct == account}
        return sorted(seen)

    def accounts(self) -> list[str]:
        return sorted({acct for (acct, _) in self.free} | {acct for (acct, _) in self.locked})

    def _add(self, book: dict[tuple[str, str], Decimal], account: str, asset: str,
             delta: Decimal) -> None:
        key = (account, asset)
        book[key] = book.get(key, ZERO) + delta

    def credit(self, account: str, asset: str, amount: Decimal) -> None:
        self._add(self.free, account, asset, amount)

    # ------------------------------------------------------------------ orders

    @staticmethod
    def lock_for(order: Order, instrument: Instrument) -> tuple[str, Decimal]:
        """(asset, amount) an order must lock for its remaining quantity."""
        if order.side is Side.SELL:
            return instrument.base, order.remaining
        if order.price is None:  # market buy: paid from free as it fills
            return instrument.quote, ZERO
        return instrument.quote, order.remaining * order.price

    def lock(self, order: Order, instrument: Instrument) -> None:
        asset, amount = self.lock_for(order, instrument)
        self._add(self.free, order.account, asset, -amount)
        self._add(self.locked, order.account, asset, amount)
        order.reserved += amount

    def release(self, order: Order, instrument: Instrument) -> None:
        """Give back what the order still holds (it ended, or is about to be re-locked)."""
        if order.reserved:
            asset = instrument.base if order.side is Side.SELL else instrument.quote
            self._add(self.locked, order.account, asset, -order.reserved)
            self._add(self.free, order.account, asset, order.reserved)
            order.reserved = ZERO

    def fill(self, order: Order, instrument: Instrument, price: Decimal, qty: Decimal,
             fee: Decimal) -> None:
        """Settle one fill of `order`; the fee is in the asset the order receives."""
        account, base, quote = order.account, instrument.base, instrument.quote
        if order.side is Side.BUY:
            spend = qty * price
            if order.reserved:
                held = qty * order.price if order.price is not None else spend
                order.reserved -= held
                self._add(self.locked, account, quote, -held)
                self._add(self.free, account, quote, held - spend)  # price improvement back
            else:
                self._add(self.free, account, quote, -spend)
            self._add(self.free, account, base, qty - fee)
        else:
            order.reserved -= qty
            self._add(self.locked, account, base, -qty)
            self._add(self.free, account, quote, qty * price - fee)
