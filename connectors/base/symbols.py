"""Symbol mapping built from the exchange's instrument info: normalized `BASE/QUOTE` <-> native.

Spot pairs and perpetuals are `BASE/QUOTE` (the venue already says spot or derivatives); dated
futures add their expiry as the exchange writes it: `BTC/USDT-240628`.
"""

from __future__ import annotations

from collections.abc import Iterable

from ttxt_kafka.events import InstrumentInfo

# Quote assets tried, longest first, when an instrument list gives no base/quote.
_QUOTES = ("FDUSD", "USDT", "USDC", "BUSD", "TUSD", "USD", "EUR", "TRY", "BTC", "ETH", "BNB")


def normalized_symbol(base: str, quote: str, suffix: str = "") -> str:
    return f"{base}/{quote}-{suffix}" if suffix else f"{base}/{quote}"


def guess_base_quote(native: str) -> tuple[str, str]:
    """Split a native symbol such as BTCUSDT at a known quote asset (fallback only)."""
    for quote in _QUOTES:
        if native.endswith(quote) and len(native) > len(quote):
            return native[: -len(quote)], quote
    return native, ""


class UnknownSymbolError(KeyError):
    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown symbol"


class SymbolMap:
    """Normalized <-> native symbols of one venue, and the instrument info behind them."""

    def __init__(self, venue: str, instruments: Iterable[InstrumentInfo] = ()) -> None:
        self.venue = venue
        self.to_native: dict[str, str] = {}
        self.to_normalized: dict[str, str] = {}
        self.instruments: dict[str, InstrumentInfo] = {}  # by normalized symbol
        for info in instruments:
            self.add(info)

    def add(self, info: InstrumentInfo) -> None:
        # A clash (two natives for one name) keeps the trading one: it is what users mean.
        old = self.instruments.get(info.symbol)
        if old is not None and old.trading and not info.trading:
            self.to_normalized.setdefault(info.native_symbol, info.native_symbol)
            return
        self.to_native[info.symbol] = info.native_symbol
        self.to_normalized[info.native_symbol] = info.symbol
        self.instruments[info.symbol] = info

    def __len__(self) -> int:
        return len(self.instruments)

    def __contains__(self, symbol: object) -> bool:
        return symbol in self.to_native or symbol in self.to_normalized

    def normalized(self, native: str) -> str:
        """The normalized symbol of a native one (the native itself if unknown)."""
        return self.to_normalized.get(native, native)

    def resolve(self, symbol: str) -> tuple[str, str]:
        """(normalized, native) of a symbol given either way (`BTC/USDT` or `BTCUSDT`)."""
        if symbol in self.to_native:
            return symbol, self.to_native[symbol]
        upper = symbol.upper()
        if upper in self.to_native:
            return upper, self.to_native[upper]
        for native in (symbol, upper, upper.replace("/", ""), upper.replace("/", "-")):
            if native in self.to_normalized:
                return self.to_normalized[native], native
        close = sorted(s for s in self.to_native if s.split("/")[0] == upper.split("/")[0])[:5]
        hint = f"; similar: {', '.join(close)}" if close else ""
        raise UnknownSymbolError(
            f"symbol {symbol!r} is not listed on {self.venue} "
            f"({len(self.instruments)} instruments known){hint}"
        )
