"""Types of the compiled trade reader (`_trades.c`)."""

from collections.abc import Callable

from ttxt_kafka.events import Event, Side, Trade, Trades

class Reader:
    def __init__(self, venue: str, places: dict[str, tuple[int, int]],
                 default_places: tuple[int, int], name: Callable[[str], str], buy: Side,
                 sell: Side, new_trade: Callable[..., Trade],
                 new_trades: Callable[..., Trades]) -> None: ...
    def __call__(self, raw: str, receive_ts: int) -> list[Event] | None: ...
