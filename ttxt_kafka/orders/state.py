"""What a connector knows of an order it placed: enough to amend it where the exchange needs
the whole order again (Binance spot cancel-replace, Binance USD-M modify wants side and both
price and quantity) and to check an amendment (new quantity above what is filled)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ttxt_kafka.events import OrderType, Side, TimeInForce


@dataclass(frozen=True, slots=True, kw_only=True)
class KnownOrder:
    client_order_id: str
    order_id: str | None
    side: Side
    order_type: OrderType
    time_in_force: TimeInForce = TimeInForce.GTC
    post_only: bool = False
    reduce_only: bool = False
    price: Decimal | None
    qty: Decimal
    filled_qty: Decimal = Decimal(0)
