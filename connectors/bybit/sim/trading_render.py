"""Engine state and events in Bybit v5's shapes: order items (REST `/v5/order/realtime` and the
private `order` topic are the same objects), `execution`, `wallet` and `position` items, and the
private-topic envelope, as in the docs examples (`../shared/fixtures/bybit/`).

Order ids are the engine's integers as strings. An order the engine expired (IOC remainder,
FOK not filled) is `Cancelled` with Bybit's `rejectReason`; a user cancel is `CancelByUser`.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from ttxt_kafka.connectors.bybit.order_errors import CANCEL_TYPES, END_REASONS
from ttxt_kafka.events import OrderStatus, OrderType, Side
from ttxt_kafka.matching import (
    EngineEvent,
    ExecType,
    OrderUpdated,
    PositionChanged,
    Reason,
    TradeFill,
)
from ttxt_kafka.matching import OrderState as EngineOrder
from ttxt_kafka.simulator.trading.render import ms, plain, regroup

_STATUS = {OrderStatus.NEW: "New", OrderStatus.PARTIALLY_FILLED: "PartiallyFilled",
           OrderStatus.FILLED: "Filled", OrderStatus.CANCELED: "Cancelled",
           OrderStatus.EXPIRED: "Cancelled", OrderStatus.REJECTED: "Rejected"}
_SIDES = {Side.BUY: "Buy", Side.SELL: "Sell"}


def envelope(topic: str, data: list[dict[str, Any]], ts_ms: int) -> dict[str, Any]:
    return {"id": uuid.uuid4().hex, "topic": topic, "creationTime": ts_ms, "data": data}


class BybitRender:
    def __init__(self, category: str) -> None:
        self.category = category

    def order(self, o: EngineOrder, reason: Reason | None = None,
              canceled_by_user: bool = False) -> dict[str, Any]:
        reject = END_REASONS.get(reason.value, "EC_NoError") if reason else "EC_NoError"
        cancel_type = "UNKNOWN"
        if canceled_by_user:
            cancel_type = "CancelByUser"
        elif reason is not None and reason.value in CANCEL_TYPES:
            cancel_type = CANCEL_TYPES[reason.value]
        avg = o.cum_quote / o.filled_qty if o.filled_qty else None
        market = o.order_type is OrderType.MARKET
        return {
            "category": self.category, "symbol": o.symbol, "orderId": str(o.order_id),
            "orderLinkId": o.client_order_id, "side": _SIDES[o.side],
            "orderType": "Market" if market else "Limit", "cancelType": cancel_type,
            "price": "" if market else plain(o.price), "qty": plain(o.qty),
            "timeInForce": "PostOnly" if o.post_only else o.time_in_force.value,
            "orderStatus": _STATUS[o.status], "rejectReason": reject,
            "reduceOnly": o.reduce_only, "leavesQty": plain(o.remaining if o.is_open
                                                            else Decimal(0)),
            "cumExecQty": plain(o.filled_qty), "cumExecValue": plain(o.cum_quote),
            "avgPrice": plain(avg) if avg is not None else "", "positionIdx": 0,
            "createdTime": str(ms(o.created_ts)), "updatedTime": str(ms(o.updated_ts)),
            "takeProfit": "", "stopLoss": "", "triggerPrice": "", "stopOrderType": "",
            "smpType": "None", "feeCurrency": "",
        }

    def execution(self, f: TradeFill, order: EngineOrder | None) -> dict[str, Any]:
        return {
            "category": self.category, "symbol": f.symbol, "orderId": str(f.order_id),
            "orderLinkId": f.client_order_id, "side": _SIDES[f.side], "execId": str(f.trade_id),
            "execPrice": plain(f.price), "execQty": plain(f.qty),
            "execValue": plain(f.price * f.qty), "execFee": plain(f.fee),
            "feeCurrency": f.fee_asset, "execType": "Trade", "isMaker": f.is_maker,
            "execTime": str(ms(f.ts)), "seq": f.seq,
            "orderPrice": plain(order.price) if order else "",
            "orderQty": plain(order.qty) if order else "",
            "leavesQty": plain(order.remaining) if order else "",
            "execPnl": plain(f.realized_pnl) if f.realized_pnl is not None else "0",
        }

    def coin(self, asset: str, total: Decimal, available: Decimal,
             locked: Decimal) -> dict[str, Any]:
        """A wallet coin. Spot orders lock coins (`locked`); linear margin is order/position IM."""
        linear = self.category == "linear"
        return {
            "coin": asset, "equity": plain(total), "walletBalance": plain(total),
            "availableToWithdraw": plain(available),
            "locked": "0" if linear else plain(locked),
            "totalOrderIM": plain(locked) if linear else "0", "totalPositionIM": "0",
            "unrealisedPnl": "0", "cumRealisedPnl": "0", "usdValue": "",
        }

    def wallet(self, coins: list[dict[str, Any]]) -> dict[str, Any]:
        return {"accountType": "UNIFIED", "totalEquity": "", "totalWalletBalance": "",
                "totalAvailableBalance": "", "coin": coins}

    def position(self, p: PositionChanged) -> dict[str, Any]:
        side = "Buy" if p.size > 0 else "Sell" if p.size < 0 else ""
        return {
            "category": self.category, "symbol": p.symbol, "side": side,
            "size": plain(abs(p.size)), "positionIdx": 0, "tradeMode": 0,
            "entryPrice": plain(p.entry_price), "avgPrice": plain(p.entry_price),
            "markPrice": plain(p.mark_price), "positionValue": plain(p.entry_value),
            "unrealisedPnl": plain(p.unrealized_pnl), "cumRealisedPnl": plain(p.realized_pnl),
            "leverage": plain(p.leverage), "liqPrice": "", "positionStatus": "Normal",
            "createdTime": str(ms(p.ts)), "updatedTime": str(ms(p.ts)), "seq": p.seq,
        }

    def stream(self, events: list[EngineEvent], account: str) -> list[dict[str, Any]]:
        """The private-topic messages one engine call produces: order, execution, wallet,
        position (each only when it has items)."""
        batch = regroup(events, account)
        out = []
        orders = []
        last_state: dict[int, EngineOrder] = {}
        for ev, _ in batch.reports:
            order = ev.order  # type: ignore[attr-defined]
            last_state[order.order_id] = order
            if isinstance(ev, OrderUpdated):
                orders.append(self.order(order, ev.reason,
                                         canceled_by_user=ev.exec_type is ExecType.CANCELED
                                         and ev.reason is None))
            else:
                orders.append(self.order(order))
        ts = ms(events[-1].ts) if events else 0
        if orders:
            out.append(envelope("order", orders, ts))
        if batch.fills:
            out.append(envelope("execution", [self.execution(f, last_state.get(f.order_id))
                                              for f in batch.fills], ts))
        if batch.balances:
            coins = [self.coin(b.asset, b.total, b.available, b.locked) for b in batch.balances]
            out.append(envelope("wallet", [self.wallet(coins)], ts))
        if batch.positions and self.category == "linear":
            out.append(envelope("position", [self.position(p) for p in batch.positions], ts))
        return out
