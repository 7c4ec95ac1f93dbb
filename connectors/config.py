"""Declarative connector configuration: YAML validated by pydantic.

    kafka:
      bootstrap_servers: 127.0.0.1:9092  # default: KAFKA_BOOTSTRAP_SERVERS, else the local one
      serialization:                     # default: TTXT_SERIALIZATION, TTXT_SCHEMA_REGISTRY_*
        format: confluent                #   single-object (default) | confluent
        schema_registry_url: http://127.0.0.1:8081/apis/ccompat/v7
    topic_prefix: ttxt
    connectors:
      - venue: binance                   # any registered venue (the README lists them)
        symbols: [BTC/USDT, ETHUSDT]     # normalized or native
        streams:
          book: {depth: 1000}            # or `book: true` for the venue's default depth
          trades: true
          klines: {intervals: [1m, 1h]}  # 1m 5m 15m 30m 1h 4h 1d
          bbo: true
        endpoints: {ws: ..., rest: ...}  # override to point at the simulator
        snapshot_interval: 60            # seconds between full book snapshots (0: never)
        trading: {mode: live}            # place the orders of ttxt.<venue>.orders

Every model forbids unknown keys, and `load_config` turns pydantic's errors into one message
naming each bad key by its path (`connectors[0].streams.book.depth: ...`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from ttxt_kafka import serialization, venues
from ttxt_kafka.bus.linger import LingerError, channel_lingers
from ttxt_kafka.topics import DEFAULT_PREFIX, TopicNameError, topic
from ttxt_kafka.venues import Part

KLINE_INTERVALS = ("1m", "5m", "15m", "30m", "1h", "4h", "1d")
Interval = Literal["1m", "5m", "15m", "30m", "1h", "4h", "1d"]


def _known_venue(value: Any) -> Any:
    """Venue choices come from the registry: an unknown one names every known venue."""
    if isinstance(value, str):
        venues.venue(value)  # raises VenueError (a ValueError: pydantic reports it by key)
    return value


Venue = Annotated[str, BeforeValidator(_known_venue)]


class ConfigError(ValueError):
    """A configuration that cannot be used; the message names every bad key."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BookStream(_Strict):
    depth: int | None = Field(default=None, description="levels per side (None: venue default)")


def _one_minute() -> list[Interval]:
    return ["1m"]


class KlineStream(_Strict):
    intervals: list[Interval] = Field(default_factory=_one_minute, min_length=1)


def _switch(value: Any) -> Any:
    """`book: true` means the defaults, `book: false` (or nothing) means off."""
    if value is True:
        return {}
    if value is False:
        return None
    return value


class Streams(_Strict):
    book: BookStream | None = None
    trades: bool = False
    klines: KlineStream | None = None
    bbo: bool = False

    @field_validator("book", "klines", mode="before")
    @classmethod
    def _on_off(cls, value: Any) -> Any:
        return _switch(value)

    @model_validator(mode="after")
    def _something(self) -> Streams:
        if not (self.book or self.trades or self.klines or self.bbo):
            raise ValueError("no stream enabled: set at least one of book, trades, klines, bbo")
        return self


class Endpoints(_Strict):
    ws: str | None = Field(default=None, description="WebSocket base, wss://stream.binance.com:9443")
    rest: str | None = Field(default=None, description="REST base, e.g. https://api.binance.com")

    @field_validator("ws")
    @classmethod
    def _ws_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("ws://", "wss://")):
            raise ValueError(f"must start with ws:// or wss://, got {value!r}")
        return value.rstrip("/") if value else value

    @field_validator("rest")
    @classmethod
    def _rest_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"must start with http:// or https://, got {value!r}")
        return value.rstrip("/") if value else value


class Reconnect(_Strict):
    initial_delay: float = Field(default=0.5, gt=0)
    max_delay: float = Field(default=30.0, gt=0)

    @model_validator(mode="after")
    def _order(self) -> Reconnect:
        if self.max_delay < self.initial_delay:
            raise ValueError("max_delay must be >= initial_delay")
        return self


_DECIMAL = re.compile(r"^[0-9]{1,30}(\.[0-9]{1,30})?$")


def _decimal_text(value: Any) -> str:
    """An exact decimal given as a string (a YAML float would already be rounded)."""
    if not isinstance(value, str) or not _DECIMAL.match(value):
        raise ValueError(f"{value!r} must be a decimal string such as \"0.001\" (quoted)")
    return value


DecimalText = Annotated[str, BeforeValidator(_decimal_text)]


def _paper_balances() -> dict[str, DecimalText]:
    return {"USDT": "10000"}


class PaperSettings(_Strict):
    """Paper trading: fills simulated locally from the connector's own books."""

    balances: dict[str, DecimalText] = Field(default_factory=_paper_balances)
    maker_fee: DecimalText = "0.001"
    taker_fee: DecimalText = "0.001"
    leverage: DecimalText = "1"


class TradingEndpoints(_Strict):
    """Override the private endpoints (default: the exchange's, or the market-data endpoints'
    host when those are overridden, e.g. the simulator)."""

    private_ws: str | None = Field(default=None, description="user data / private stream URL")
    trade_ws: str | None = Field(default=None, description="Bybit WS trade API URL")

    @field_validator("private_ws", "trade_ws")
    @classmethod
    def _scheme(cls, value: str | None) -> str | None:
        return Endpoints._ws_scheme(value)


class TradingConfig(_Strict):
    """`trading:` of a connector: place the orders of `ttxt.<venue>.orders`."""

    mode: Literal["live", "paper", "off"] = "live"
    credentials: str | None = Field(
        default=None, description="credentials name (default: the venue): env "
        "TTXT_<NAME>_API_KEY / TTXT_<NAME>_API_SECRET, else the secrets file's entry")
    secrets_file: str | None = None
    group_id: str | None = Field(default=None, description="consumer group of the orders topic")
    instance_id: str | None = Field(
        default=None, description="static group membership: a restart with the same id gets "
        "its partitions back at once (no wait for the session timeout); unique per process")
    dead_letter_topic: str | None = Field(default=None, description="default <orders topic>.dlq")
    recv_window_ms: int = Field(default=5000, ge=100, le=60000)
    max_retries: int = Field(default=3, ge=0, le=10, description="rate limit / busy / timeout")
    retry_delay: float = Field(default=0.25, gt=0, le=60)
    command_max_age: float = Field(
        default=60.0, ge=0, description="s: a command without its own expiry (expires_ts) is "
        "not sent once this much older than its creation time; acked REJECTED `expired` "
        "(0: no limit)")
    ws_trading: bool = Field(default=True, description="Bybit: orders over the WS trade API")
    keepalive_interval: float = Field(default=1800.0, gt=0, description="USD-M listen key PUT")
    sync_interval: float = Field(default=0.0, ge=0,
                                 description="s between REST wallet/open-order snapshots (0: "
                                 "at start and after reconnects only)")
    journal_margin: float = Field(default=300.0, ge=0, description="s of executions scanned "
                                  "before the first uncommitted command, for its ack")
    endpoints: TradingEndpoints = TradingEndpoints()
    paper: PaperSettings = PaperSettings()


class ConnectorConfig(_Strict):
    venue: Venue
    symbols: list[str] = Field(min_length=1)
    streams: Streams
    endpoints: Endpoints = Endpoints()  # frozen: one shared default is safe
    snapshot_interval: float = Field(default=60.0, ge=0, description="seconds; 0 = none")
    stale_timeout: float = Field(default=60.0, gt=0, description="silent this long -> reconnect")
    resync_timeout: float = Field(
        15.0, gt=0, description="a book still not rebuilt after this long -> reconnect")
    reconnect: Reconnect = Reconnect()
    heartbeat_interval: float = Field(default=20.0, gt=0,
                                      description="app-level ping period (Bybit, Gate.io)")
    max_streams_per_connection: int = Field(default=200, ge=1)
    rest_timeout: float = Field(default=10.0, gt=0)
    clock_drift_warning_ms: float = Field(default=1000.0, gt=0)
    trading: TradingConfig | None = None  # None: market data only, the orders topic unread

    @field_validator("symbols")
    @classmethod
    def _symbols(cls, value: list[str]) -> list[str]:
        bad = [s for s in value if not isinstance(s, str) or not s.strip() or " " in s.strip()]
        if bad:
            raise ValueError(f"invalid symbol(s) {bad}: use BASE/QUOTE or the exchange's symbol")
        if len(set(value)) != len(value):
            dup = sorted({s for s in value if value.count(s) > 1})
            raise ValueError(f"symbol(s) listed twice: {dup}")
        return [s.strip() for s in value]

    @model_validator(mode="after")
    def _depth_for_venue(self) -> ConnectorConfig:
        book = self.streams.book
        if book is not None and book.depth is not None:
            allowed = venues.venue(self.venue).book_depths
            if book.depth not in allowed:
                raise ValueError(
                    f"streams.book.depth {book.depth} is not offered by {self.venue}; "
                    f"use one of {', '.join(map(str, allowed))}"
                )
        return self

    @model_validator(mode="after")
    def _intervals_for_venue(self) -> ConnectorConfig:
        klines = self.streams.klines
        offered = venues.venue(self.venue).kline_intervals
        if klines is not None and (missing := [i for i in klines.intervals if i not in offered]):
            raise ValueError(f"streams.klines.intervals {missing} not streamed by {self.venue}; "
                             f"use {', '.join(offered)}")
        return self

    @model_validator(mode="after")
    def _live_needs_trading_parts(self) -> ConnectorConfig:
        spec = venues.venue(self.venue)
        if self.trading is not None and self.trading.mode == "live" and not spec.has(
                Part.GATEWAY):
            raise ValueError(f"{self.venue} has no live trading yet (market data only): use "
                             "trading.mode paper or off")
        return self

    @model_validator(mode="after")
    def _paper_needs_books(self) -> ConnectorConfig:
        if self.trading is not None and self.trading.mode == "paper" and not self.streams.book:
            raise ValueError("trading.mode paper fills orders from the connector's own books: "
                             "turn streams.book on")
        return self

    @property
    def book_depth(self) -> int:
        book = self.streams.book
        default = venues.venue(self.venue).default_depth
        return book.depth if book is not None and book.depth is not None else default


class SerializationSettings(_Strict):
    """How records are framed (`ttxt_kafka.serialization`): `kafka.serialization` of a
    `ttxt connect` file and of a pipeline. Unset keys: TTXT_SERIALIZATION, TTXT_SCHEMA_REGISTRY_*,
    TTXT_SUBJECT_NAME_STRATEGY, TTXT_SCHEMA_AUTO_REGISTER, else single-object; the file's keys
    win over the environment, `ttxt --serialization / --schema-registry` over the file."""

    format: Literal["single-object", "confluent"] | None = None
    schema_registry_url: str | None = None
    username: str | None = None
    password: str | None = Field(default=None, repr=False)
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    subject_name_strategy: Literal["topic", "record", "topic-record"] | None = None
    auto_register: bool | None = None

    @field_validator("schema_registry_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"must start with http:// or https://, got {value!r}")
        return value

    def apply(self, source: str = "config") -> serialization.Serialization:
        """Make the file's setting the process's (over the environment; the command line's
        flags still win) and return the setting in force; a combination that cannot work (the
        confluent format with no registry URL anywhere) is a ConfigError naming the key."""
        try:
            if not self.model_fields_set:
                return serialization.settings()
            return serialization.configure(
                format=self.format, registry_url=self.schema_registry_url,
                username=self.username, password=self.password, ca_file=self.ca_file,
                cert_file=self.cert_file, key_file=self.key_file,
                subject_strategy=self.subject_name_strategy, auto_register=self.auto_register)
        except serialization.SerializationError as exc:
            raise ConfigError(f"{source}: kafka.serialization: {exc}") from None


class KafkaSettings(_Strict):
    bootstrap_servers: str | None = None
    producer: dict[str, Any] = Field(default_factory=dict,
                                     description="extra aiokafka producer settings")
    linger_ms: dict[str, int] = Field(
        default_factory=dict,
        description="per channel: ms a record may wait to be batched (ttxt_kafka.bus.linger)")

    @field_validator("producer")
    @classmethod
    def _producer_linger(cls, value: dict[str, Any]) -> dict[str, Any]:
        try:
            channel_lingers(value)
        except LingerError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("linger_ms")
    @classmethod
    def _lingers(cls, value: dict[str, int]) -> dict[str, int]:
        try:
            channel_lingers(None, value)
        except LingerError as exc:
            raise ValueError(str(exc)) from None
        return value
    serialization: SerializationSettings = SerializationSettings()


class Config(_Strict):
    connectors: Annotated[list[ConnectorConfig], Field(min_length=1)]
    topic_prefix: str = DEFAULT_PREFIX
    kafka: KafkaSettings = KafkaSettings()

    @field_validator("topic_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        try:
            topic("venue", "book", value)  # raises on a prefix Kafka or our parser can't take
        except TopicNameError as exc:
            raise ValueError(str(exc)) from None
        return value


def _path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("function-after", "function-before") or "[" in str(part):
            continue  # pydantic's internal validator names, not keys
        else:
            out += f".{part}" if out else str(part)
    return out or "(top level)"


def format_errors(exc: ValidationError, source: str = "config") -> str:
    lines = []
    for err in exc.errors(include_url=False):
        where = _path(tuple(err["loc"]))
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown key (check the spelling; see the config reference in the README)"
        elif err["type"] == "missing":
            msg = "required key is missing"
        lines.append(f"  {where}: {msg}")
    return f"{source}: invalid configuration\n" + "\n".join(lines)


def parse_config(data: Any, source: str = "config") -> Config:
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping with a `connectors` list at the top")
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_errors(exc, source)) from None


def load_config(path: str | Path) -> Config:
    """Read and validate a YAML config file; `ConfigError` names each bad key."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read the config: {exc.strerror or exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{p}: not valid YAML: {exc}") from None
    return parse_config(data, str(p))
