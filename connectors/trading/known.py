"""The connector's own view of its open orders, by client order id: what Binance needs to amend
(side, price, quantity; `KnownOrder`) and what a venue-wide cancel-all must cover.

Fed by the connector's accepted creates, every OrderUpdate it publishes (private streams, REST
snapshots, paper fills) and REST queries; an order leaves when an update says it is finished.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from ttxt_kafka.events import OrderStatus, OrderUpdate
from ttxt_kafka.orders.state import KnownOrder
from ttxt_kafka.orders.validation import ValidCreate

FINISHED = frozenset({OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED,
                      OrderStatus.EXPIRED})


def known_from_update(update: OrderUpdate) -> KnownOrder:
    return KnownOrder(
        client_order_id=update.client_order_id, order_id=update.order_id or None,
        side=update.side, order_type=update.order_type, time_in_force=update.time_in_force,
        reduce_only=update.reduce_only,
        price=Decimal(update.price) if update.price is not None else None,
        qty=Decimal(update.qty), filled_qty=Decimal(update.filled_qty))


class KnownOrders:
    def __init__(self) -> None:
        self.orders: dict[str, KnownOrder] = {}
        self.natives: dict[str, str] = {}  # client order id -> native symbol

    def __len__(self) -> int:
        return len(self.orders)

    def placed(self, order: ValidCreate, order_id: str | None) -> None:
        if order.client_order_id in self.orders:  # an update got here first: it is fresher
            return
        self.orders[order.client_order_id] = KnownOrder(
            client_order_id=order.client_order_id, order_id=order_id, side=order.side,
            order_type=order.order_type, time_in_force=order.time_in_force,
            post_only=order.post_only, reduce_only=order.reduce_only, price=order.price,
            qty=order.qty)
        self.natives[order.client_order_id] = order.native_symbol

    def apply(self, update: OrderUpdate) -> None:
        cid = update.client_order_id
        if not cid:
            return
        if update.status in FINISHED:
            self.orders.pop(cid, None)
            self.natives.pop(cid, None)
            return
        known = known_from_update(update)
        old = self.orders.get(cid)
        if old is not None and old.post_only:  # the stream's time in force hides post-only
            known = dataclasses.replace(known, post_only=True)
        self.orders[cid] = known
        self.natives[cid] = update.native_symbol

    def get(self, client_order_id: str | None = None,
            order_id: str | None = None) -> KnownOrder | None:
        if client_order_id and client_order_id in self.orders:
            return self.orders[client_order_id]
        if order_id:
            return next((o for o in self.orders.values() if o.order_id == order_id), None)
        return None

    def open_symbols(self) -> list[str]:
        return sorted(set(self.natives.values()))
