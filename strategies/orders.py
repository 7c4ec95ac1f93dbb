"""A strategy's open orders, as its commands and the executions topic tell them.

An order is open from the moment its CreateOrder is sent (`acked` False until the connector's
ACCEPTED ack) until an ack rejects it or an order update reports it finished (filled, canceled,
rejected, expired). Amends are applied at once and undone if their ack rejects them, so a
strategy requoting on every book update compares against what it last asked for. Only this
strategy's orders count (`OrderIds.owns`); orders of an earlier run of the same strategy are
adopted when their updates arrive.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ttxt_kafka.events import (
    AckStatus,
    AmendOrder,
    CancelAllOrders,
    CancelOrder,
    CommandType,
    CreateOrder,
    Event,
    Fill,
    OrderAck,
    OrderStatus,
    OrderType,
    OrderUpdate,
    Side,
)

from .ids import OrderIds

FINISHED = frozenset({OrderStatus.FILLED, OrderStatus.CANCELED, OrderStatus.REJECTED,
                      OrderStatus.EXPIRED})


@dataclass(slots=True, kw_only=True)
class OpenOrder:
    client_order_id: str
    venue: str
    symbol: str
    side: Side
    order_type: OrderType
    qty: str
    price: str | None
    filled_qty: str = "0"
    status: OrderStatus = OrderStatus.NEW
    order_id: str | None = None
    acked: bool = False  # the connector accepted the create
    cancel_sent: bool = False
    created_ts: int = 0

    @property
    def remaining(self) -> Decimal:
        return Decimal(self.qty) - Decimal(self.filled_qty)


@dataclass(slots=True)
class _Sent:
    """A command waiting for its ack (what to undo if it is rejected)."""

    command_type: CommandType
    client_order_id: str | None
    venue: str
    symbol: str
    old_price: str | None = None
    old_qty: str | None = None


class OrderTracker:
    def __init__(self, ids: OrderIds) -> None:
        self.ids = ids
        self.orders: dict[str, OpenOrder] = {}  # by client order id
        self._sent: dict[str, _Sent] = {}  # by command id

    # ------------------------------------------------------------------ commands out

    def created(self, cmd: CreateOrder) -> OpenOrder:
        order = OpenOrder(client_order_id=cmd.client_order_id, venue=cmd.venue,
                          symbol=cmd.symbol, side=cmd.side, order_type=cmd.order_type,
                          qty=cmd.qty, price=cmd.price, created_ts=cmd.exchange_ts)
        self.orders[order.client_order_id] = order
        self._sent[cmd.command_id] = _Sent(CommandType.CREATE, cmd.client_order_id,
                                           cmd.venue, cmd.symbol)
        return order

    def cancel_sent(self, cmd: CancelOrder) -> None:
        order = self.orders.get(cmd.client_order_id or "")
        if order is not None:
            order.cancel_sent = True
        self._sent[cmd.command_id] = _Sent(CommandType.CANCEL, cmd.client_order_id,
                                           cmd.venue, cmd.symbol)

    def amend_sent(self, cmd: AmendOrder) -> None:
        order = self.orders.get(cmd.client_order_id or "")
        sent = _Sent(CommandType.AMEND, cmd.client_order_id, cmd.venue, cmd.symbol)
        if order is not None:
            sent.old_price, sent.old_qty = order.price, order.qty
            order.price = cmd.new_price or order.price
            order.qty = cmd.new_qty or order.qty
        self._sent[cmd.command_id] = sent

    def cancel_all_sent(self, cmd: CancelAllOrders) -> None:
        for order in self.open(cmd.venue, cmd.symbol or None):
            order.cancel_sent = True
        self._sent[cmd.command_id] = _Sent(CommandType.CANCEL_ALL, None, cmd.venue, cmd.symbol)

    # ------------------------------------------------------------------ executions in

    def is_ours(self, event: Event) -> bool:
        if isinstance(event, OrderAck):
            return event.command_id in self._sent or self.ids.owns(event.command_id) \
                or self.ids.owns(event.client_order_id)
        if isinstance(event, OrderUpdate | Fill):
            return event.client_order_id in self.orders or self.ids.owns(event.client_order_id)
        return False

    def apply(self, event: Event) -> bool:
        """Update the orders from an execution event; False if it is not this strategy's."""
        if not self.is_ours(event):
            return False
        if isinstance(event, OrderAck):
            self._on_ack(event)
        elif isinstance(event, OrderUpdate):
            self._on_update(event)
        return True  # fills change nothing here: the order update that follows says it all

    def _on_ack(self, ack: OrderAck) -> None:
        sent = self._sent.pop(ack.command_id, None)
        kind = sent.command_type if sent else ack.command_type
        coid = ack.client_order_id or (sent.client_order_id if sent else None)
        order = self.orders.get(coid or "")
        ok = ack.status is AckStatus.ACCEPTED
        if kind is CommandType.CREATE and order is not None:
            if ok:
                order.acked = True
                order.order_id = ack.order_id or order.order_id
            else:
                del self.orders[order.client_order_id]
        elif kind is CommandType.CANCEL and order is not None:
            if ok:
                del self.orders[order.client_order_id]
            else:
                order.cancel_sent = False
        elif kind is CommandType.AMEND and order is not None and not ok and sent is not None:
            order.price = sent.old_price
            order.qty = sent.old_qty or order.qty
        elif kind is CommandType.CANCEL_ALL and ok:
            venue = sent.venue if sent else ack.venue
            symbol = sent.symbol if sent else ack.symbol
            for o in self.open(venue, symbol or None):
                del self.orders[o.client_order_id]

    def _on_update(self, update: OrderUpdate) -> None:
        if update.status in FINISHED:
            self.orders.pop(update.client_order_id, None)
            return
        order = self.orders.get(update.client_order_id)
        if order is None:  # an order of an earlier run of this strategy
            order = OpenOrder(client_order_id=update.client_order_id, venue=update.venue,
                              symbol=update.symbol, side=update.side,
                              order_type=update.order_type, qty=update.qty, price=update.price,
                              created_ts=update.created_ts)
            self.orders[order.client_order_id] = order
        order.acked = True
        order.status = update.status
        order.order_id = update.order_id or order.order_id
        order.filled_qty = update.filled_qty
        order.qty = update.qty
        order.price = update.price

    # ------------------------------------------------------------------ queries

    def open(self, venue: str | None = None, symbol: str | None = None) -> list[OpenOrder]:
        return [o for o in self.orders.values()
                if (venue is None or o.venue == venue) and (symbol is None or o.symbol == symbol)]
