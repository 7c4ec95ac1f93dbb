"""Which instrument rules a backtest checks orders against: configured, recorded, or inferred.

In that order of precedence, per (venue, symbol):

1. **configured** (`BacktestConfig.instruments`, `--instrument`): the user knows best;
2. **recorded**: `InstrumentInfo` events in the input (the connector publishes them on
   `ttxt.<venue>.instruments`; record that topic too to have them). A later one replaces an
   earlier one, as a listing change would;
3. **inferred** from the market data seen before the symbol's first order: base and quote from
   `BASE/QUOTE`, tick and lot from the finest decimal place of the price and quantity strings
   (exchanges send their own precision, often padded: `"60000.10000000"`), no minimum size or
   notional. Permissive on purpose: an order the real venue would take is never refused, and
   prices or sizes finer than anything the venue ever printed are.
"""

from __future__ import annotations

from decimal import Decimal

from ttxt_kafka.events import Event, InstrumentInfo, MarketType, OrderBook, Trades

Key = tuple[str, str]  # (venue, symbol)


def decimals(text: str) -> int:
    """Digits after the decimal point of a plain decimal string."""
    dot = text.find(".")
    return 0 if dot < 0 else len(text) - dot - 1


def step(places: int | None) -> str:
    """10**-places as a plain string ("0" when nothing was seen: no check)."""
    return "0" if places is None else format(Decimal(1).scaleb(-places), "f")


def split_symbol(symbol: str) -> tuple[str, str]:
    """`BTC/USDT` -> (BTC, USDT); a dated future `BTC/USDT-240628` settles in USDT."""
    base, _, quote = symbol.partition("/")
    return base, quote.split("-")[0]


class Instruments:
    def __init__(self, configured: list[InstrumentInfo] | None = None) -> None:
        self.configured: dict[Key, InstrumentInfo] = {
            (i.venue, i.symbol): i for i in configured or ()}
        self.recorded: dict[Key, InstrumentInfo] = {}
        self.natives: dict[Key, str] = {}
        self._price_places: dict[Key, int] = {}
        self._qty_places: dict[Key, int] = {}
        self.fixed: dict[Key, tuple[InstrumentInfo, str]] = {}  # resolved: (info, source)

    def observe(self, event: Event) -> bool:
        """Learn from an input event; True if it is recorded instrument info that changes a
        symbol whose rules were already resolved (the engine must take the new ones)."""
        key = (event.venue, event.symbol)
        if event.native_symbol and key not in self.natives:
            self.natives[key] = event.native_symbol
        if isinstance(event, InstrumentInfo):
            self.recorded[key] = event
            if key in self.fixed and key not in self.configured:
                self.fixed[key] = (event, "recorded")
                return True
            return False
        if key in self.fixed:
            return False
        if isinstance(event, OrderBook):
            self._widen(key, [lv[0] for side in (event.bids, event.asks) for lv in side],
                        [lv[1] for side in (event.bids, event.asks) for lv in side])
        elif isinstance(event, Trades):
            self._widen(key, [t.price for t in event.trades], [t.qty for t in event.trades])
        return False

    def _widen(self, key: Key, prices: list[str], qtys: list[str]) -> None:
        if prices:
            self._price_places[key] = max(self._price_places.get(key, 0),
                                          max(map(decimals, prices)))
        if qtys:
            self._qty_places[key] = max(self._qty_places.get(key, 0), max(map(decimals, qtys)))

    def resolve(self, venue: str, symbol: str, market_type: MarketType) -> tuple[InstrumentInfo,
                                                                                 str]:
        """The rules for the symbol's orders from now on, and where they come from."""
        key = (venue, symbol)
        found = self.fixed.get(key)
        if found is None:
            found = self.fixed[key] = self._choose(key, market_type)
        return found

    def native(self, venue: str, symbol: str) -> str:
        return self.natives.get((venue, symbol)) or symbol.replace("/", "")

    def _choose(self, key: Key, market_type: MarketType) -> tuple[InstrumentInfo, str]:
        if key in self.configured:
            return self.configured[key], "configured"
        if key in self.recorded:
            return self.recorded[key], "recorded"
        venue, symbol = key
        base, quote = split_symbol(symbol)
        price_places = self._price_places.get(key)
        qty_places = self._qty_places.get(key)
        info = InstrumentInfo(
            venue=venue, symbol=symbol, native_symbol=self.native(venue, symbol),
            exchange_ts=0, receive_ts=0, market_type=market_type, base=base, quote=quote,
            trading=True, tick_size=step(price_places), lot_size=step(qty_places),
            min_qty="0")
        return info, "inferred"
