"""The venue registry: everything the platform knows about a venue, looked up by its name.

A venue is an exchange plus a market (`binance`, `binance_usdm`, `bybit_spot`, ...). Each
exchange's folder `connectors/<exchange>/` describes its venues in `venue.py` as `VenueSpec`s and
registers them with one line in `pyproject.toml`:

    [project.entry-points."ttxt_kafka.venues"]
    binance = "ttxt_kafka.connectors.binance.venue:VENUES"

Nothing else names an exchange: the connector runner, trading, paper mode, the simulator and the
backtests ask this registry. A spec holds plain facts (market kind, book depths, fees, client
order id rule, kline intervals, heartbeat) and *parts*: where the code playing each role lives,
as `"module:attribute"`, imported only when asked for. This module imports no exchange and
nothing above the core; `register` also takes specs from a test or a plugin at run time.
"""

from __future__ import annotations

import importlib
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from importlib.metadata import entry_points
from typing import Any

ENTRY_POINT_GROUP = "ttxt_kafka.venues"


class Market(StrEnum):
    SPOT = "spot"
    LINEAR = "linear"  # derivatives margined and settled in the quote asset
    INVERSE = "inverse"  # derivatives margined in the base asset


class Part(StrEnum):
    """The roles an exchange's code plays; a spec maps each it provides to `module:attribute`."""

    CONNECTOR = "connector"  # Connector subclass: (ConnectorConfig, IQueue)
    NORMALIZER = "normalizer"  # public normalizer class: () -> parses instruments, books, trades
    GATEWAY = "gateway"  # factory (trader, credentials) -> trading Gateway
    PRIVATE_STREAM = "private_stream"  # factory (trader, credentials) -> PrivateStream
    SIM_PROTOCOL = "sim_protocol"  # simulator: public WS/REST routes, class (simulator)
    SIM_CAPTURE = "sim_capture"  # simulator: capture dialect, class (spec)
    SIM_SYNTHETIC = "sim_synthetic"  # simulator: synthetic market formatter, class (spec, ...)
    SIM_TRADING = "sim_trading"  # simulator: private/trading side, class (simulator, exchange)


class VenueError(ValueError):
    """An unknown venue, or a part a venue does not provide; the message says which exist."""


@dataclass(frozen=True, slots=True)
class Fees:
    """Regular-tier maker/taker rates (a negative rate is a rebate). Tiers differ: check yours."""

    maker: Decimal
    taker: Decimal


@dataclass(frozen=True, slots=True)
class ClientIdRule:
    """What the exchange accepts as a client order id."""

    pattern: str  # a full-match regular expression
    allowed: str  # the same in words, for error messages: "1-36 letters, digits, _ and -"
    reserved_prefixes: tuple[str, ...] = ()  # prefixes the exchange gives its own orders
    owner: str = "the exchange"  # who reserves them, for messages
    # Where the exchange demands a prefix on every client id (Gate.io's `t-`), the ids made for
    # commands that name none start with it; `max_length` is the longest id the pattern takes.
    required_prefix: str = ""
    max_length: int = 36

    def problem(self, client_order_id: str) -> str | None:
        """Why the exchange would refuse this id, or None if it is fine."""
        if not re.fullmatch(self.pattern, client_order_id):
            return f"client order id {client_order_id!r} must be {self.allowed}"
        if client_order_id.startswith(self.reserved_prefixes):
            return f"client order id {client_order_id!r} uses a prefix {self.owner} reserves"
        return None


@dataclass(frozen=True, slots=True)
class Heartbeat:
    """Who pings whom. `server_ping`: the exchange sends WS pings every this many seconds and
    drops a client that has not answered within `pong_timeout`; None: the client pings (an
    application message every `client_ping` seconds). `server_heartbeat`: the exchange sends an
    application heartbeat message every this many seconds on a channel the client subscribes
    (Coinbase's `heartbeats`), and wants nothing back."""

    server_ping: float | None = None
    pong_timeout: float | None = None
    client_ping: float | None = None
    server_heartbeat: float | None = None


@dataclass(frozen=True)
class VenueSpec:
    name: str  # as in topic names: ttxt.<name>.book
    exchange: str  # the folder connectors/<exchange>/
    market: Market
    category: str  # the exchange's own word for the market (Binance "usdm", Bybit "linear")
    book_depths: tuple[int, ...]  # levels per side the book stream / snapshot accepts
    default_depth: int
    fees: Fees
    client_ids: ClientIdRule
    kline_intervals: tuple[str, ...]  # platform interval names the exchange streams
    heartbeat: Heartbeat
    public_ws_path: str  # the public WS endpoint's path on the exchange's host
    parts: Mapping[str, str] = field(default_factory=dict)  # Part -> "module:attribute"
    # The finest decimals the exchange prints for amounts (its asset precision): numbers with
    # more are impossible (connectors/base/numbers.py), whatever the order filters say.
    asset_decimals: int = 8

    def __post_init__(self) -> None:
        if self.default_depth not in self.book_depths:
            raise VenueError(f"venue {self.name!r}: default depth {self.default_depth} is not "
                             f"one of its book depths {self.book_depths}")
        unknown = set(self.parts) - {p.value for p in Part}
        if unknown:
            raise VenueError(f"venue {self.name!r}: unknown parts {sorted(unknown)}; "
                             f"the parts are {', '.join(p.value for p in Part)}")

    @property
    def derivatives(self) -> bool:
        return self.market is not Market.SPOT

    def has(self, part: Part | str) -> bool:
        return Part(part).value in self.parts

    def part(self, part: Part | str) -> Any:
        """The object playing `part` for this venue (imported on first use)."""
        role = Part(part).value
        path = self.parts.get(role)
        if path is None:
            given = ", ".join(sorted(self.parts)) or "none"
            raise VenueError(f"venue {self.name!r} provides no {role!r} part (it provides: "
                             f"{given}); add it to the VenueSpec in connectors/{self.exchange}/"
                             "venue.py")
        module_name, _, attribute = path.partition(":")
        try:
            return getattr(importlib.import_module(module_name), attribute)
        except (ImportError, AttributeError) as exc:
            raise VenueError(f"venue {self.name!r}: its {role!r} part {path!r} cannot be "
                             f"loaded: {exc}") from exc


_specs: dict[str, VenueSpec] = {}
_loaded = False
_lock = threading.Lock()


def register(*specs: VenueSpec, replace: bool = False) -> None:
    """Make venues known. A name registered twice is an error unless `replace`."""
    for spec in specs:
        if not isinstance(spec, VenueSpec):
            raise VenueError(f"not a VenueSpec: {spec!r}")
        current = _specs.get(spec.name)
        if current is not None and current != spec and not replace:
            raise VenueError(f"venue {spec.name!r} is registered already "
                             f"(by connectors/{current.exchange})")
        _specs[spec.name] = spec


def unregister(name: str) -> None:
    _specs.pop(name, None)


def _load_installed() -> None:
    """The venues the installed distributions declare (entry point group `ttxt_kafka.venues`)."""
    global _loaded
    if _loaded:
        return
    with _lock:
        if _loaded:
            return
        for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            loaded = ep.load()
            register(*(loaded if isinstance(loaded, Iterable) else [loaded]))
        _loaded = True


def venue(name: str) -> VenueSpec:
    """The spec of a venue; an unknown name is a `VenueError` naming the known ones."""
    spec = find(name)
    if spec is None:
        raise VenueError(f"unknown venue {name!r}; known venues: {', '.join(names())}")
    return spec


def find(name: str) -> VenueSpec | None:
    """The spec of a venue, or None for a name the registry does not know."""
    _load_installed()
    return _specs.get(name)


def names() -> tuple[str, ...]:
    _load_installed()
    return tuple(sorted(_specs))


def all_venues() -> tuple[VenueSpec, ...]:
    return tuple(_specs[n] for n in names())


def exchanges() -> tuple[str, ...]:
    return tuple(sorted({s.exchange for s in all_venues()}))


def of_exchange(exchange: str) -> tuple[VenueSpec, ...]:
    """The venues of one exchange; an unknown exchange is a `VenueError` naming the known ones."""
    found = tuple(s for s in all_venues() if s.exchange == exchange)
    if not found:
        raise VenueError(f"unknown exchange {exchange!r}; known exchanges: "
                         f"{', '.join(exchanges())}")
    return found
