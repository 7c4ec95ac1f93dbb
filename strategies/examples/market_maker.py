"""Market maker: a bid and an ask around the mid, requoted when the mid moves, canceled on stop.

It only sends commands to `ttxt.<venue>.orders`. Whether they reach the exchange, are filled on
paper from the book, or go to a backtest's matching engine is decided by what consumes them
(the connector's trading mode, or the backtest's sink) — this code does not change.

    ttxt strategy run strategies.examples.market_maker:MarketMaker \\
        --venue binance --symbol BTC/USDT --param spread_bps=8 --param size=0.001
"""

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from ttxt_kafka.events import OrderBook, Side
from ttxt_kafka.strategies import Strategy


class MarketMaker(Strategy):
    venues = ["binance"]
    symbols = ["BTC/USDT"]
    channels = ["book", "executions"]
    spread_bps = Decimal("10")  # distance from bid to ask, in basis points of the mid
    size = Decimal("0.001")  # quantity of each quote
    requote_bps = Decimal("2")  # requote once the mid moved this far from the quoted mid
    tick = Decimal("0.01")  # price increment: bids round down, asks up

    def on_start(self) -> None:
        self.quoted_mid: dict[str, Decimal] = {}

    def on_orderbook(self, event: OrderBook) -> None:
        mid = self.ctx.book(event.symbol).mid()
        last = self.quoted_mid.get(event.symbol)
        if mid is None or (last is not None and abs(mid - last) * 10_000 < self.requote_bps * last):
            return
        self.quoted_mid[event.symbol] = mid
        half = mid * self.spread_bps / 20_000
        prices = {Side.BUY: self._round(mid - half, ROUND_FLOOR),
                  Side.SELL: self._round(mid + half, ROUND_CEILING)}
        quotes = {o.side: o for o in self.ctx.open_orders(event.symbol) if not o.cancel_sent}
        for side, price in prices.items():
            quote = quotes.get(side)
            if quote is None:
                self.ctx.order(side, event.symbol, self.size, price, post_only=True)
            elif quote.price is None or Decimal(quote.price) != price:
                self.ctx.amend(quote, price=price)

    def on_symbols_lost(self, symbols: list[tuple[str, str]]) -> None:
        for venue, symbol in symbols:  # another instance quotes them now
            self.quoted_mid.pop(symbol, None)
            for order in self.ctx.open_orders(symbol, venue):
                self.ctx.cancel(order)

    def on_stop(self) -> None:
        for order in self.ctx.open_orders():
            self.ctx.cancel(order)

    def _round(self, price: Decimal, rounding: str) -> Decimal:
        return (price / self.tick).to_integral_value(rounding) * self.tick
