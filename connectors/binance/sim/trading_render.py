"""Engine state and events in Binance's shapes: REST order objects, account bodies, and the user
data events (spot executionReport / outboundAccountPosition, USD-M ORDER_TRADE_UPDATE /
ACCOUNT_UPDATE), field for field as the docs show them (`../shared/fixtures/binance/`).

Spot prints 8 decimals; USD-M prints plain numbers. A cancel's executionReport carries the
cancel request's own id in `c` and the order's in `C`, as Binance does.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

from ttxt_kafka.events import OrderStatus, OrderType
from ttxt_kafka.matching import (
    EngineEvent,
    ExecType,
    OrderAccepted,
    OrderState,
    OrderUpdated,
    PositionChanged,
    TradeFill,
)
from ttxt_kafka.simulator.trading.render import Batch, fixed8, ms, plain, regroup

_EXEC = {ExecType.NEW: "NEW", ExecType.TRADE: "TRADE", ExecType.CANCELED: "CANCELED",
         ExecType.EXPIRED: "EXPIRED"}
_cancel_ids = itertools.count(1)


def _avg(order: OrderState) -> Decimal | None:
    return order.cum_quote / order.filled_qty if order.filled_qty else None


class BinanceRender:
    def __init__(self, futures: bool) -> None:
        self.futures = futures
        self.num = plain if futures else fixed8

    # ------------------------------------------------------------------ REST objects

    def order_type(self, order: OrderState) -> str:
        if order.order_type is OrderType.MARKET:
            return "MARKET"
        return "LIMIT_MAKER" if order.post_only and not self.futures else "LIMIT"

    def tif(self, order: OrderState) -> str:
        if order.post_only:
            return "GTX" if self.futures else "GTC"
        return order.time_in_force.value

    def order(self, order: OrderState, *, transact: bool = False) -> dict[str, Any]:
        """GET/DELETE order body; `transact`: the POST order (RESULT) shape."""
        n = self.num
        if self.futures:
            return {
                "orderId": order.order_id, "symbol": order.symbol, "status": order.status.value,
                "clientOrderId": order.client_order_id, "price": n(order.price or Decimal(0)),
                "avgPrice": n(_avg(order) or Decimal(0)), "origQty": n(order.qty),
                "executedQty": n(order.filled_qty), "cumQty": n(order.filled_qty),
                "cumQuote": n(order.cum_quote), "timeInForce": self.tif(order),
                "type": self.order_type(order), "reduceOnly": order.reduce_only,
                "closePosition": False, "side": order.side.value, "positionSide": "BOTH",
                "stopPrice": "0", "workingType": "CONTRACT_PRICE", "priceProtect": False,
                "origType": self.order_type(order), "priceMatch": "NONE",
                "selfTradePreventionMode": "NONE", "goodTillDate": 0,
                "time": ms(order.created_ts), "updateTime": ms(order.updated_ts),
            }
        body: dict[str, Any] = {
            "symbol": order.symbol, "orderId": order.order_id, "orderListId": -1,
            "clientOrderId": order.client_order_id,
        }
        if transact:
            body["transactTime"] = ms(order.updated_ts)
        body |= {
            "price": n(order.price), "origQty": n(order.qty), "executedQty": n(order.filled_qty),
            "origQuoteOrderQty": n(Decimal(0)), "cummulativeQuoteQty": n(order.cum_quote),
            "status": order.status.value, "timeInForce": self.tif(order),
            "type": self.order_type(order), "side": order.side.value,
        }
        if not transact:
            body |= {"stopPrice": n(Decimal(0)), "icebergQty": n(Decimal(0)),
                     "time": ms(order.created_ts), "updateTime": ms(order.updated_ts),
                     "isWorking": order.is_open}
        body |= {"workingTime": ms(order.created_ts), "selfTradePreventionMode": "NONE"}
        return body

    def spot_account(self, balances: dict[str, tuple[Decimal, Decimal, Decimal]],
                     now_ms: int) -> dict[str, Any]:
        return {
            "makerCommission": 10, "takerCommission": 10, "buyerCommission": 0,
            "sellerCommission": 0, "canTrade": True, "canWithdraw": True, "canDeposit": True,
            "brokered": False, "requireSelfTradePrevention": False, "preventSor": False,
            "updateTime": now_ms, "accountType": "SPOT",
            "balances": [{"asset": a, "free": fixed8(avail), "locked": fixed8(locked)}
                         for a, (_, avail, locked) in sorted(balances.items())],
            "permissions": ["SPOT"], "uid": 1,
        }

    def usdm_account(self, balances: dict[str, tuple[Decimal, Decimal, Decimal]],
                     positions: list[PositionChanged], now_ms: int) -> dict[str, Any]:
        assets = [{
            "asset": a, "walletBalance": plain(total), "unrealizedProfit": "0",
            "marginBalance": plain(total), "maintMargin": "0", "initialMargin": plain(locked),
            "positionInitialMargin": "0", "openOrderInitialMargin": "0",
            "crossWalletBalance": plain(total), "crossUnPnl": "0",
            "availableBalance": plain(avail), "maxWithdrawAmount": plain(avail),
            "updateTime": now_ms} for a, (total, avail, locked) in sorted(balances.items())]
        total = sum((b[0] for b in balances.values()), Decimal(0))
        return {"totalInitialMargin": "0", "totalWalletBalance": plain(total),
                "totalMarginBalance": plain(total), "availableBalance": plain(
                    sum((b[1] for b in balances.values()), Decimal(0))),
                "assets": assets, "positions": [self.position_risk(p, now_ms)
                                                for p in positions]}

    def position_risk(self, p: PositionChanged, now_ms: int) -> dict[str, Any]:
        return {
            "symbol": p.symbol, "positionSide": "BOTH", "positionAmt": plain(p.size),
            "entryPrice": plain(p.entry_price), "breakEvenPrice": "0",
            "markPrice": plain(p.mark_price), "unRealizedProfit": plain(p.unrealized_pnl),
            "liquidationPrice": "0", "isolatedMargin": "0", "notional": plain(p.entry_value),
            "marginAsset": "USDT", "isolatedWallet": "0", "initialMargin": "0",
            "maintMargin": "0", "adl": 0, "updateTime": now_ms,
        }

    # ------------------------------------------------------------------ user data events

    def user_data(self, events: list[EngineEvent], account: str) -> list[dict[str, Any]]:
        """The user data events one engine call produces, in order."""
        batch = regroup(events, account)
        out = [self._report(ev, trade) for ev, trade in batch.reports]
        if self.futures:
            if batch.fills and (batch.balances or batch.positions):
                out.append(self._account_update(batch))
        elif batch.balances:
            ts = ms(batch.balances[-1].ts)
            out.append({"e": "outboundAccountPosition", "E": ts, "u": ts, "B": [
                {"a": b.asset, "f": fixed8(b.available), "l": fixed8(b.locked)}
                for b in batch.balances]})
        return out

    def _report(self, ev: EngineEvent, trade: TradeFill | None) -> dict[str, Any]:
        assert isinstance(ev, OrderAccepted | OrderUpdated)
        order = ev.order
        if isinstance(ev, OrderAccepted):
            exec_type = "NEW"
        elif ev.exec_type is ExecType.AMENDED:
            exec_type = "AMENDMENT" if self.futures else "REPLACED"
        else:
            exec_type = _EXEC[ev.exec_type]
        if self.futures:
            return self._order_trade_update(order, exec_type, trade, ev.ts)
        return self._execution_report(order, exec_type, trade, ev.ts)

    def _execution_report(self, order: OrderState, exec_type: str, trade: TradeFill | None,
                          ts: int) -> dict[str, Any]:
        n = fixed8
        cid, orig = order.client_order_id, ""
        if exec_type == "CANCELED":  # the cancel request's id in c, the order's in C
            cid, orig = f"sim-cancel-{next(_cancel_ids)}", order.client_order_id
        return {
            "e": "executionReport", "E": ms(ts), "s": order.symbol, "c": cid,
            "S": order.side.value, "o": self.order_type(order), "f": self.tif(order),
            "q": n(order.qty), "p": n(order.price), "P": n(None), "F": n(None), "g": -1,
            "C": orig, "x": exec_type, "X": order.status.value, "r": "NONE",
            "i": order.order_id, "l": n(trade.qty if trade else None),
            "z": n(order.filled_qty), "L": n(trade.price if trade else None),
            "n": n(trade.fee) if trade else "0", "N": trade.fee_asset if trade else None,
            "T": ms(ts), "t": trade.trade_id if trade else -1, "I": ts,
            "w": order.is_open, "m": trade.is_maker if trade else False, "M": False,
            "O": ms(order.created_ts), "Z": n(order.cum_quote),
            "Y": n(trade.qty * trade.price if trade else None), "Q": n(None),
            "W": ms(order.created_ts), "V": "NONE",
        }

    def _order_trade_update(self, order: OrderState, exec_type: str, trade: TradeFill | None,
                            ts: int) -> dict[str, Any]:
        n = plain
        expire = "0"
        if order.status is OrderStatus.EXPIRED:
            expire = "1"
        return {"e": "ORDER_TRADE_UPDATE", "E": ms(ts), "T": ms(ts), "o": {
            "s": order.symbol, "c": order.client_order_id, "S": order.side.value,
            "o": self.order_type(order), "f": self.tif(order), "q": n(order.qty),
            "p": n(order.price), "ap": n(_avg(order)), "sp": "0", "x": exec_type,
            "X": order.status.value, "i": order.order_id,
            "l": n(trade.qty if trade else None), "z": n(order.filled_qty),
            "L": n(trade.price if trade else None),
            "N": trade.fee_asset if trade else "USDT", "n": n(trade.fee if trade else None),
            "T": ms(ts), "t": trade.trade_id if trade else 0, "b": "0", "a": "0",
            "m": trade.is_maker if trade else False, "R": order.reduce_only,
            "wt": "CONTRACT_PRICE", "ot": self.order_type(order), "ps": "BOTH", "cp": False,
            "rp": n(trade.realized_pnl if trade else None), "pP": False, "si": 0, "ss": 0,
            "V": "NONE", "pm": "NONE", "gtd": 0, "er": expire}}

    def _account_update(self, batch: Batch) -> dict[str, Any]:
        ts = ms((batch.balances or batch.positions)[-1].ts)  # type: ignore[operator]
        return {"e": "ACCOUNT_UPDATE", "E": ts, "T": ts, "a": {
            "m": "ORDER",
            "B": [{"a": b.asset, "wb": plain(b.total), "cw": plain(b.total), "bc": "0"}
                  for b in batch.balances],
            "P": [{"s": p.symbol, "pa": plain(p.size), "ep": plain(p.entry_price), "bep": "0",
                   "cr": plain(p.realized_pnl), "up": plain(p.unrealized_pnl), "mt": "cross",
                   "iw": "0", "ps": "BOTH"} for p in batch.positions]}}
